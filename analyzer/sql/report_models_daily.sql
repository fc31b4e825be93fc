-- Models and cost per calendar day in zone $tz, for requests started in [$since, $until).
-- spend_usd is LiteLLM's logged spend (API list price, logged for subscription traffic too).
select
    cast(timezone($tz, started_at) as date) as day,
    coalesce(model_served, model_requested, '(no model)') as model,
    count(*) as requests,
    count(*) filter (where status = 'success') as successes,
    coalesce(sum(input_tokens), 0)::bigint as input_tokens,
    coalesce(sum(output_tokens), 0)::bigint as output_tokens,
    coalesce(sum(cache_creation_tokens), 0)::bigint as cache_creation_tokens,
    coalesce(sum(cache_read_tokens), 0)::bigint as cache_read_tokens,
    coalesce(sum(total_tokens), 0)::bigint as total_tokens,
    coalesce(sum(spend_usd), 0)::double as spend_usd
from requests
where started_at is not null
  and ($since is null or started_at >= $since)
  and ($until is null or started_at < $until)
group by all
order by day, model;
