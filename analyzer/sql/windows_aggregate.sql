-- Token, spend and cost sums per window (analyzer.windows.windows()), from the per-bucket sums.
-- Needs relations _ccstats_bounds (g, window_start_ms, window_end_ms, first_ms, last_ms, is_gap; from numpy)
-- and _ccstats_buckets (windows_buckets.sql: no bucket spans two windows, so each joins exactly one).
with blocks as (
    select g, first_ms, last_ms from _ccstats_bounds where not is_gap
),
agg as (
    select
        b.g,
        b.first_ms,
        sum(u.requests) as requests,
        sum(u.input_tokens) as input_tokens,
        sum(u.output_tokens) as output_tokens,
        sum(u.cache_creation_tokens) as cache_creation_tokens,
        sum(u.cache_read_tokens) as cache_read_tokens,
        sum(u.spend_usd) as spend_usd,
        coalesce(sum(u.cost_usd), 0) as cost_usd,
        sum(u.unpriced_requests) as unpriced_requests,
        list(distinct u.model_name order by u.model_name) filter (where u.model_name is not null) as models,
        arg_max(u.rl_5h_reset, u.rl_5h_reset_at) filter (where u.rl_5h_reset is not null) as official_5h_reset,
        arg_max(u.rl_5h_utilization, u.rl_5h_utilization_at) filter (where u.rl_5h_utilization is not null)
            as official_5h_utilization,
        arg_max(u.rl_5h_status, u.rl_5h_status_at) filter (where u.rl_5h_status is not null) as official_5h_status
    from _ccstats_buckets u
    asof join blocks b on u.g = b.g and u.min_t >= b.first_ms
    where u.max_t <= b.last_ms
    group by b.g, b.first_ms
)
select
    w.g,
    timezone('UTC', make_timestamp(w.window_start_ms * 1000)) as window_start,
    timezone('UTC', make_timestamp(w.window_end_ms * 1000)) as window_end,
    case when not w.is_gap then timezone('UTC', make_timestamp(w.first_ms * 1000)) end as first_request,
    case when not w.is_gap then timezone('UTC', make_timestamp(w.last_ms * 1000)) end as actual_end,
    w.is_gap,
    w.first_ms,
    w.last_ms,
    coalesce(a.requests, 0)::bigint as requests,
    coalesce(a.input_tokens, 0)::bigint as input_tokens,
    coalesce(a.output_tokens, 0)::bigint as output_tokens,
    coalesce(a.cache_creation_tokens, 0)::bigint as cache_creation_tokens,
    coalesce(a.cache_read_tokens, 0)::bigint as cache_read_tokens,
    (coalesce(a.input_tokens, 0) + coalesce(a.output_tokens, 0) + coalesce(a.cache_creation_tokens, 0)
        + coalesce(a.cache_read_tokens, 0))::bigint as total_tokens,
    (coalesce(a.input_tokens, 0) + coalesce(a.output_tokens, 0))::bigint as io_tokens,
    coalesce(a.spend_usd, 0)::double as spend_usd,
    coalesce(a.cost_usd, 0)::double as cost_usd,
    coalesce(a.unpriced_requests, 0)::bigint as unpriced_requests,
    coalesce(a.models, []::varchar[]) as models,
    a.official_5h_reset,
    a.official_5h_utilization,
    a.official_5h_status
from _ccstats_bounds w
left join agg a on not w.is_gap and a.g = w.g and a.first_ms = w.first_ms
order by w.g, w.window_start_ms, w.is_gap;
