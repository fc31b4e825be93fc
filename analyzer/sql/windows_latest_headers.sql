-- The latest logged official (unified rate-limit header) values, from any request: anchors for windows/weekly.
-- since: empty, or a condition on started_at (from the rollup: when the latest of them was logged) formatted in.
select
    arg_max(rl_5h_reset, started_at) filter (where rl_5h_reset is not null) as rl_5h_reset,
    arg_max(rl_5h_utilization, started_at) filter (where rl_5h_reset is not null) as rl_5h_utilization,
    arg_max(rl_5h_status, started_at) filter (where rl_5h_reset is not null) as rl_5h_status,
    max(started_at) filter (where rl_5h_reset is not null) as rl_5h_logged_at,
    arg_max(rl_7d_reset, started_at) filter (where rl_7d_reset is not null) as rl_7d_reset,
    arg_max(rl_7d_utilization, started_at) filter (where rl_7d_reset is not null) as rl_7d_utilization,
    max(started_at) filter (where rl_7d_reset is not null) as rl_7d_logged_at
from request_log
where started_at is not null {since};
