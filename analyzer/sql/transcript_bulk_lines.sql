-- The lines of the files read by transcript_bulk_read.sql, after redaction (view _bulk_text), with their line
-- numbers; the last part of a file is the text after its last newline (empty, or an unterminated line).
-- `_bulk_ends` tells per file how many parts there are and that last part, for the caller to decide on it.
create or replace temp table _bulk_lines as
select source_id, path as source_path, unnest(parts) as line, generate_subscripts(parts, 1) as line_no
from (select source_id, path, string_split(text, chr(10)) as parts from _bulk_text);
create or replace temp table _bulk_ends as
select l.source_id, r.pos, r.nbytes, l.line_no as n_parts, l.line as tail
from _bulk_lines l
join (select source_id, max(line_no) as n from _bulk_lines group by source_id) m
  on m.source_id = l.source_id and m.n = l.line_no
join _bulk_text r on r.source_id = l.source_id;
