-- Claude Code kinds (cc_overload_chain, cc_model_switch) for every session in temp table _fb_sessions, into
-- fallback_cc_events, from the requests in _fb_sess_scope (fallbacks_scope.sql): those of the sessions with a row
-- either rule starts from, the only ones that can give an event. Rules: views_fallbacks.sql.
-- The model of a request is model_requested (what the client asked for); haiku is never a source or target.
delete from fallback_cc_events
where session_id in (select session_id from _fb_sessions);

insert into fallback_cc_events by name
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
    from _fb_sess_scope r
),
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
        'overloaded_error (529) x' || a.run_len as "trigger",
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
    join _fb_sess_scope x
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
        g.first_signal as "trigger",
        'session ' || s.session_id || ': main model opus -> sonnet, and this and the next '
            || ((s.next1_family is not null)::int + (s.next2_family is not null)::int)
            || ' main-model request(s) are sonnet; limit signal: ' || g.signal_list as evidence,
        s.key_hash, s.user_id, s.session_id, s.status,
        4 as _prio
    from switch_candidates s
    join signal_agg g using (request_id)
)
-- one row per request (the fallback_events view relies on it): an overload chain wins over a model switch
select * from (
    select * from overload_out
    union all by name
    select * from switch_out
)
qualify row_number() over (partition by request_id order by _prio) = 1;
