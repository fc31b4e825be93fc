-- The request_log row of a transcript-only entry `e` (transcript_entries columns), whose message id's first entry
-- key is `f.first_key`: the select list shared by merge_transcripts.sql and the direct path of
-- analyzer.sources.claude_code.store_transcript_batch, which add their FROM. raw stays null: the entry's details
-- (project, cwd, version, path, Anthropic request id) are in transcript_entries, whose message_id or entry_key is
-- the row's request_id (building a JSON copy of them took 40% of this insert).
-- request_id is the message id; a second entry with the same message id (another request id, which ccusage counts
-- separately) uses its entry key: the first entry key of a message id keeps it.
select
    e.entry_key as _entry_key,
    case when e.message_id is null or e.entry_key <> f.first_key then e.entry_key else e.message_id end
        as request_id,
    'claude_code' as origin,
    e.started_at,
    e.started_at as ended_at,
    'anthropic_messages' as call_type,
    'direct' as route,
    e.status,
    e.model as model_requested,
    e.model as model_group,
    e.model as model,
    'anthropic' as provider,
    case when e.status <> 'success' then e.error_text end as error_message,
    case when e.limit_reset_at is not null then '429' end as error_code,
    e.input_tokens,
    e.output_tokens,
    e.cache_creation_tokens,
    e.cache_read_tokens,
    e.input_tokens + e.cache_creation_tokens + e.cache_read_tokens as prompt_tokens_logged,
    e.total_tokens as total_tokens_logged,
    e.cost_usd as spend_usd,
    e.session_id,
    e.limit_reset_at as rl_5h_reset,
    case when e.limit_reset_at is not null then 'rejected' end as rl_5h_status,
    case when e.limit_reset_at is not null then 'rejected' end as rl_unified_status,
    false as rl_has_unified,
    false as rl_has_api_limits,
    false as seen_in_litellm,
    true as seen_in_transcript,
    e.source_id,
    e.source_line,
    now() as ingested_at
