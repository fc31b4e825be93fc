-- Requests in [$since, $until) with their 5-hour window as billing_summary group: relation
-- `billing_windows(window_start, window_end)` (registered by analyzer.billing from analyzer.windows.windows);
-- a request belongs to the window with window_start <= started_at < window_end, else to a NULL group.
select q.*, w.window_start as grp, w.window_end as grp_end
from requests q
left join (select distinct window_start, window_end from billing_windows) w
    on q.started_at >= w.window_start and q.started_at < w.window_end
where ($since is null or q.started_at >= $since) and ($until is null or q.started_at < $until)
qualify row_number() over (partition by q.request_id order by w.window_start) = 1
