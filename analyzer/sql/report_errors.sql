-- Failed requests per time bucket ($bucket: 'hour' or 'day', wall time in zone $tz) and category, for requests
-- started in [$since, $until). Categories: rate limit (429), overloaded (529), auth failure (401/403 or an
-- OAuth/API-key error body), other error.
with f as (
    select
        date_trunc($bucket, timezone($tz, started_at)) as bucket,
        case
            when error_code = '429' or lower(coalesce(error_class, '')) like '%ratelimit%' then 'rate limit (429)'
            when error_code = '529' or lower(coalesce(error_message, '')) like '%overloaded%' then 'overloaded (529)'
            when error_code in ('401', '403')
                 or lower(coalesce(error_class, '')) like '%authentication%'
                 or lower(coalesce(error_message, '')) like '%oauth%'
                 or lower(coalesce(error_message, '')) like '%api key%'
                then 'auth failure (401/403)'
            else 'other error'
        end as category,
        coalesce(model_served, model_requested, '(no model)') as model
    from requests
    where status <> 'success'
      and started_at is not null
      and ($since is null or started_at >= $since)
      and ($until is null or started_at < $until)
)
select bucket, category, count(*) as failures, count(distinct model) as models,
       string_agg(distinct model, ', ' order by model) as model_list
from f
group by all
order by bucket, category;
