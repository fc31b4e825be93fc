-- The last stored window (not a gap) that ends before $t, the earliest request ingested since the last refresh:
-- an incremental refresh_window_bounds keeps it and every window before it, and runs the rule on from its end.
select epoch_ms(window_end) as end_ms, last_ms
from window_bounds_5h
where not is_gap and epoch_ms(window_end) < $t
order by window_start desc
limit 1;
