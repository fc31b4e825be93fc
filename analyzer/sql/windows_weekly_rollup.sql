-- windows_weekly.sql (no $since/$until) from a usage rollup (analyzer.rollup): the same rows. Each rollup row is
-- placed by its first start time; the hours $raw_hours, whose rows span two periods (a 7-day anchor inside the
-- hour, a zone whose offset is not whole hours), request by request (rollup_request_rows.sql, formatted in as raw).
-- The rollup relation is formatted in as rollup.
with usage as (
    select * from {rollup}
    where status = 'success' and min_at is not null and not list_contains($raw_hours, hour_key)
      and ($billing is null or list_contains($billing, billing_route))
    union all by name
    select * from ({raw})
    where status = 'success' and ($billing is null or list_contains($billing, billing_route))
),
periods as (
    select
        *,
        case when $anchor_ms is not null then
            timezone('UTC', make_timestamp(
                ($anchor_ms + floor((epoch_ms(min_at) - $anchor_ms) / 604800000.0)::bigint * 604800000) * 1000))
        else timezone($tz, date_trunc('week', timezone($tz, min_at))) end as period_start,
        case when $anchor_ms is not null then
            timezone('UTC', make_timestamp(
                ($anchor_ms + (floor((epoch_ms(min_at) - $anchor_ms) / 604800000.0)::bigint + 1) * 604800000) * 1000))
        else timezone($tz, date_trunc('week', timezone($tz, min_at)) + interval 7 day) end as period_end
    from usage
)
select
    period_start,
    period_end,
    sum(requests)::bigint as requests,
    sum(input_tokens)::bigint as input_tokens,
    sum(output_tokens)::bigint as output_tokens,
    sum(cache_creation_tokens)::bigint as cache_creation_tokens,
    sum(cache_read_tokens)::bigint as cache_read_tokens,
    sum(total_tokens)::bigint as total_tokens,
    sum(io_tokens)::bigint as io_tokens,
    sum(spend_usd)::double as spend_usd,
    coalesce(sum(cost_usd), 0)::double as cost_usd,
    sum(unpriced_requests)::bigint as unpriced_requests,
    arg_max(rl_7d_utilization, rl_7d_utilization_at) filter (where rl_7d_utilization is not null)
        as official_7d_utilization,
    arg_max(rl_7d_reset, rl_7d_reset_at) filter (where rl_7d_reset is not null) as official_7d_reset,
    arg_max(rl_7d_status, rl_7d_status_at) filter (where rl_7d_status is not null) as official_7d_status
from periods
group by period_start, period_end
order by period_start
