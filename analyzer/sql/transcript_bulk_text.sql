-- The files of _bulk_files as text (transcript_bulk_read.sql); read_text fails the whole statement on a file
-- that is not UTF-8.
select f.source_id, f.pos, f.path, least(f.size, strlen(t.content)) as nbytes,
       case when strlen(t.content) > f.size then try(decode(encode(t.content)[1:f.size]))
            else t.content end as text
from read_text($paths) t
join _bulk_files f on f.path = t.filename
