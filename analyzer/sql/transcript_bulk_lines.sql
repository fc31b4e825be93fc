-- The lines of the bulk files that may hold a credential, which Python read and redacted itself
-- (analyzer.ingest._bulk_store_tx; relation `_bulk_clean(source_id, path, text)`), with their line numbers. The
-- other files' lines never reach the main connection: the reader normalised them (transcript_bulk_prepare.sql).
create or replace temp table _bulk_lines as
select source_id, path as source_path, unnest(parts) as line, generate_subscripts(parts, 1) as line_no
from (select source_id, path, string_split(text, chr(10)) as parts from _bulk_clean)
