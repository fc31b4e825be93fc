-- Request times (epoch ms) of all successful traffic, sorted (duplicates kept): input of refresh_window_bounds.
select epoch_ms(started_at) as t
from request_log
where status = 'success' and started_at is not null
order by t;
