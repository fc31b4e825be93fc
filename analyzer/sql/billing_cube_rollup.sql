-- billing_cube.sql (no $since/$until) from a usage rollup (analyzer.rollup): the same rows. Each rollup row is
-- placed on the day (in $tz) of its first start time; the hours $raw_hours, whose rows span two days (a zone whose
-- offset is not whole hours), request by request (rollup_request_rows.sql, formatted in as raw). rollup: formatted in.
with u as (
    select * from {rollup} where not list_contains($raw_hours, hour_key)
    union all by name
    select * from ({raw})
)
select
    strftime(timezone($tz, min_at), '%Y-%m-%d') as day,
    key_alias,
    key_hash,
    billing_route,
    billing_evidence,
    billing_confidence,
    status,
    sum(requests)::bigint as requests,
    coalesce(sum(input_tokens), 0)::bigint as input_tokens,
    coalesce(sum(output_tokens), 0)::bigint as output_tokens,
    coalesce(sum(cache_creation_tokens), 0)::bigint as cache_creation_tokens,
    coalesce(sum(cache_read_tokens), 0)::bigint as cache_read_tokens,
    coalesce(sum(total_tokens), 0)::bigint as total_tokens,
    sum(spend_usd) as spend_usd,
    min(min_at) as first_at,
    max(max_at) as last_at
from u
group by all
