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

--
-- Storage (this file runs whenever a views file changes; the tables are then recreated empty and
-- analyzer.db.migrate rebuilds them): the per-request work (window functions over every session, the callback
-- hop join) is done at ingest, incrementally, by analyzer.fallbacks.refresh_fallback_events (after_ingest):
--   fallback_litellm_events  LiteLLM router / cooldown candidates (analyzer/sql/fallbacks_refresh_litellm.sql),
--                            recomputed for the requests and call ids a batch touched; evidence without the
--                            proxy-log lines (evidence_base).
--   fallback_cc_events       Claude Code kinds (analyzer/sql/fallbacks_refresh_cc.sql), recomputed per session
--                            the batch touched.
--   fallback_refresh_state   the ingested_at watermark of the last refresh.
-- Each table holds at most one row per request (request ids are unique in a refresh's scope; the Claude Code
-- refresh keeps one kind per request). The view below joins the "Falling back" proxy lines to the LiteLLM events
-- (small: events x lines) and keeps one kind per request.

create or replace table fallback_litellm_events (
    request_id      varchar,
    litellm_call_id varchar,
    started_at      timestamptz,
    ended_at        timestamptz,
    model_group     varchar,
    kind            varchar,
    from_model      varchar,
    to_model        varchar,
    "trigger"       varchar,
    evidence_base   varchar,
    key_hash        varchar,
    user_id         varchar,
    session_id      varchar,
    status          varchar,
    _prio           integer
);

create or replace table fallback_cc_events (
    request_id      varchar,
    "at"            timestamptz,
    kind            varchar,
    from_model      varchar,
    to_model        varchar,
    "trigger"       varchar,
    evidence        varchar,
    key_hash        varchar,
    user_id         varchar,
    session_id      varchar,
    status          varchar,
    _prio           integer
);

create or replace table fallback_refresh_state (
    watermark    timestamptz,   -- max(ingested_at) of request_log / callback_events seen by the last refresh
    requests     bigint,        -- rows in request_log then (fewer + new ones now: some were deleted)
    refreshed_at timestamptz,
    full_rebuild boolean
);

-- The failed requests and callback hops, with the columns the failure checks read (check_rate_limits.sql,
-- check_oauth_failures.sql): failures are spread over every row group, so reading them from request_log and
-- callback_events decompresses most of both tables. Kept by the same refresh (fallbacks_refresh_failures.sql).
create or replace table failed_requests as
select request_id, litellm_call_id, started_at, status, model_requested, model_group, key_alias, key_hash,
       error_code, error_class, error_message, rl_unified_status, rl_5h_status, rl_7d_status, used_client_oauth_token
from request_log limit 0;

create or replace table failed_callbacks as
select event_key, event_id, litellm_call_id, started_at, status, model_group, key_alias, key_hash, error_code,
       error_class, error_message, rl_unified_status, rl_5h_status, rl_7d_status, used_client_oauth_token
from callback_events limit 0;

create or replace view fallback_events as
with fallback_lines as (
    select event_key, logged_at, litellm_call_id, target_model_group, message from proxy_events
    where target_model_group is not null
),
line_candidates as (
    -- by call id
    select l.event_key, l.logged_at, l.message, e.request_id, e.started_at, true as by_call_id
    from fallback_lines l
    join fallback_litellm_events e on l.litellm_call_id = e.litellm_call_id
    union all
    -- else the requests served by the target group whose [started_at - 2 s, ended_at + 2 s] holds the line
    select l.event_key, l.logged_at, l.message, e.request_id, e.started_at, false as by_call_id
    from fallback_lines l
    join fallback_litellm_events e
      on e.model_group = l.target_model_group
     and l.logged_at between e.started_at - interval 2 second
                         and coalesce(e.ended_at, e.started_at) + interval 2 second
    where l.litellm_call_id is null
),
line_match as (
    -- each "Falling back" line to one request: by call id, else the nearest one
    select event_key, request_id, logged_at, message
    from line_candidates
    qualify row_number() over (
        partition by event_key order by by_call_id desc, abs(epoch(logged_at) - epoch(started_at))
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
        e.request_id, e.started_at as "at", e.kind, e.from_model, e.to_model, e."trigger",
        concat_ws('; ', e.evidence_base, le.lines) as evidence,
        e.key_hash, e.user_id, e.session_id, e.status, e._prio
    from fallback_litellm_events e
    left join line_evidence le using (request_id)
),
all_events as (
    -- one kind per request: each table holds one row per request, and a LiteLLM kind (_prio 1, 2) wins over a
    -- Claude Code kind (3, 4); an anti-join, not a window over every event, so reading the view stays cheap
    select * from litellm_out
    union all by name
    select * from fallback_cc_events c
    where not exists (select 1 from fallback_litellm_events l where l.request_id = c.request_id)
)
select request_id, "at", kind, from_model, to_model, "trigger", evidence, key_hash, user_id, session_id, status
from all_events;

-- A request LiteLLM retried on the same model group (not a fallback): attempted_retries > 0, or callback hops
-- (hop_models, in order) that name one group twice. fallbacks_retries.sql and fallbacks_retries_cutoff.sql.
create or replace macro ccstats_retried(attempted_retries, hops, hop_models) as
    coalesce(attempted_retries, 0) > 0
    -- hops > 1 first: a repeated group needs two hops
    or (hops > 1 and coalesce(len(list_filter(hop_models, lambda x: x is not null))
                              > len(list_distinct(list_filter(hop_models, lambda x: x is not null))), false));
