-- Claude Code transcript lines (<config>/projects/<project>/<session>.jsonl) -> transcript_entries.
-- Input: relation `batch(line_no, line, source_id, source_path)` (a batch can hold lines of many files).
-- Output: transcript_entries columns plus line_no, _reason (non-null = quarantine) and _excerpt.
-- Which lines count follows ccusage 20.0.24 (tests/support/ccusage.py; checked against the binary):
-- * only lines holding the exact bytes "usage":{ (compact JSON, as Claude Code writes it); others are skipped,
--   except API error lines carrying "usage limit reached|<epoch>" (kept for the official reset time);
-- * skipped: a key among id, cwd, model, speed, costUSD, version, sessionId, requestId, isApiErrorMessage and the
--   token counts written as null; a version not N.N.N...; an empty sessionId/requestId/message.id/message.model;
--   no parseable timestamp;
-- * cache creation = usage.cache_creation.ephemeral_5m + ephemeral_1h when that object is present, else
--   usage.cache_creation_input_tokens; model gets "-<speed>" when usage.speed is set.
with candidates as (
    select line_no, line, source_id, source_path
    from batch
    where contains(line, '"usage":{') or contains(line, 'usage limit reached|')
),
parsed as (
    select
        line_no,
        line,
        source_id,
        source_path,
        try(json_transform(line, '{
            "type": "VARCHAR", "sessionId": "VARCHAR", "requestId": "VARCHAR", "uuid": "VARCHAR",
            "timestamp": "VARCHAR", "version": "VARCHAR", "cwd": "VARCHAR", "costUSD": "DOUBLE",
            "isApiErrorMessage": "BOOLEAN",
            "message": {"id": "VARCHAR", "model": "VARCHAR", "content": "JSON",
                "usage": {"input_tokens": "BIGINT", "output_tokens": "BIGINT",
                    "cache_creation_input_tokens": "BIGINT", "cache_read_input_tokens": "BIGINT",
                    "speed": "VARCHAR",
                    "cache_creation": {"ephemeral_5m_input_tokens": "BIGINT", "ephemeral_1h_input_tokens": "BIGINT"}}}
        }')) as j,
        -- The forward test alone cost a quarter of this statement: RE2 stops at every '"' of the line. Reversed,
        -- the pattern starts with the rarer 'llun:"' (3x faster), but reverse() keeps grapheme clusters whole, so
        -- it can differ where a mark joins a quote; in a line that parses as JSON (the only lines that read
        -- _null_key) the bytes around a match are plain ASCII, so it holds whenever the forward test does, and
        -- the forward test then decides (a CASE runs it on those lines only).
        case
            when regexp_matches(reverse(line), 'llun:"(?:di|dwc|ledom|deeps|DSUtsoc|noisrev|dInoisses|dItseuqer|'
                || 'egasseMrorrEipAsi|snekot_tupni|snekot_tuptuo|snekot_tupni_daer_ehcac|snekot_tupni_noitaerc_ehcac)"')
            then regexp_matches(line, '"(id|cwd|model|speed|costUSD|version|sessionId|requestId|isApiErrorMessage|'
                || 'input_tokens|output_tokens|cache_read_input_tokens|cache_creation_input_tokens)":null')
            else false
        end as _null_key,
        regexp_extract(line, 'usage limit reached\|([0-9]{9,11})', 1) as _reset_epoch
    from candidates
),
checked as (
    select
        *,
        coalesce(try_cast(j.timestamp as timestamptz), try(to_timestamp(try_cast(j.timestamp as double)))) as ts,
        _reset_epoch <> '' and coalesce(j.isApiErrorMessage, false) as _is_limit
    from parsed
),
kept as (
    select *
    from checked
    where j is null  -- malformed: quarantined below
       or ((starts_with(line, '{') or json_type(line) = 'OBJECT')  -- valid JSON starting with { is an object: no second parse
           and ts is not null
           and (j.message.usage is not null or _is_limit)
           and (not _null_key or _is_limit)
           and (j.version is null or regexp_matches(j.version, '^[0-9]+\.[0-9]+\.[0-9]+'))
           and coalesce(j.sessionId, 'x') <> '' and coalesce(j.requestId, 'x') <> ''
           and coalesce(j.message.id, 'x') <> '' and coalesce(j.message.model, 'x') <> '')
),
normalized as (
    select
        line_no,
        case when j is null then 'malformed JSON' end as _reason,
        case when j is null then left(rtrim(line, chr(13) || chr(10)), 2048) end as _excerpt,
        case
            when j.message.id is not null then j.message.id || chr(31) || coalesce(j.requestId, '')
            when j.uuid is not null and j.uuid <> '' then 'uuid:' || j.uuid
            else 'line:' || source_path || ':' || line_no
        end as entry_key,
        j.message.id as message_id,
        j.requestId as request_id,
        j.sessionId as session_id,
        -- the folder in .../projects/<project>/<file> (regexp '/projects/([^/]+)/[^/]*$'; split, 5x cheaper)
        string_split(source_path, '/') as _parts,
        case when len(_parts) >= 4 and _parts[-3] = 'projects' then nullif(_parts[-2], '') end as project,
        j.cwd as cwd,
        j.version as version,
        case when j.message.usage.speed is not null then j.message.model || '-' || j.message.usage.speed
             else j.message.model end as model,
        ts as started_at,
        case when coalesce(j.isApiErrorMessage, false) then 'failure' else 'success' end as status,
        coalesce(j.message.usage.input_tokens, 0) as input_tokens,
        coalesce(j.message.usage.output_tokens, 0) as output_tokens,
        case when j.message.usage.cache_creation is not null
             then coalesce(j.message.usage.cache_creation.ephemeral_5m_input_tokens, 0)
                  + coalesce(j.message.usage.cache_creation.ephemeral_1h_input_tokens, 0)
             else coalesce(j.message.usage.cache_creation_input_tokens, 0) end as cache_creation_tokens,
        j.message.usage.cache_creation.ephemeral_1h_input_tokens as cache_creation_1h_tokens,
        coalesce(j.message.usage.cache_read_input_tokens, 0) as cache_read_tokens,
        input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens as total_tokens,
        j.costUSD as cost_usd,
        case when coalesce(j.isApiErrorMessage, false) then
            left(coalesce(
                try(array_to_string(json_extract_string(j.message.content, '$[*].text'), chr(10))),
                try(json_extract_string(j.message.content, '$'))), 2048)
        end as error_text,
        case when _is_limit then to_timestamp(cast(_reset_epoch as bigint)) end as limit_reset_at,
        j.uuid as line_uuid,
        source_id,
        source_path,
        line_no as source_line,
        now() as ingested_at
    from kept
)
select * exclude (_parts) from normalized
