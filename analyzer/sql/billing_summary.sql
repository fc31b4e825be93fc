-- Who paid, per group and billing_route, for requests in [$since, $until).
-- $by: 'day' (calendar day in zone $tz, 'YYYY-MM-DD'), 'key' (alias and hash prefix), 'user', 'model' (served group).
-- spend_usd is LiteLLM's API-list-price figure for every route; api_billed_spend_usd is the part billed to
-- pay-per-use (api, cloud, subscription_overage); subscription_value_usd is the API-price value of the
-- subscription's traffic (what the plan covered). top_reasons: the three most frequent billing_evidence texts.
with r as (
    select
        *,
        case $by
            when 'day' then strftime(timezone($tz, started_at), '%Y-%m-%d')
            when 'key' then coalesce(key_alias || ' (' || left(key_hash, 12) || ')', key_hash, '(no key)')
            when 'user' then coalesce(user_id, '(no user)')
            when 'model' then coalesce(model_group, model_requested, model, '(no model)')
        end as grp
    from requests
    where ($since is null or started_at >= $since) and ($until is null or started_at < $until)
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
order by r.grp, r.billing_route
