-- What a fallback refresh recomputes (analyzer.fallbacks.refresh_fallback_events): temp tables of the requests,
-- call ids and sessions touched since the last refresh: rows with ingested_at after $wm, the watermark of the last
-- refresh ('-infinity': everything). Rows are inserted (replacements too), never updated, except that callback
-- events update the hops and headers of their call's spend row, which the call ids cover. $orphans: rows were
-- deleted since the last refresh, so also look for stored events whose request is gone.
create or replace temp table _fb_new_cb as
select distinct litellm_call_id, session_id
from callback_events
where ingested_at > $wm;

-- Requests whose LiteLLM kinds (and stored failed rows, fallbacks_refresh_failures.sql) are recomputed: new rows,
-- and every row of a call id with new callback events. A new successful transcript-only row (origin claude_code)
-- can give neither (no call id, hops, spend fields or error), so it is left out unless a stored event or failed row
-- has its request id (it replaced that row): copying the million rows of a cold transcript ingest took 0.2 s.
create or replace temp table _fb_req_scope as
select
    request_id, litellm_call_id, origin, started_at, ended_at, status, model_requested, model_group, model,
    error_code, error_class, error_message, attempted_fallbacks,
    from_json(hop_models_json, '["VARCHAR"]') as hop_models, key_hash, user_id, session_id,
    key_alias, rl_unified_status, rl_5h_status, rl_7d_status, used_client_oauth_token
from request_log
where ingested_at > $wm
  and (origin <> 'claude_code' or status <> 'success'
       or request_id in (select request_id from failed_requests)
       or request_id in (select request_id from fallback_litellm_events));

insert into _fb_req_scope
select
    request_id, litellm_call_id, origin, started_at, ended_at, status, model_requested, model_group, model,
    error_code, error_class, error_message, attempted_fallbacks,
    from_json(hop_models_json, '["VARCHAR"]') as hop_models, key_hash, user_id, session_id,
    key_alias, rl_unified_status, rl_5h_status, rl_7d_status, used_client_oauth_token
from request_log
where litellm_call_id in (select litellm_call_id from _fb_new_cb where litellm_call_id is not null)
  and not ingested_at > $wm;

create or replace temp table _fb_calls as
select distinct litellm_call_id from (
    select litellm_call_id from _fb_req_scope
    union all
    select litellm_call_id from _fb_new_cb
)
where litellm_call_id is not null;

-- Call ids in _fb_calls that have callback events: those of new callback events, and of new requests that are not
-- spend rows or whose spend row has merged hops (the pending merges run before a refresh, so a spend row without
-- hops has no callback events). The hop details are read from callback_events for these only.
create or replace temp table _fb_hop_calls as
select distinct litellm_call_id from (
    select litellm_call_id from request_log where ingested_at > $wm and (origin <> 'spend_log' or hops > 0)
    union all
    select litellm_call_id from _fb_new_cb
)
where litellm_call_id is not null;

-- Stored events whose request is gone (replaced under another request id, or removed).
create or replace temp table _fb_orphans as
select request_id, session_id from (
    select request_id, session_id from fallback_litellm_events
    union all
    select request_id, session_id from fallback_cc_events
) s
where $orphans and not exists (select 1 from request_log r where r.request_id = s.request_id);

-- Sessions whose Claude Code kinds are recomputed: sessions of the new requests (all of them, including those left
-- out of _fb_req_scope), of the requests above and of the new callback events, and sessions of stored events whose
-- request was replaced or removed.
create or replace temp table _fb_sessions as
select distinct session_id from (
    select session_id from request_log where ingested_at > $wm
    union all
    select session_id from _fb_req_scope
    union all
    select session_id from _fb_new_cb
    union all
    select session_id from _fb_orphans
    union all
    select c.session_id from fallback_cc_events c
    where c.request_id in (select request_id from request_log where ingested_at > $wm)
       or c.request_id in (select request_id from _fb_req_scope)
)
where session_id is not null;

-- The sessions above with a row either Claude Code rule starts from (fallbacks_refresh_cc.sql): an overload failure
-- (overload_out) or a limit signal (signals; this condition covers each of its cases). The other sessions give no
-- event, and leaving them out spares copying their requests (0.2 s of a cold ingest of 1M transcript entries) and
-- the rules' windows over them (2.6 s).
create or replace temp table _fb_flagged as
select distinct session_id
from request_log
where session_id in (select session_id from _fb_sessions)
  and ((status <> 'success'
        and (error_code in ('529', '429') or error_message ilike '%overloaded%'
             or error_message ilike '%rate_limit_error%'))
       or rl_unified_status = 'rejected' or rl_5h_status = 'rejected'
       or rl_representative_claim ilike '%opus%' or rl_fallback_percentage is not null);

-- Every request of the flagged sessions (the rules look at neighbours and at signals between requests).
create or replace temp table _fb_sess_scope as
select
    request_id, started_at, status, model_requested, model_group, model, error_code, error_class, error_message,
    key_hash, user_id, session_id, rl_unified_status, rl_5h_status, rl_representative_claim, rl_fallback_percentage
from request_log
where session_id in (select session_id from _fb_flagged);
