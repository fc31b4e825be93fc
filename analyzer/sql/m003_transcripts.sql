-- Claude Code's own transcripts (<config>/projects/<project>/<session>.jsonl) as a second source.
-- One row per Anthropic response, de-duplicated as ccusage 20.0.24 does: key = message id + request id; of
-- several copies the one with the most tokens (input + output + cache creation + cache read) wins, ties go to
-- the copy first in (file path, line) order. analyzer/sources/claude_code.py merges these into request_log.
create table if not exists transcript_entries (
    entry_key               varchar primary key,  -- message_id || chr(31) || request_id; 'uuid:' / 'line:' without id
    message_id              varchar,              -- Anthropic message id (msg_...) = LiteLLM request_id on success
    request_id              varchar,              -- Anthropic request id (req_...), Claude Code's requestId
    session_id              varchar,              -- Claude Code sessionId (= x-claude-code-session-id)
    project                 varchar,              -- the projects/<project>/ folder name
    cwd                     varchar,
    version                 varchar,              -- Claude Code version
    model                   varchar,              -- message.model (with -<speed> when usage.speed is set, as ccusage)
    started_at              timestamptz,          -- the line's timestamp (UTC)
    status                  varchar not null,     -- 'success', or 'failure' for isApiErrorMessage lines
    input_tokens            bigint not null,
    output_tokens           bigint not null,
    cache_creation_tokens   bigint not null,      -- 5m + 1h when usage.cache_creation is present (ccusage rule)
    cache_creation_1h_tokens bigint,              -- usage.cache_creation.ephemeral_1h_input_tokens
    cache_read_tokens       bigint not null,
    total_tokens            bigint not null,      -- the four counts summed: decides which copy wins
    cost_usd                double,               -- costUSD, written by old Claude Code versions only
    error_text              varchar,              -- text of an API error message (first 2 KB)
    limit_reset_at          timestamptz,          -- "Claude AI usage limit reached|<epoch>": the official reset
    line_uuid               varchar,
    source_id               bigint,
    source_path             varchar,
    source_line             bigint,
    ingested_at             timestamptz not null
);

-- Which log a request_log row was seen in. A request in both is one row (the LiteLLM one, with
-- seen_in_transcript = true); origin = 'claude_code' rows are transcript-only (direct) traffic.
alter table request_log add column if not exists seen_in_litellm boolean default true;
alter table request_log add column if not exists seen_in_transcript boolean default false;
