-- The files of _bulk_files as text (transcript_bulk_read.sql); read_text fails the whole statement on a file
-- that is not UTF-8.
select f.source_id, f.pos, f.path, least(f.size, strlen(t.content)) as nbytes,
       case when strlen(t.content) > f.size then try(decode(encode(t.content)[1:f.size]))
            else t.content end as text
from read_text($paths) t
-- The filter, always true, lowers the file list's estimated size below read_text's, so the hash table is built on
-- the list rather than on the texts (copying 256 MB into it took 0.12 of 1.0 CPU-s per batch).
join (select * from _bulk_files where size >= 0) f on f.path = t.filename
