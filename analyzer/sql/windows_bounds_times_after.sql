-- Request times (epoch ms) of successful traffic from $from on, sorted (duplicates kept): input of an
-- incremental refresh_window_bounds, which recomputes the windows after the last one the new rows cannot change.
select epoch_ms(started_at) as t
from request_log
where status = 'success' and started_at is not null and started_at >= $from
order by t;
