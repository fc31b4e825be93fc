-- Merge transcript entries into request_log, so that every request is one row whatever was ingested first.
-- Input: temp table _cc_affected(session_id, message_id): one batch of pending_transcripts (the sessions and
-- message/request ids that transcript chunks, LiteLLM spend rows or callback events touched; see
-- analyzer.sources.claude_code.merge_pending_transcripts). Everything in their scope is recomputed from the
-- stored state, so the result depends neither on the order the sources arrive in nor on how they were chunked.
--
-- A transcript entry and a LiteLLM row are one request when
--   1. LiteLLM's request_id is the entry's message id (Anthropic's msg_... id: /v1/messages success rows), or
--   2. same session (transcript sessionId = request_log.session_id, which LiteLLM takes from
--      x-claude-code-session-id), the entry's timestamp within [started_at - 5 s, ended_at + 5 s], and the four
--      token counts equal (both successful), or both failed (API error lines, e.g. usage limit reached).
-- Each entry takes its best candidate (id match first, then the closest in time) and each LiteLLM row is taken
-- once. Matched LiteLLM rows get seen_in_transcript = true; unmatched entries become origin = 'claude_code' rows
-- (route 'direct', seen_in_litellm = false).

create or replace temp table _cc_sessions as
select distinct session_id from (
    select session_id from _cc_affected
    union all
    select t.session_id from transcript_entries t where t.message_id in (select message_id from _cc_affected)
    union all
    select r.session_id from request_log r where r.request_id in (select message_id from _cc_affected)
)
where session_id is not null;

create or replace temp table _cc_litellm as
select request_id, session_id, started_at, ended_at, status,
       input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens
from request_log
where origin <> 'claude_code'
  and (session_id in (select session_id from _cc_sessions)
       or request_id in (select message_id from _cc_affected));

create or replace temp table _cc_entries as
select * from transcript_entries
where session_id in (select session_id from _cc_sessions)
   or message_id in (select message_id from _cc_affected)
   or message_id in (select request_id from _cc_litellm);

insert into _cc_litellm
select request_id, session_id, started_at, ended_at, status,
       input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens
from request_log
where origin <> 'claude_code'
  and request_id in (select message_id from _cc_entries)
  and request_id not in (select request_id from _cc_litellm);

create or replace temp table _cc_pairs as
with cand as (
    select e.entry_key, l.request_id, 0 as kind, 0::bigint as dt
    from _cc_entries e join _cc_litellm l on l.request_id = e.message_id
    union all
    select e.entry_key, l.request_id, 1 as kind,
           abs(epoch_ms(e.started_at) - epoch_ms(coalesce(l.ended_at, l.started_at)))::bigint as dt
    from _cc_entries e join _cc_litellm l on l.session_id = e.session_id
    where e.started_at between l.started_at - interval 5 second
                           and coalesce(l.ended_at, l.started_at) + interval 5 second
      and ((e.status = 'success' and l.status = 'success'
            and e.input_tokens = l.input_tokens and e.output_tokens = l.output_tokens
            and e.cache_creation_tokens = l.cache_creation_tokens and e.cache_read_tokens = l.cache_read_tokens)
           or (e.status <> 'success' and l.status <> 'success'))
),
per_entry as (
    select * from cand
    qualify row_number() over (partition by entry_key order by kind, dt, request_id) = 1
)
select * from per_entry
qualify row_number() over (partition by request_id order by kind, dt, entry_key) = 1;

delete from request_log
where origin = 'claude_code'
  and (request_id in (select message_id from _cc_entries) or request_id in (select entry_key from _cc_entries));

update request_log set seen_in_transcript = false
where origin <> 'claude_code' and seen_in_transcript
  and request_id in (select request_id from _cc_litellm)
  and request_id not in (select request_id from _cc_pairs);

update request_log set seen_in_transcript = true
where origin <> 'claude_code' and not coalesce(seen_in_transcript, false)
  and request_id in (select request_id from _cc_pairs);

-- Transcript-only entries (transcript_request_rows.sql). Ids already in request_log are skipped by an anti-join,
-- not ON CONFLICT DO NOTHING: at 300k entries the conflict check took 60% of this insert and made its commit three
-- times slower. A message id that equals another inserted entry's key (only crafted input) yields to that entry,
-- as the key would conflict.
create or replace temp table _cc_first as
select message_id, min(entry_key) as first_key
from transcript_entries
where message_id in (select message_id from _cc_entries)
group by message_id;

insert into request_log by name
select * exclude (_entry_key)
from (
{transcript_request_rows}
    from _cc_entries e
    left join _cc_first f on f.message_id = e.message_id
    where e.entry_key not in (select entry_key from _cc_pairs)
) x
where x.request_id not in (select request_id from request_log)
  and (x.request_id = x._entry_key
       or x.request_id not in (select entry_key from _cc_entries
                               where entry_key not in (select entry_key from _cc_pairs)));
