-- The $n most recent requests billed to a pay-per-use account in [$since, $until) (columns of billing_leaks.sql),
-- oldest first. $from (may be NULL): a start time known to leave at least $n of them (it only narrows the scan).
select * from (
    select
        started_at, request_id, key_alias, key_hash, user_id, session_id, route, model_requested, model_group,
        provider, status, billing_route, billing_evidence, billing_confidence, total_tokens, spend_usd
    from requests
    where billing_route in ('api', 'subscription_overage', 'cloud')
      and ($since is null or started_at >= $since) and ($until is null or started_at < $until)
      and ($from is null or started_at >= $from)
    order by started_at desc, request_id desc
    limit $n
)
order by started_at, request_id
