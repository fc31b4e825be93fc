-- Byte offsets of the lines of redacted bulk files (`_bulk_lines`, transcript_bulk_lines.sql) with quarantined
-- lines, from the bytes as read: where redaction changed a file, its lines' lengths as read (`_bulk_orig_len`;
-- the redacted text is shorter or longer). New files start at offset 0. The other files' offsets come from the
-- reader (transcript_bulk_prepare_offsets.sql).
select source_id, line_no,
       sum(nbytes + 1) over (partition by source_id order by line_no) - nbytes - 1 as byte_offset
from (
    select source_id, line_no, strlen(line) as nbytes from _bulk_lines
    where source_id not in (select source_id from _bulk_orig_len)
    union all
    select source_id, line_no, nbytes from _bulk_orig_len
)
where source_id in (select source_id from norm where _reason is not null)
