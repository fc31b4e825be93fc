-- Requests billed to a pay-per-use account (billing_route api, subscription_overage or cloud) per calendar day,
-- key and route, over relation _ccstats_billing_cube (billing_cube.sql): the bounded form of billing_leaks.sql.
-- top_evidence: the commonest billing_evidence (ties: the first in text order).
with leaks as (
    select * from _ccstats_billing_cube where billing_route in ('api', 'subscription_overage', 'cloud')
),
ev as (
    select day, key_alias, key_hash, billing_route, billing_evidence, sum(requests) as n from leaks group by all
),
top as (
    select day, key_alias, key_hash, billing_route,
           first(billing_evidence order by n desc, billing_evidence) as top_evidence
    from ev group by all
)
select
    l.day,
    l.key_alias,
    l.key_hash,
    l.billing_route,
    sum(l.requests)::bigint as requests,
    coalesce(sum(l.requests) filter (where l.status = 'success'), 0)::bigint as successes,
    coalesce(sum(l.total_tokens), 0)::bigint as total_tokens,
    coalesce(sum(l.spend_usd), 0) as spend_usd,
    min(l.first_at) as first_at,
    max(l.last_at) as last_at,
    any_value(t.top_evidence) as top_evidence
from leaks l
join top t
  on t.day = l.day and t.key_alias is not distinct from l.key_alias and t.key_hash is not distinct from l.key_hash
 and t.billing_route = l.billing_route
group by l.day, l.key_alias, l.key_hash, l.billing_route
order by l.day, requests desc, l.key_hash nulls last, l.billing_route
