-- Latency (duration_ms, request start to end as LiteLLM logged it) of successful requests per time bucket
-- ($bucket: 'hour' or 'day', wall time in zone $tz) and served model, for requests started in [$since, $until).
select
    date_trunc($bucket, timezone($tz, started_at)) as bucket,
    coalesce(model_served, model_requested, '(no model)') as model,
    count(*) as requests,
    quantile_cont(duration_ms, 0.5) as p50_ms,
    quantile_cont(duration_ms, 0.9) as p90_ms,
    quantile_cont(duration_ms, 0.99) as p99_ms,
    max(duration_ms) as max_ms
from requests
where status = 'success'
  and duration_ms is not null
  and started_at is not null
  and ($since is null or started_at >= $since)
  and ($until is null or started_at < $until)
group by all
order by bucket, model;
