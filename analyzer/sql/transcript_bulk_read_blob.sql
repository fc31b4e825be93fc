-- As transcript_bulk_read.sql, when read_text failed on a file that is not UTF-8: read as bytes; text is null
-- for such files, which go through the chunked path (it quarantines exactly the bad lines).
create or replace temp table _bulk_raw as
select source_id, pos, path, nbytes, text,
       contains(text, 'sk-') or contains(text, 'earer') or contains(text, 'EARER')
       or contains(text, '-key') or contains(text, '-Key') or contains(text, '-KEY') as suspect
from (
    select f.source_id, f.pos, f.path, least(f.size, octet_length(b.content)) as nbytes,
           try(decode(b.content[1:least(f.size, octet_length(b.content))])) as text
    from read_blob($paths) b
    join _bulk_files f on f.path = b.filename
)
