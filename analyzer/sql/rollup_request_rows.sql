-- One usage_rollup-shaped row per request (requests = 1) started in the hours $raw_hours: where a rollup hour spans
-- two periods or days (rollup_straddles.sql), the reports place that hour's requests one by one. hour_ranges
-- (formatted in by analyzer.rollup.split_hours) is the same hours as start-time ranges, which DuckDB prunes row
-- groups with. Needs _ccstats_prices.
select
    floor(epoch_ms(r.started_at) / 3600000)::bigint as hour_key,
    floor((epoch_ms(r.started_at) - 1) / 3600000)::bigint as hour_r,
    coalesce(r.model_group, r.model) as model_name,
    r.key_hash, r.key_alias, r.billing_route, r.billing_evidence, r.billing_confidence, r.status,
    1::bigint as requests,
    r.input_tokens::hugeint as input_tokens,
    r.output_tokens::hugeint as output_tokens,
    r.cache_creation_tokens::hugeint as cache_creation_tokens,
    r.cache_read_tokens::hugeint as cache_read_tokens,
    r.total_tokens::hugeint as total_tokens,
    (r.input_tokens + r.output_tokens)::hugeint as io_tokens,
    r.spend_usd,
    c.cost_usd,
    (c.cost_usd is null)::bigint as unpriced_requests,
    r.started_at as min_at,
    r.started_at as max_at,
    r.rl_5h_reset, case when r.rl_5h_reset is not null then r.started_at end as rl_5h_reset_at,
    r.rl_5h_utilization, case when r.rl_5h_utilization is not null then r.started_at end as rl_5h_utilization_at,
    r.rl_5h_status, case when r.rl_5h_status is not null then r.started_at end as rl_5h_status_at,
    r.rl_7d_reset, case when r.rl_7d_reset is not null then r.started_at end as rl_7d_reset_at,
    r.rl_7d_utilization, case when r.rl_7d_utilization is not null then r.started_at end as rl_7d_utilization_at,
    r.rl_7d_status, case when r.rl_7d_status is not null then r.started_at end as rl_7d_status_at
from requests r
left join _ccstats_prices p on p.model = coalesce(r.model, r.model_group)
cross join lateral (
    select ccstats_request_cost(
        r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens,
        p.input_usd, p.output_usd, p.cache_write_usd, p.cache_read_usd,
        p.tier_start, p.input_tier_usd, p.output_tier_usd, p.cache_write_tier_usd, p.cache_read_tier_usd
    ) as cost_usd
) c
where ({hour_ranges})
