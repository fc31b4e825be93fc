-- One row per category of a failure check (check_rate_limits.sql or check_oauth_failures.sql, formatted in as
-- rows): what the answer's details list, aggregated here so the check reads a few rows, not every failure.
-- models and keys: sorted distinct non-empty values; request_ids: the first ten in time order; example: the first
-- error message.
select
    category,
    count(*)::bigint as count,
    min(started_at) as first_at,
    max(started_at) as last_at,
    coalesce(list_sort(list_distinct(list(model_group) filter (where model_group <> ''))), []) as models,
    coalesce(list_sort(list_distinct(list_concat(
        coalesce(list(key_alias) filter (where key_alias <> ''), []),
        coalesce(list(key_hash) filter (where key_hash <> ''), [])
    ))), []) as keys,
    (list(request_id order by started_at, request_id))[1:10] as request_ids,
    first(error_message order by started_at, request_id) as example
from ({rows})
group by category
