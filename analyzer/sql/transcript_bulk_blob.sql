-- The files of _bulk_files as bytes, when read_text failed (transcript_bulk_read.sql): text is null for a file
-- that is not UTF-8, which then goes through the chunked path (it quarantines exactly the bad lines).
select f.source_id, f.pos, f.path, least(f.size, octet_length(b.content)) as nbytes,
       try(decode(b.content[1:least(f.size, octet_length(b.content))])) as text
from read_blob($paths) b
-- As in transcript_bulk_text.sql: the hash table on the file list, not on the contents.
join (select * from _bulk_files where size >= 0) f on f.path = b.filename
