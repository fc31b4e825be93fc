-- Per-request billing route (from the `requests` view, billing-and-fallbacks.md section 7) in [$since, $until).
-- pay_per_use: the route bills a pay-per-use account (api, cloud, subscription_overage).
select
    request_id,
    started_at,
    status,
    route,
    model_requested,
    model_group,
    key_hash,
    key_alias,
    user_id,
    session_id,
    billing_route,
    billing_evidence,
    billing_confidence,
    billing_route in ('api', 'cloud', 'subscription_overage') as pay_per_use,
    used_client_oauth_token,
    input_tokens,
    output_tokens,
    cache_creation_tokens,
    cache_read_tokens,
    total_tokens,
    spend_usd
from requests
where ($since is null or started_at >= $since) and ($until is null or started_at < $until)
order by started_at, request_id
