-- State of request_log for an incremental window-bounds refresh (refresh_window_bounds): the newest ingested_at,
-- the number of successful timed requests, and of those ingested after $wm (the last refresh's watermark; NULL:
-- none) their number and earliest time in epoch ms.
select
    max(ingested_at) as watermark,
    count(*) filter (where status = 'success' and started_at is not null) as successes,
    count(*) filter (where status = 'success' and started_at is not null and ingested_at > $wm) as fresh,
    min(epoch_ms(started_at)) filter (where status = 'success' and started_at is not null and ingested_at > $wm)
        as fresh_first_ms
from request_log;
