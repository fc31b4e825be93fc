-- Top request tags by requests, for requests started in [$since, $until); at most $n rows.
with t as (
    select unnest(tags) as tag, status, total_tokens, spend_usd, started_at
    from requests
    where tags is not null
      and ($since is null or started_at >= $since) and ($until is null or started_at < $until)
)
select
    tag as name,
    count(*) as requests,
    count(*) filter (where status <> 'success') as failures,
    coalesce(sum(total_tokens), 0)::bigint as total_tokens,
    coalesce(sum(spend_usd), 0)::double as spend_usd,
    min(started_at) as first_at,
    max(started_at) as last_at
from t
group by tag
order by requests desc, total_tokens desc, tag
limit $n;
