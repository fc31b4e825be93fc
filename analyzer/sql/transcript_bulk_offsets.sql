-- Byte offsets of the lines of files with quarantined lines (bulk path), from the bytes as read: the original
-- text where redaction changed a file (`_bulk_orig`). New files start at offset 0.
create or replace temp table _grp_offsets as
select source_id, line_no,
       sum(strlen(line) + 1) over (partition by source_id order by line_no) - strlen(line) - 1 as byte_offset
from (
    select source_id, line_no, line from _bulk_lines
    where source_id not in (select source_id from _bulk_orig)
    union all
    select source_id, generate_subscripts(parts, 1) as line_no, unnest(parts) as line
    from (select source_id, string_split(text, chr(10)) as parts from _bulk_orig)
)
where source_id in (select source_id from norm where _reason is not null)
