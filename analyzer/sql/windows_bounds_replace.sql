-- Replace the default window bounds with the relation _ccstats_new_bounds (refresh_window_bounds).
insert into window_bounds_5h
select
    timezone('UTC', make_timestamp(window_start_ms * 1000)),
    timezone('UTC', make_timestamp(window_end_ms * 1000)),
    is_gap,
    case when is_gap then null else first_ms end,
    case when is_gap then null else last_ms end,
    $length_ms,
    now()
from _ccstats_new_bounds;
