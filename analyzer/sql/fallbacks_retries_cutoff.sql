-- How many requests fallbacks_retries.sql lists for [$since, $until) (total), and the start time of the $n-th most
-- recent (from_at; NULL when there are fewer): `report --json` then reads those rows from from_at on only, since
-- fetching the text columns of every retried request costs more than finding them.
with retried as (
    select started_at
    from (select started_at, attempted_retries, hops, hop_models_json from request_log
          where (coalesce(attempted_retries, 0) > 0 or hops > 1)
            and ($since is null or started_at >= $since) and ($until is null or started_at < $until))
    where ccstats_retried(attempted_retries, hops, from_json(hop_models_json, '["VARCHAR"]'))
)
select
    (select count(*) from retried) as total,
    (select min(started_at) from (select started_at from retried order by started_at desc limit $n)) as from_at
