-- Transcript files new to the store, read whole by DuckDB in one statement (analyzer.ingest._bulk_store):
-- handing thousands of small files to DuckDB as Arrow tables cost more than DuckDB's own JSON parsing.
-- Input: `_bulk_files(source_id, pos, path, size)` and the list of their paths as $paths. files: formatted in,
-- transcript_bulk_text.sql (read_text), or transcript_bulk_blob.sql when read_text failed on bytes that are not
-- UTF-8. Either gives each file cut at the size it had when it was looked at (a writer may be appending: the rest
-- is read next time, as the chunked path does), with text null when that cut is not UTF-8.
-- suspect: the literals of analyzer.redact.might_contain_secret (only those files go through the redaction).
create or replace temp table _bulk_raw as
select source_id, pos, path, nbytes, text,
       contains(text, 'sk-') or contains(text, 'earer') or contains(text, 'EARER')
       or contains(text, '-key') or contains(text, '-Key') or contains(text, '-KEY') as suspect
from ({files})
