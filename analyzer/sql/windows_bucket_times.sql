-- The first and last request time (epoch ms) of every bucket of _ccstats_buckets (windows_buckets.sql), sorted by
-- group then time (duplicates kept). The block rule run over these gives the same windows as over every request
-- time, because no bucket spans two windows (see windows_buckets.sql).
select g, t
from (
    select g, min_t as t from _ccstats_buckets
    union all
    select g, max_t as t from _ccstats_buckets
)
order by g, t;
