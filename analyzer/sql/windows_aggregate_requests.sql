-- Token, spend and cost sums per window straight from the requests (analyzer.windows.windows() without start
-- flooring, where buckets would be single milliseconds; with flooring windows_aggregate.sql sums buckets instead).
-- Needs relations _ccstats_bounds (g, window_start_ms, window_end_ms, first_ms, last_ms, is_gap; from numpy)
-- and _ccstats_prices (analyzer.pricing.register_prices). {source}, $by and $billing as in windows_buckets.sql.
with usage as (
    select
        coalesce(case $by
            when 'key_hash' then r.key_hash
            when 'user_id' then r.user_id
            when 'end_user' then r.end_user
            when 'session_id' then r.session_id
            when 'model_group' then coalesce(r.model_group, r.model)
            else ''
        end, '') as g,
        epoch_ms(r.started_at) as t,
        r.started_at,
        r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens, r.spend_usd,
        coalesce(r.model_group, r.model) as model_name,
        ccstats_request_cost(
            r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens,
            p.input_usd, p.output_usd, p.cache_write_usd, p.cache_read_usd,
            p.tier_start, p.input_tier_usd, p.output_tier_usd, p.cache_write_tier_usd, p.cache_read_tier_usd
        ) as cost_usd,
        r.rl_5h_reset, r.rl_5h_utilization, r.rl_5h_status
    from {source} r
    left join _ccstats_prices p on p.model = coalesce(r.model, r.model_group)
    where r.status = 'success' and r.started_at is not null
      and ($billing is null or list_contains($billing, r.billing_route))
),
blocks as (
    select g, first_ms, last_ms from _ccstats_bounds where not is_gap
),
agg as (
    select
        b.g,
        b.first_ms,
        count(*) as requests,
        sum(u.input_tokens) as input_tokens,
        sum(u.output_tokens) as output_tokens,
        sum(u.cache_creation_tokens) as cache_creation_tokens,
        sum(u.cache_read_tokens) as cache_read_tokens,
        sum(u.spend_usd) as spend_usd,
        coalesce(sum(u.cost_usd), 0) as cost_usd,
        count(*) filter (where u.cost_usd is null) as unpriced_requests,
        list(distinct u.model_name order by u.model_name) filter (where u.model_name is not null) as models,
        arg_max(u.rl_5h_reset, u.started_at) filter (where u.rl_5h_reset is not null) as official_5h_reset,
        arg_max(u.rl_5h_utilization, u.started_at) filter (where u.rl_5h_utilization is not null)
            as official_5h_utilization,
        arg_max(u.rl_5h_status, u.started_at) filter (where u.rl_5h_status is not null) as official_5h_status
    from usage u
    asof join blocks b on u.g = b.g and u.t >= b.first_ms
    where u.t <= b.last_ms
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
