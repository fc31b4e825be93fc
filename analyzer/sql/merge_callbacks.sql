-- Merge callback events into request_log for the call ids in temp table `affected_calls(litellm_call_id)`.
-- Hops are ordered by their end: a streamed success event carries the start of the whole request.
-- A spend-log row is the request when there is one; callback events then add the hops and upstream headers.
-- Without a spend row, the callback events of one litellm_call_id make the request themselves.

delete from request_log
where origin = 'callback'
  and litellm_call_id in (select litellm_call_id from affected_calls);

insert into request_log by name
with spend_calls as (
    select litellm_call_id from request_log
    where origin = 'spend_log' and litellm_call_id in (select litellm_call_id from affected_calls)
),
ev as (
    select * from callback_events
    where litellm_call_id in (select litellm_call_id from affected_calls)
      and litellm_call_id not in (select litellm_call_id from spend_calls)
),
agg as (
    select
        litellm_call_id,
        count(*) as hops,
        count(*) filter (where status <> 'success') as failed_hops,
        to_json(list(model_group order by coalesce(ended_at, started_at)))::varchar as hop_models_json,
        arg_min(model_group, coalesce(ended_at, started_at)) as first_group,
        min(started_at) as first_started_at,
        count(distinct model_group) as groups_seen
    from ev
    group by litellm_call_id
),
final as (
    select * from ev
    qualify row_number() over (partition by litellm_call_id order by (status = 'success') desc, started_at desc) = 1
),
rl as (
    select * from ev where rl_has_unified or rl_has_api_limits
    qualify row_number() over (partition by litellm_call_id order by started_at desc) = 1
)
select
    case when f.status = 'success' then coalesce(f.event_id, f.litellm_call_id) else f.litellm_call_id end as request_id,
    f.litellm_call_id,
    'callback' as origin,
    a.first_started_at as started_at,
    f.ended_at,
    f.completion_start_at,
    epoch_ms(f.ended_at) - epoch_ms(a.first_started_at) as duration_ms,
    f.call_type,
    coalesce(f.request_route, case f.call_type when 'anthropic_messages' then '/v1/messages'
        when 'acompletion' then '/chat/completions' when 'pass_through_endpoint' then '/anthropic' else f.call_type end) as route,
    f.status,
    coalesce(a.first_group, f.model_group, f.model) as model_requested,
    f.model_group,
    f.model,
    f.model_id,
    f.provider,
    f.api_base,
    f.error_code,
    f.error_class,
    f.error_message,
    f.input_tokens,
    f.output_tokens,
    f.cache_creation_tokens,
    f.cache_read_tokens,
    f.prompt_tokens_logged,
    f.total_tokens_logged,
    coalesce(f.response_cost, 0) as spend_usd,
    f.key_hash, f.key_alias, f.user_id, f.user_email, f.team_id, f.team_alias, f.org_id, f.end_user,
    f.session_id,
    f.trace_id,
    f.user_agent,
    f.tags,
    f.used_client_oauth_token,
    greatest(a.groups_seen - 1, 0)::integer as attempted_fallbacks,
    (a.hops - a.groups_seen)::integer as attempted_retries,
    cast(null as integer) as max_retries,
    f.requester_ip,
    f.client_sent_api_key,
    a.hops::integer as hops,
    a.failed_hops::integer as failed_hops,
    a.hop_models_json,
    rl.rl_unified_status, rl.rl_5h_status, rl.rl_5h_utilization, rl.rl_5h_reset, rl.rl_7d_status,
    rl.rl_7d_utilization, rl.rl_7d_reset, rl.rl_representative_claim, rl.rl_overage_status,
    rl.rl_fallback_percentage,
    coalesce(rl.rl_has_unified, false) as rl_has_unified,
    coalesce(rl.rl_has_api_limits, false) as rl_has_api_limits,
    f.source_id,
    f.source_line,
    now() as ingested_at,
    f.raw
from final f
join agg a using (litellm_call_id)
left join rl using (litellm_call_id)
-- request_log has no primary key (m010): a request id it already has (another call's, crafted input only) is
-- skipped here, and one of two calls with the same id is kept
where request_id not in (select request_id from request_log)
qualify row_number() over (partition by request_id order by f.litellm_call_id) = 1;

-- Spend rows of the affected calls: add hops and upstream headers from their callback events.
update request_log as r
set hops = e.hops,
    failed_hops = e.failed_hops,
    hop_models_json = e.hop_models_json,
    trace_id = coalesce(r.trace_id, e.trace_id),
    client_sent_api_key = coalesce(r.client_sent_api_key, e.client_sent_api_key),
    used_client_oauth_token = coalesce(r.used_client_oauth_token, e.used_client_oauth_token),
    user_agent = coalesce(r.user_agent, e.user_agent),
    rl_unified_status = e.rl_unified_status,
    rl_5h_status = e.rl_5h_status,
    rl_5h_utilization = e.rl_5h_utilization,
    rl_5h_reset = e.rl_5h_reset,
    rl_7d_status = e.rl_7d_status,
    rl_7d_utilization = e.rl_7d_utilization,
    rl_7d_reset = e.rl_7d_reset,
    rl_representative_claim = e.rl_representative_claim,
    rl_overage_status = e.rl_overage_status,
    rl_fallback_percentage = e.rl_fallback_percentage,
    rl_has_unified = e.rl_has_unified,
    rl_has_api_limits = e.rl_has_api_limits
from (
    with ev as (
        select * from callback_events where litellm_call_id in (select litellm_call_id from affected_calls)
    ),
    agg as (
        select litellm_call_id, count(*)::integer as hops, (count(*) filter (where status <> 'success'))::integer as failed_hops,
               to_json(list(model_group order by coalesce(ended_at, started_at)))::varchar as hop_models_json,
               max(trace_id) as trace_id, bool_or(client_sent_api_key) as client_sent_api_key,
               bool_or(used_client_oauth_token) as used_client_oauth_token, max(user_agent) as user_agent
        from ev group by litellm_call_id
    ),
    rl as (
        select * from ev where rl_has_unified or rl_has_api_limits
        qualify row_number() over (partition by litellm_call_id order by started_at desc) = 1
    )
    select agg.*, rl.rl_unified_status, rl.rl_5h_status, rl.rl_5h_utilization, rl.rl_5h_reset, rl.rl_7d_status,
           rl.rl_7d_utilization, rl.rl_7d_reset, rl.rl_representative_claim, rl.rl_overage_status,
           rl.rl_fallback_percentage, coalesce(rl.rl_has_unified, false) as rl_has_unified,
           coalesce(rl.rl_has_api_limits, false) as rl_has_api_limits
    from agg left join rl using (litellm_call_id)
) as e
where r.origin = 'spend_log' and r.litellm_call_id = e.litellm_call_id;
