-- Transcript files new to the store, read whole by DuckDB in one statement (analyzer.ingest._bulk_read), on a
-- second connection while the previous batch is stored (the read uses one core). Reading the files in Python
-- and handing them to DuckDB as Arrow tables cost more than DuckDB's own reading.
-- Input: `_bulk_files(source_id, pos, path, size)` and the list of their paths as $paths. files: formatted in,
-- transcript_bulk_text.sql (read_text), or transcript_bulk_blob.sql when read_text failed on bytes that are not
-- UTF-8. Either gives each file cut at the size it had when it was looked at (a writer may be appending: the rest
-- is read next time, as the chunked path does), with text null when that cut is not UTF-8.
-- suspect: the text holds a literal of analyzer.redact.might_contain_secret (formatted in as SQL by
-- might_contain_secret_sql). Such a file's text is not returned (null): Python reads it from disk and redacts it
-- before it enters a table, so a credential never sits in a table, which DuckDB could spill to disk. A null text
-- that is not suspect is a file that is not UTF-8.
select source_id, pos, path, nbytes, case when suspect then null else text end as text,
       coalesce(suspect, false) as suspect
from (
    select *,
           {suspect} as suspect
    from ({files})
)
