-- billing_summary for by='window': relation `billing_windows(window_start, window_end)` (registered by
-- analyzer.billing from analyzer.windows.windows) gives the periods; a request belongs to the window with
-- window_start <= started_at < window_end. Requests outside every window are grouped with NULL bounds.
with w as (
    select distinct window_start, window_end from billing_windows
),
r as (
    select q.*, w.window_start, w.window_end
    from requests q
    left join w on q.started_at >= w.window_start and q.started_at < w.window_end
    where ($since is null or q.started_at >= $since) and ($until is null or q.started_at < $until)
    qualify row_number() over (partition by q.request_id order by w.window_start) = 1
),
reasons as (
    select window_start, billing_route, billing_evidence, count(*) as n from r group by all
),
top_reasons as (
    select window_start, billing_route,
           string_agg(billing_evidence || ' (' || n || ')', '; ' order by n desc, billing_evidence)
               filter (where rk <= 3) as top_reasons
    from (select *, row_number() over (partition by window_start, billing_route order by n desc, billing_evidence) as rk
          from reasons)
    group by all
)
select
    r.window_start,
    any_value(r.window_end) as window_end,
    r.billing_route,
    count(*) as requests,
    count(*) filter (where r.status = 'success') as successes,
    count(*) filter (where r.status <> 'success') as failures,
    coalesce(sum(r.input_tokens), 0)::bigint as input_tokens,
    coalesce(sum(r.output_tokens), 0)::bigint as output_tokens,
    coalesce(sum(r.cache_creation_tokens), 0)::bigint as cache_creation_tokens,
    coalesce(sum(r.cache_read_tokens), 0)::bigint as cache_read_tokens,
    coalesce(sum(r.total_tokens), 0)::bigint as total_tokens,
    coalesce(sum(r.spend_usd), 0) as spend_usd,
    coalesce(sum(r.spend_usd) filter (where r.billing_route in ('api', 'cloud', 'subscription_overage')), 0)
        as api_billed_spend_usd,
    coalesce(sum(r.spend_usd) filter (where r.billing_route = 'subscription'), 0) as subscription_value_usd,
    count(*) filter (where r.billing_route = 'unknown') as unknown_requests,
    count(*) filter (where r.billing_confidence = 'low') as low_confidence_requests,
    any_value(t.top_reasons) as top_reasons
from r
left join top_reasons t on t.window_start is not distinct from r.window_start and t.billing_route = r.billing_route
group by r.window_start, r.billing_route
order by r.window_start nulls last, r.billing_route
