-- Top $dim values ('key', 'user', 'session') by requests, for requests started in [$since, $until); at most $n rows.
with r as (
    select
        *,
        case $dim
            when 'key' then coalesce(key_alias || ' (' || left(key_hash, 12) || ')', key_hash, '(no key)')
            when 'user' then coalesce(user_id, '(no user)')
            when 'session' then coalesce(session_id, '(no session)')
        end as name
    from requests
    where ($since is null or started_at >= $since) and ($until is null or started_at < $until)
)
select
    name,
    count(*) as requests,
    count(*) filter (where status <> 'success') as failures,
    coalesce(sum(total_tokens), 0)::bigint as total_tokens,
    coalesce(sum(spend_usd), 0)::double as spend_usd,
    string_agg(distinct billing_route, ', ' order by billing_route) as billing_routes,
    string_agg(distinct coalesce(model_served, model_requested), ', ' order by coalesce(model_served, model_requested))
        as models,
    min(started_at) as first_at,
    max(started_at) as last_at
from r
group by name
order by requests desc, total_tokens desc, name
limit $n;
