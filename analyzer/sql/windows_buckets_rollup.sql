-- windows_buckets.sql at the default 1-hour bucket and without $by, from a usage rollup (analyzer.rollup): the
-- same columns, summed over the rollup's rows instead of the requests (the rollup relation is formatted in).
select
    '' as g,
    hour_r as bucket,
    model_name,
    epoch_ms(min(min_at)) as min_t,
    epoch_ms(max(max_at)) as max_t,
    sum(requests)::bigint as requests,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(cache_creation_tokens) as cache_creation_tokens,
    sum(cache_read_tokens) as cache_read_tokens,
    sum(spend_usd) as spend_usd,
    sum(cost_usd) as cost_usd,
    sum(unpriced_requests)::bigint as unpriced_requests,
    arg_max(rl_5h_reset, rl_5h_reset_at) filter (where rl_5h_reset is not null) as rl_5h_reset,
    max(rl_5h_reset_at) as rl_5h_reset_at,
    arg_max(rl_5h_utilization, rl_5h_utilization_at) filter (where rl_5h_utilization is not null) as rl_5h_utilization,
    max(rl_5h_utilization_at) as rl_5h_utilization_at,
    arg_max(rl_5h_status, rl_5h_status_at) filter (where rl_5h_status is not null) as rl_5h_status,
    max(rl_5h_status_at) as rl_5h_status_at
from {rollup}
where status = 'success' and min_at is not null
  and ($billing is null or list_contains($billing, billing_route))
group by all
