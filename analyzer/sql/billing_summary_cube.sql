-- billing_summary.sql ($by 'day' or 'key') over relation _ccstats_billing_cube (billing_cube.sql): same columns.
with r as (
    select
        *,
        case $by
            when 'day' then day
            when 'key' then coalesce(key_alias || ' (' || left(key_hash, 12) || ')', key_hash, '(no key)')
        end as grp
    from _ccstats_billing_cube
),
reasons as (
    select grp, billing_route, billing_evidence, sum(requests) as n from r group by all
),
top_reasons as (
    select grp, billing_route,
           string_agg(billing_evidence || ' (' || n || ')', '; ' order by n desc, billing_evidence)
               filter (where rk <= 3) as top_reasons
    from (select *, row_number() over (partition by grp, billing_route order by n desc, billing_evidence) as rk
          from reasons)
    group by all
)
select
    r.grp,
    r.billing_route,
    sum(r.requests)::bigint as requests,
    coalesce(sum(r.requests) filter (where r.status = 'success'), 0)::bigint as successes,
    coalesce(sum(r.requests) filter (where r.status <> 'success'), 0)::bigint as failures,
    coalesce(sum(r.input_tokens), 0)::bigint as input_tokens,
    coalesce(sum(r.output_tokens), 0)::bigint as output_tokens,
    coalesce(sum(r.cache_creation_tokens), 0)::bigint as cache_creation_tokens,
    coalesce(sum(r.cache_read_tokens), 0)::bigint as cache_read_tokens,
    coalesce(sum(r.total_tokens), 0)::bigint as total_tokens,
    coalesce(sum(r.spend_usd), 0) as spend_usd,
    coalesce(sum(r.spend_usd) filter (where r.billing_route in ('api', 'cloud', 'subscription_overage')), 0)
        as api_billed_spend_usd,
    coalesce(sum(r.spend_usd) filter (where r.billing_route = 'subscription'), 0) as subscription_value_usd,
    coalesce(sum(r.requests) filter (where r.billing_route = 'unknown'), 0)::bigint as unknown_requests,
    coalesce(sum(r.requests) filter (where r.billing_confidence = 'low'), 0)::bigint as low_confidence_requests,
    any_value(t.top_reasons) as top_reasons
from r
left join top_reasons t on t.grp is not distinct from r.grp and t.billing_route = r.billing_route
group by r.grp, r.billing_route
order by r.grp, r.billing_route
