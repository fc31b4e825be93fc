-- Drop the stored windows after the last one an incremental refresh keeps (its last request at $last_ms): later
-- windows start after it, and the gap after it ends at the next window's first request.
delete from window_bounds_5h
where (not is_gap and first_ms > $last_ms)
   or (is_gap and epoch_ms(window_end) > $last_ms);
