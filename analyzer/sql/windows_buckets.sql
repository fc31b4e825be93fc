-- Usage of successful traffic per (group, time bucket, model): input of analyzer.windows.windows().
-- Buckets are ($bucket_ms * k, $bucket_ms * (k + 1)] in epoch ms, closed on the right: $bucket_ms divides both the
-- start granularity and the window length, so every window end is a bucket edge, a request exactly at a window's
-- end belongs to that window, and no bucket ever spans two windows. Costs are computed per request (ccusage's tier
-- rule applies per entry) and summed per bucket.
-- {source} (structure only): request_log (billing_route NULL) for all traffic, or the requests view when $billing
-- filters on billing_route (the view classifies every row, which all-traffic reports need not pay for).
-- $by: NULL (all traffic) or one of key_hash, user_id, end_user, session_id, model_group; '' = no value.
-- $billing: NULL (all traffic) or a list of billing_route values. Needs _ccstats_prices (pricing.register_prices).
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
)
select
    g,
    floor((t - 1) / $bucket_ms)::bigint as bucket,
    model_name,
    min(t) as min_t,
    max(t) as max_t,
    count(*) as requests,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(cache_creation_tokens) as cache_creation_tokens,
    sum(cache_read_tokens) as cache_read_tokens,
    sum(spend_usd) as spend_usd,
    sum(cost_usd) as cost_usd,
    count(*) filter (where cost_usd is null) as unpriced_requests,
    -- the latest logged header value of the bucket, and when it was logged (windows take the latest of these)
    arg_max(rl_5h_reset, started_at) filter (where rl_5h_reset is not null) as rl_5h_reset,
    max(started_at) filter (where rl_5h_reset is not null) as rl_5h_reset_at,
    arg_max(rl_5h_utilization, started_at) filter (where rl_5h_utilization is not null) as rl_5h_utilization,
    max(started_at) filter (where rl_5h_utilization is not null) as rl_5h_utilization_at,
    arg_max(rl_5h_status, started_at) filter (where rl_5h_status is not null) as rl_5h_status,
    max(started_at) filter (where rl_5h_status is not null) as rl_5h_status_at
from usage
group by all;
