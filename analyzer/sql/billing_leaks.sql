-- Every request billed to a pay-per-use account (billing_route api, subscription_overage or cloud) in
-- [$since, $until), oldest first: when, which key, which model, the route and the evidence that decided it.
select
    started_at,
    request_id,
    key_alias,
    key_hash,
    user_id,
    session_id,
    route,
    model_requested,
    model_group,
    provider,
    status,
    billing_route,
    billing_evidence,
    billing_confidence,
    total_tokens,
    spend_usd
from requests
where billing_route in ('api', 'subscription_overage', 'cloud')
  and ($since is null or started_at >= $since) and ($until is null or started_at < $until)
order by started_at, request_id
