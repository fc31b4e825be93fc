-- Fallback events (billing-and-fallbacks.md sections 4, 5, 6 rules 27-35, 7). Applied after views.sql.
--
-- fallback_events: one row per client request that fell back (or was refused by a LiteLLM cooldown).
--   request_id, at (request start, UTC), kind, from_model, to_model, trigger, evidence, key_hash, user_id,
--   session_id, status (final status of the request).
-- Kinds, and when a request is one (a request gets one kind; precedence is the order below):
--   litellm_cooldown   the request, or one of its callback hops, failed with error_class RouterRateLimitError or
--                      an error message "No deployments available..." (LiteLLM put the deployments in cooldown).
--                      from_model = requested group; to_model = the group that served it, NULL when it failed.
--   litellm_router     a LiteLLM router fallback: spend row with attempted_fallbacks > 0 and
--                      model_requested (metadata.original_model_group) <> model_group (served group), or
--                      callback hops of one litellm_call_id over more than one model group.
--                      trigger = error_class (error_code) of the first failed hop (callback_events) when known.
--                      Proxy lines "Falling back to model_group = X" are added to evidence: joined by
--                      litellm_call_id, else to the nearest such request with model_group = X whose
--                      [started_at - 2 s, ended_at + 2 s] holds the line.
--   cc_overload_chain  Claude Code --fallback-model: in one session, >= 2 consecutive failed requests on model A
--                      with 529 / overloaded_error, then the next main-model request is a success on model B <> A,
--                      started within 120 s of the last 529. Event at the B request.
--   cc_model_switch    Claude Code's Opus -> Sonnet switch: in one session's main-model requests (haiku ignored),
--                      a successful sonnet request S whose previous main-model request is opus, that "stays": S
--                      and the next two main-model requests of the session are all sonnet (fewer only when the
--                      session ends), and a limit signal between the last opus request and S: a failed opus
--                      request with 429 / rate_limit_error (not a LiteLLM cooldown), or rl_unified_status /
--                      rl_5h_status 'rejected' (S included), or, on a request before S, rl_representative_claim
--                      containing 'opus' or rl_fallback_percentage present. Event at S.
-- Not fallbacks (no event): opusplan alternation without a limit signal, haiku background calls (never a cc
-- source or target), and retries on one group (see fallback_retries.sql / analyzer.fallbacks.retries).
-- The model of a request for cc kinds is model_requested (what the client asked for).

create or replace view fallback_events as
with req as (
    select
        r.*,
        case
            when lower(coalesce(r.model_requested, r.model_group, r.model, '')) like '%opus%' then 'opus'
            when lower(coalesce(r.model_requested, r.model_group, r.model, '')) like '%sonnet%' then 'sonnet'
            when lower(coalesce(r.model_requested, r.model_group, r.model, '')) like '%haiku%' then 'haiku'
            else 'other'
        end as family,
        coalesce(r.model_requested, r.model_group, r.model) as asked
    from request_log r
),
hop_errors as (
    -- the failed hops of each call, first one first
    select
        litellm_call_id,
        list(concat_ws(' ', error_class, '(' || error_code || ')') order by started_at)
            filter (where status <> 'success') as failed_errors,
        list(model_group order by started_at) filter (where status <> 'success') as failed_groups,
        bool_or(status <> 'success' and (error_class = 'RouterRateLimitError'
                                         or error_message ilike 'No deployments available%')) as hop_cooldown
    from callback_events
    where litellm_call_id is not null
    group by litellm_call_id
),
fallback_lines as (
    select event_key, logged_at, litellm_call_id, target_model_group, message from proxy_events
    where target_model_group is not null
),
-- ---------------------------------------------------------------- LiteLLM router and cooldown
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
    from req q
    left join hop_errors h using (litellm_call_id)
),
litellm_events as (
    select * from litellm where is_cooldown or by_spend or by_hops
),
line_match as (
    -- each "Falling back" line to one request: by call id, else the nearest request served by the target group
    select l.event_key, e.request_id, l.logged_at, l.message
    from fallback_lines l
    join litellm_events e
      on (l.litellm_call_id is not null and l.litellm_call_id = e.litellm_call_id)
      or (l.litellm_call_id is null and e.model_group = l.target_model_group
          and l.logged_at between e.started_at - interval 2 second
                              and coalesce(e.ended_at, e.started_at) + interval 2 second)
    qualify row_number() over (
        partition by l.event_key
        order by (l.litellm_call_id is not null) desc, abs(epoch(l.logged_at) - epoch(e.started_at))
    ) = 1
),
line_evidence as (
    select request_id,
           string_agg('proxy log ' || strftime(logged_at, '%Y-%m-%dT%H:%M:%S') || 'Z: "' || message || '"', '; '
                      order by logged_at) as lines
    from line_match group by request_id
),
litellm_out as (
    select
        e.request_id,
        e.started_at as "at",
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
        ) as trigger,
        concat_ws('; ',
            case when e.error_class = 'RouterRateLimitError' or e.error_message ilike 'No deployments available%'
                 then 'request failed: ' || left(e.error_message, 160) end,
            case when e.failed_errors is not null and len(e.failed_errors) > 0
                 then 'callback failed hops: ' || array_to_string(
                        list_transform(list_zip(e.failed_groups, e.failed_errors),
                                       lambda x: coalesce(x[1], '?') || ' ' || coalesce(x[2], '?')), ', ') end,
            case when e.by_spend then 'spend row: attempted_fallbacks=' || e.attempted_fallbacks
                 || ', original_model_group=' || e.model_requested || ', model_group=' || coalesce(e.model_group, '?') end,
            case when e.by_hops then 'callback hops: ' || array_to_string(e.hop_models, ' -> ') end,
            le.lines
        ) as evidence,
        e.key_hash, e.user_id, e.session_id, e.status,
        case when e.is_cooldown then 1 else 2 end as _prio
    from litellm_events e
    left join line_evidence le using (request_id)
),
-- ---------------------------------------------------------------- Claude Code (per session, main models only)
main as (
    select
        q.*,
        q.status <> 'success'
            and (q.error_code = '529' or q.error_message ilike '%overloaded%') as is_overload,
        (q.status <> 'success' and q.family = 'opus'
            and (q.error_code = '429' or q.error_message ilike '%rate_limit_error%')
            and coalesce(q.error_class, '') <> 'RouterRateLimitError'
            and not coalesce(q.error_message ilike 'No deployments available%', false)) as quota_429
    from req q
    where q.session_id is not null and q.family in ('opus', 'sonnet', 'other')
),
seq as (
    select
        m.*,
        lag(family, 1) over w as prev_family,
        lag(started_at, 1) over w as prev_at,
        lead(family, 1) over w as next1_family,
        lead(family, 2) over w as next2_family,
        lag(is_overload, 1) over w as prev_overload,
        lag(asked, 1) over w as prev_asked,
        lag(request_id, 1) over w as prev_request_id,
        -- island of consecutive overload failures on one model
        sum(case when is_overload and asked is not distinct from lag_asked and lag_overload then 0 else 1 end)
            over (partition by session_id order by started_at, request_id rows unbounded preceding) as island
    from (
        select *, lag(asked) over (partition by session_id order by started_at, request_id) as lag_asked,
               lag(is_overload) over (partition by session_id order by started_at, request_id) as lag_overload
        from main
    ) m
    window w as (partition by session_id order by started_at, request_id)
),
runs as (
    select *, count(*) over (partition by session_id, island) as run_len,
           string_agg(request_id, ', ' order by started_at) over (partition by session_id, island) as run_ids
    from seq
),
overload_out as (
    select
        b.request_id, b.started_at as "at", 'cc_overload_chain' as kind,
        a.asked as from_model, b.asked as to_model,
        'overloaded_error (529) x' || a.run_len as trigger,
        'session ' || b.session_id || ': ' || a.run_len || ' consecutive 529/overloaded failures on ' || a.asked
            || ' (' || a.run_ids || '), then success on ' || b.asked || ' '
            || round(epoch(b.started_at) - epoch(a.started_at), 1) || ' s after the last one' as evidence,
        b.key_hash, b.user_id, b.session_id, b.status,
        3 as _prio
    from runs b
    join runs a on a.session_id = b.session_id and a.request_id = b.prev_request_id
    where b.status = 'success' and b.family <> 'other' and a.family <> 'other'
      and a.is_overload and a.run_len >= 2
      and b.asked is distinct from a.asked
      and b.started_at - a.started_at <= interval 120 second
),
switch_candidates as (
    select * from seq
    where family = 'sonnet' and prev_family = 'opus' and status = 'success'
      and coalesce(next1_family, 'sonnet') = 'sonnet' and coalesce(next2_family, 'sonnet') = 'sonnet'
),
signals as (
    select
        s.request_id,
        x.started_at as sig_at,
        x.request_id as sig_request_id,
        case
            when x.status <> 'success' and lower(coalesce(x.model_requested, x.model_group, '')) like '%opus%'
                 and (x.error_code = '429' or x.error_message ilike '%rate_limit_error%')
                 and coalesce(x.error_class, '') <> 'RouterRateLimitError'
                 and not coalesce(x.error_message ilike 'No deployments available%', false)
                then concat_ws(' ', x.error_class, '(' || coalesce(x.error_code, '429') || ')') || ' on opus'
            when x.rl_unified_status = 'rejected' then 'rl_unified_status=rejected'
            when x.rl_5h_status = 'rejected' then 'rl_5h_status=rejected'
            when x.started_at < s.started_at and x.rl_representative_claim ilike '%opus%' then 'rl_representative_claim=' || x.rl_representative_claim
            when x.started_at < s.started_at and x.rl_fallback_percentage is not null then 'rl_fallback_percentage=' || x.rl_fallback_percentage
        end as signal
    from switch_candidates s
    join request_log x
      on x.session_id = s.session_id and x.started_at between s.prev_at and s.started_at
),
signal_agg as (
    select request_id,
           first(signal order by sig_at) as first_signal,
           string_agg(signal || ' (' || sig_request_id || ')', ', ' order by sig_at) as signal_list
    from signals where signal is not null
    group by request_id
),
switch_out as (
    select
        s.request_id, s.started_at as "at", 'cc_model_switch' as kind,
        s.prev_asked as from_model, s.asked as to_model,
        g.first_signal as trigger,
        'session ' || s.session_id || ': main model opus -> sonnet, and this and the next '
            || ((s.next1_family is not null)::int + (s.next2_family is not null)::int)
            || ' main-model request(s) are sonnet; limit signal: ' || g.signal_list as evidence,
        s.key_hash, s.user_id, s.session_id, s.status,
        4 as _prio
    from switch_candidates s
    join signal_agg g using (request_id)
),
all_events as (
    select * from litellm_out
    union all by name select * from overload_out
    union all by name select * from switch_out
)
select request_id, "at", kind, from_model, to_model, trigger, evidence, key_hash, user_id, session_id, status
from all_events
qualify row_number() over (partition by request_id order by _prio) = 1;
