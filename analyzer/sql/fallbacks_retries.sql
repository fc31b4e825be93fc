-- Requests LiteLLM retried on the same model group (not fallbacks): attempted_retries > 0, or callback hops that
-- repeat one group. Rows in [$since, $until), oldest first. failed_hop_errors: error_class (error_code) per failed hop.
with hop_errors as (
    select litellm_call_id,
           list(concat_ws(' ', error_class, '(' || error_code || ')') order by started_at)
               filter (where status <> 'success') as failed_hop_errors
    from callback_events
    -- only calls that can be retries (a repeated hop group needs two hops), have failed hops and started in range.
    -- hop_since: with $since, analyzer.fallbacks.hops_since (hops logged from HOP_SKEW before $since on), so
    -- DuckDB skips older row groups; else "true"
    where {hop_since}
      and litellm_call_id in (select litellm_call_id from request_log
                              where (coalesce(attempted_retries, 0) > 0 or hops > 1) and failed_hops > 0
                                and ($since is null or started_at >= $since)
                                and ($until is null or started_at < $until))
    group by litellm_call_id
)
select
    r.request_id,
    r.started_at as "at",
    r.model_requested,
    r.model_group,
    r.status,
    coalesce(r.attempted_retries, 0) as attempted_retries,
    r.max_retries,
    r.hops,
    r.failed_hops,
    r.hop_models,
    h.failed_hop_errors,
    case
        when coalesce(r.attempted_retries, 0) > 0 then 'attempted_retries=' || r.attempted_retries
        else 'callback hops repeat a group: ' || array_to_string(r.hop_models, ' -> ')
    end as evidence,
    r.key_hash,
    r.key_alias,
    r.user_id,
    r.session_id
from (select * exclude (hop_models_json), from_json(hop_models_json, '["VARCHAR"]') as hop_models
      from request_log where coalesce(attempted_retries, 0) > 0 or hops > 1) r
left join hop_errors h using (litellm_call_id)
where ccstats_retried(r.attempted_retries, r.hops, r.hop_models)
  and ($since is null or r.started_at >= $since) and ($until is null or r.started_at < $until)
order by r.started_at, r.request_id
