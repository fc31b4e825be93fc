-- LiteLLM router and cooldown candidates for the requests in temp table _fb_req_scope (fallbacks_scope.sql),
-- into fallback_litellm_events. Rules: views_fallbacks.sql, kinds litellm_cooldown and litellm_router. The proxy
-- "Falling back" lines are joined at read time by the fallback_events view.
delete from fallback_litellm_events
where request_id in (select request_id from _fb_req_scope)
   or litellm_call_id in (select litellm_call_id from _fb_calls)
   or request_id in (select request_id from _fb_orphans);

insert into fallback_litellm_events by name
with hop_errors as (
    -- the failed hops of each call, first one first
    select
        litellm_call_id,
        list(concat_ws(' ', error_class, '(' || error_code || ')') order by started_at)
            filter (where status <> 'success') as failed_errors,
        list(model_group order by started_at) filter (where status <> 'success') as failed_groups,
        bool_or(status <> 'success' and (error_class = 'RouterRateLimitError'
                                         or error_message ilike 'No deployments available%')) as hop_cooldown
    from callback_events
    where litellm_call_id in (select litellm_call_id from _fb_hop_calls)
    group by litellm_call_id
),
litellm as (
    select
        q.*,
        h.failed_errors,
        h.failed_groups,
        coalesce(q.error_class = 'RouterRateLimitError', false)
            or coalesce(q.error_message ilike 'No deployments available%', false)
            or coalesce(h.hop_cooldown, false) as is_cooldown,
        q.origin = 'spend_log' and coalesce(q.attempted_fallbacks, 0) > 0
            and q.model_requested is distinct from q.model_group as by_spend,
        coalesce(len(list_distinct(list_filter(q.hop_models, lambda x: x is not null))) > 1, false) as by_hops
    from _fb_req_scope q
    left join hop_errors h using (litellm_call_id)
),
litellm_events as (
    select * from litellm where is_cooldown or by_spend or by_hops
)
select
    e.request_id,
    e.litellm_call_id,
    e.started_at,
    e.ended_at,
    e.model_group,
    case when e.is_cooldown then 'litellm_cooldown' else 'litellm_router' end as kind,
    coalesce(e.model_requested, e.hop_models[1]) as from_model,
    case
        when e.is_cooldown and e.status <> 'success' then null
        else e.model_group
    end as to_model,
    coalesce(
        e.failed_errors[1],
        case when e.error_class is not null or e.error_code is not null
             then concat_ws(' ', e.error_class, '(' || e.error_code || ')') end
    ) as "trigger",
    nullif(concat_ws('; ',
        case when e.error_class = 'RouterRateLimitError' or e.error_message ilike 'No deployments available%'
             then 'request failed: ' || left(e.error_message, 160) end,
        case when e.failed_errors is not null and len(e.failed_errors) > 0
             then 'callback failed hops: ' || array_to_string(
                    list_transform(list_zip(e.failed_groups, e.failed_errors),
                                   lambda x: coalesce(x[1], '?') || ' ' || coalesce(x[2], '?')), ', ') end,
        case when e.by_spend then 'spend row: attempted_fallbacks=' || e.attempted_fallbacks
             || ', original_model_group=' || e.model_requested || ', model_group=' || coalesce(e.model_group, '?') end,
        case when e.by_hops then 'callback hops: ' || array_to_string(e.hop_models, ' -> ') end
    ), '') as evidence_base,
    e.key_hash, e.user_id, e.session_id, e.status,
    case when e.is_cooldown then 1 else 2 end as _prio
from litellm_events e;
