-- Byte offsets of the lines of the files with quarantined lines ({t}_norm from transcript_bulk_prepare.sql, view
-- `batch` its lines), for the quarantine table: each line starts after the previous ones and their newlines.
create table {t}_offsets as
select source_id, line_no,
       sum(strlen(line) + 1) over (partition by source_id order by line_no) - strlen(line) - 1 as byte_offset
from batch
where source_id in (select source_id from {t}_norm where _reason is not null)
