-- Transcript files new to the store, read whole by DuckDB in one statement (analyzer.ingest._bulk_store):
-- handing thousands of small files to DuckDB as Arrow tables cost more than DuckDB's own JSON parsing.
-- Input: `_bulk_files(source_id, pos, path, size)` and the list of their paths as $paths. read_text fails the
-- whole statement on bytes that are not UTF-8; then transcript_bulk_read_blob.sql reads them instead.
-- Each file is cut at the size it had when it was looked at (a writer may be appending: the rest is read next
-- time, as the chunked path does); text is null when that cut is not UTF-8.
-- suspect: the literals of analyzer.redact.might_contain_secret (only those files go through the redaction).
create or replace temp table _bulk_raw as
select source_id, pos, path, nbytes, text,
       contains(text, 'sk-') or contains(text, 'earer') or contains(text, 'EARER')
       or contains(text, '-key') or contains(text, '-Key') or contains(text, '-KEY') as suspect
from (
    select f.source_id, f.pos, f.path, least(f.size, strlen(t.content)) as nbytes,
           case when strlen(t.content) > f.size then try(decode(encode(t.content)[1:f.size]))
                else t.content end as text
    from read_text($paths) t
    join _bulk_files f on f.path = t.filename
)
