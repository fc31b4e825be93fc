-- Usage per 7-day period (analyzer.windows.weekly()). Periods are [start, start + 7 days):
-- with $anchor_ms (epoch ms of the latest logged anthropic-ratelimit-unified-7d-reset) they end at that reset and
-- step by exactly 7 x 24 h; without it they are calendar weeks from Monday 00:00 in $tz (DST-aware).
-- Needs _ccstats_prices (analyzer.pricing.register_prices). {source} as in windows_buckets.sql.
with usage as (
    select
        r.started_at,
        epoch_ms(r.started_at) as t,
        r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens, r.spend_usd,
        ccstats_request_cost(
            r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens,
            p.input_usd, p.output_usd, p.cache_write_usd, p.cache_read_usd,
            p.tier_start, p.input_tier_usd, p.output_tier_usd, p.cache_write_tier_usd, p.cache_read_tier_usd
        ) as cost_usd,
        r.rl_7d_reset, r.rl_7d_utilization, r.rl_7d_status
    from {source} r
    left join _ccstats_prices p on p.model = coalesce(r.model, r.model_group)
    where r.status = 'success' and r.started_at is not null
      and ($billing is null or list_contains($billing, r.billing_route))
      and ($since is null or r.started_at >= $since)
      and ($until is null or r.started_at < $until)
),
periods as (
    select
        *,
        case when $anchor_ms is not null then
            timezone('UTC', make_timestamp(
                ($anchor_ms + floor((t - $anchor_ms) / 604800000.0)::bigint * 604800000) * 1000))
        else timezone($tz, date_trunc('week', timezone($tz, started_at))) end as period_start,
        case when $anchor_ms is not null then
            timezone('UTC', make_timestamp(
                ($anchor_ms + (floor((t - $anchor_ms) / 604800000.0)::bigint + 1) * 604800000) * 1000))
        else timezone($tz, date_trunc('week', timezone($tz, started_at)) + interval 7 day) end as period_end
    from usage
)
select
    period_start,
    period_end,
    count(*)::bigint as requests,
    sum(input_tokens)::bigint as input_tokens,
    sum(output_tokens)::bigint as output_tokens,
    sum(cache_creation_tokens)::bigint as cache_creation_tokens,
    sum(cache_read_tokens)::bigint as cache_read_tokens,
    sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens)::bigint as total_tokens,
    sum(input_tokens + output_tokens)::bigint as io_tokens,
    sum(spend_usd)::double as spend_usd,
    coalesce(sum(cost_usd), 0)::double as cost_usd,
    (count(*) filter (where cost_usd is null))::bigint as unpriced_requests,
    arg_max(rl_7d_utilization, started_at) filter (where rl_7d_utilization is not null) as official_7d_utilization,
    arg_max(rl_7d_reset, started_at) filter (where rl_7d_reset is not null) as official_7d_reset,
    arg_max(rl_7d_status, started_at) filter (where rl_7d_status is not null) as official_7d_status
from periods
group by period_start, period_end
order by period_start;
