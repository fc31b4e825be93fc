-- usage_rollup rows (m008) from the requests view (billing classification) and _ccstats_prices
-- (pricing.register_prices), for the requests that the condition formatted in as where selects (analyzer.rollup:
-- all, the dirty hours within start-time bounds that let DuckDB skip row groups, or those without a start time).
-- hour_key: the left-closed hour of the start time (-9223372036854775807 for requests without one); hour_r: the
-- right-closed hour, the bucket of windows_buckets.sql at the default 1-hour granularity.
with r as (
    select
        coalesce(floor(epoch_ms(r.started_at) / 3600000)::bigint, -9223372036854775807) as hour_key,
        floor((epoch_ms(r.started_at) - 1) / 3600000)::bigint as hour_r,
        coalesce(r.model_group, r.model) as model_name,
        r.key_hash, r.key_alias, r.billing_route, r.billing_evidence, r.billing_confidence, r.status,
        r.started_at,
        r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens, r.total_tokens,
        r.input_tokens + r.output_tokens as io_tokens, r.spend_usd,
        ccstats_request_cost(
            r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens,
            p.input_usd, p.output_usd, p.cache_write_usd, p.cache_read_usd,
            p.tier_start, p.input_tier_usd, p.output_tier_usd, p.cache_write_tier_usd, p.cache_read_tier_usd
        ) as cost_usd,
        r.rl_5h_reset, r.rl_5h_utilization, r.rl_5h_status, r.rl_7d_reset, r.rl_7d_utilization, r.rl_7d_status
    from requests r
    left join _ccstats_prices p on p.model = coalesce(r.model, r.model_group)
    where {where}
)
select
    hour_key, hour_r, model_name, key_hash, key_alias, billing_route, billing_evidence, billing_confidence, status,
    count(*)::bigint as requests,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(cache_creation_tokens) as cache_creation_tokens,
    sum(cache_read_tokens) as cache_read_tokens,
    sum(total_tokens) as total_tokens,
    sum(io_tokens) as io_tokens,
    sum(spend_usd) as spend_usd,
    sum(cost_usd) as cost_usd,
    (count(*) filter (where cost_usd is null))::bigint as unpriced_requests,
    min(started_at) as min_at,
    max(started_at) as max_at,
    arg_max(rl_5h_reset, started_at) filter (where rl_5h_reset is not null) as rl_5h_reset,
    max(started_at) filter (where rl_5h_reset is not null) as rl_5h_reset_at,
    arg_max(rl_5h_utilization, started_at) filter (where rl_5h_utilization is not null) as rl_5h_utilization,
    max(started_at) filter (where rl_5h_utilization is not null) as rl_5h_utilization_at,
    arg_max(rl_5h_status, started_at) filter (where rl_5h_status is not null) as rl_5h_status,
    max(started_at) filter (where rl_5h_status is not null) as rl_5h_status_at,
    arg_max(rl_7d_reset, started_at) filter (where rl_7d_reset is not null) as rl_7d_reset,
    max(started_at) filter (where rl_7d_reset is not null) as rl_7d_reset_at,
    arg_max(rl_7d_utilization, started_at) filter (where rl_7d_utilization is not null) as rl_7d_utilization,
    max(started_at) filter (where rl_7d_utilization is not null) as rl_7d_utilization_at,
    arg_max(rl_7d_status, started_at) filter (where rl_7d_status is not null) as rl_7d_status,
    max(started_at) filter (where rl_7d_status is not null) as rl_7d_status_at
from r
group by all
