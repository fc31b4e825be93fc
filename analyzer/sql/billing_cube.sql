-- One pass of the billing classification for a report: requests in [$since, $until) counted per calendar day (zone
-- $tz, 'YYYY-MM-DD'), key, billing_route, billing_evidence, billing_confidence and status. Every billing total of
-- `report` (per day, per key, the pay-per-use aggregates, `check`'s API-billing answer) is a sum over these rows.
select
    strftime(timezone($tz, started_at), '%Y-%m-%d') as day,
    key_alias,
    key_hash,
    billing_route,
    billing_evidence,
    billing_confidence,
    status,
    count(*) as requests,
    coalesce(sum(input_tokens), 0)::bigint as input_tokens,
    coalesce(sum(output_tokens), 0)::bigint as output_tokens,
    coalesce(sum(cache_creation_tokens), 0)::bigint as cache_creation_tokens,
    coalesce(sum(cache_read_tokens), 0)::bigint as cache_read_tokens,
    coalesce(sum(total_tokens), 0)::bigint as total_tokens,
    sum(spend_usd) as spend_usd,
    min(started_at) as first_at,
    max(started_at) as last_at
from requests
where ($since is null or started_at >= $since) and ($until is null or started_at < $until)
group by all
