-- The normaliser's input `batch(line_no, line, source_id, source_path)` for the bulk path: the first n_lines
-- lines of each file (`_bulk_keep(source_id, n_lines)`: the complete lines, plus an unterminated last line when
-- it is a complete record and the ingest is final, as the chunked path decides). Lines lack their newline,
-- which the normaliser ignores. A view: the normaliser reads it once.
create or replace temp view batch as
select l.source_id, l.source_path, l.line_no, l.line
from _bulk_lines l
join _bulk_keep k on k.source_id = l.source_id and l.line_no <= k.n_lines
