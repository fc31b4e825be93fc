-- Who paid, per group and billing_route, over the request rows with their group (grp, and grp_end for
-- 5-hour windows) that analyzer.billing puts in place of the rows marker: billing_rows_by.sql or billing_rows_window.sql.
-- spend_usd is LiteLLM's API-list-price figure for every route; api_billed_spend_usd is the part billed to
-- pay-per-use (api, cloud, subscription_overage); subscription_value_usd is the API-price value of the
-- subscription's traffic (what the plan covered). top_reasons: the three most frequent billing_evidence texts.
with r as (
{rows}
),
reasons as (
    select grp, billing_route, billing_evidence, count(*) as n from r group by all
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
    any_value(r.grp_end) as grp_end,
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
left join top_reasons t on t.grp is not distinct from r.grp and t.billing_route = r.billing_route
group by r.grp, r.billing_route
order by r.grp nulls last, r.billing_route
