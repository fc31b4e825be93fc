-- Core store. Every timestamp is UTC (TIMESTAMPTZ); conversion happens only for display.

create table if not exists sources (
    source_id      bigint primary key,
    path           varchar not null,        -- last path the source was seen at
    device         bigint,
    inode          bigint,
    fingerprint    varchar not null,        -- sha256 of the first fingerprint_len decompressed bytes
    fingerprint_len integer not null,
    compressed     boolean not null default false,
    format         varchar not null,
    size_bytes     bigint not null default 0,   -- decompressed bytes seen
    offset_bytes   bigint not null default 0,   -- decompressed bytes consumed (complete lines)
    lines_read     bigint not null default 0,
    rows_added     bigint not null default 0,
    duplicates     bigint not null default 0,
    quarantined    bigint not null default 0,
    skipped_lines  bigint not null default 0,   -- non-JSON lines in proxy logs, blank lines
    first_ingest   timestamptz not null,
    last_ingest    timestamptz not null
);

create sequence if not exists source_ids start 1;

create table if not exists quarantine (
    source_id    bigint,
    path         varchar not null,
    line_no      bigint,          -- 1-based line (or record number for whole-file JSON)
    byte_offset  bigint,          -- offset of the line in the decompressed stream
    reason       varchar not null,
    raw_excerpt  varchar,         -- first 2 KB, redacted
    quarantined_at timestamptz not null
);

-- One row per client request (LiteLLM's request_id: provider message id on success, call id on failure).
create table if not exists request_log (
    request_id              varchar primary key,
    litellm_call_id         varchar,
    origin                  varchar not null,   -- 'spend_log' or 'callback' (callback events only)
    started_at              timestamptz,
    ended_at                timestamptz,
    completion_start_at     timestamptz,
    duration_ms             double,
    call_type               varchar,
    route                   varchar,
    status                  varchar,
    model_requested         varchar,
    model_group             varchar,            -- group that served (or failed)
    model                   varchar,            -- deployment model string
    model_id                varchar,
    provider                varchar,
    api_base                varchar,
    error_code              varchar,
    error_class             varchar,
    error_message           varchar,
    input_tokens            bigint,             -- raw input, cache excluded
    output_tokens           bigint,
    cache_creation_tokens   bigint,
    cache_read_tokens       bigint,
    prompt_tokens_logged    bigint,             -- LiteLLM's prompt_tokens: includes cache tokens
    total_tokens_logged     bigint,
    spend_usd               double,             -- LiteLLM's logged spend: API list price for all traffic
    key_hash                varchar,
    key_alias               varchar,
    user_id                 varchar,
    user_email              varchar,
    team_id                 varchar,
    team_alias              varchar,
    org_id                  varchar,
    end_user                varchar,
    session_id              varchar,
    trace_id                varchar,
    user_agent              varchar,
    tags                    varchar[],
    used_client_oauth_token boolean,
    attempted_fallbacks     integer,
    attempted_retries       integer,
    max_retries             integer,
    requester_ip            varchar,
    client_sent_api_key     boolean,            -- requester_custom_headers carried x-api-key
    hops                    integer,            -- callback events seen for this call id
    failed_hops             integer,
    hop_models              varchar[],          -- model groups of the hops, in order
    rl_unified_status       varchar,
    rl_5h_status            varchar,
    rl_5h_utilization       double,
    rl_5h_reset             timestamptz,
    rl_7d_status            varchar,
    rl_7d_utilization       double,
    rl_7d_reset             timestamptz,
    rl_representative_claim varchar,
    rl_overage_status       varchar,
    rl_fallback_percentage  double,
    rl_has_unified          boolean,
    rl_has_api_limits       boolean,
    source_id               bigint,
    source_line             bigint,
    ingested_at             timestamptz not null,
    raw                     json                -- redacted record, minus the price-map entry
);

-- One row per callback event (StandardLoggingPayload): one per hop, failed hops included.
create table if not exists callback_events (
    event_key               varchar primary key,
    event_id                varchar,            -- payload id: message id on success, call id on failure
    litellm_call_id         varchar,
    trace_id                varchar,
    status                  varchar,
    started_at              timestamptz,
    ended_at                timestamptz,
    completion_start_at     timestamptz,
    call_type               varchar,
    stream                  boolean,
    model                   varchar,
    model_group             varchar,
    model_id                varchar,
    provider                varchar,
    api_base                varchar,
    error_code              varchar,
    error_class             varchar,
    error_message           varchar,
    input_tokens            bigint,
    output_tokens           bigint,
    cache_creation_tokens   bigint,
    cache_read_tokens       bigint,
    prompt_tokens_logged    bigint,
    total_tokens_logged     bigint,
    response_cost           double,
    key_hash                varchar,
    key_alias               varchar,
    user_id                 varchar,
    user_email              varchar,
    team_id                 varchar,
    team_alias              varchar,
    org_id                  varchar,
    end_user                varchar,
    session_id              varchar,
    user_agent              varchar,
    request_route           varchar,
    tags                    varchar[],
    used_client_oauth_token boolean,
    client_sent_api_key     boolean,
    requester_ip            varchar,
    rl_unified_status       varchar,
    rl_5h_status            varchar,
    rl_5h_utilization       double,
    rl_5h_reset             timestamptz,
    rl_7d_status            varchar,
    rl_7d_utilization       double,
    rl_7d_reset             timestamptz,
    rl_representative_claim varchar,
    rl_overage_status       varchar,
    rl_fallback_percentage  double,
    rl_has_unified          boolean,
    rl_has_api_limits       boolean,
    source_id               bigint,
    source_line             bigint,
    ingested_at             timestamptz not null,
    raw                     json
);

-- Classified proxy log lines (json_logs: true).
create table if not exists proxy_events (
    event_key        varchar primary key,   -- md5 of the redacted line
    logged_at        timestamptz,
    level            varchar,
    component        varchar,
    logger           varchar,
    kind             varchar,               -- access, error, fallback, retry, cooldown, other
    message          varchar,               -- redacted, first 4 KB
    litellm_call_id  varchar,
    request_id       varchar,               -- upstream request id (req_...) when the line carries one
    http_method      varchar,
    http_path        varchar,
    http_status      integer,
    target_model_group varchar,             -- "Falling back to model_group = X"
    error_type       varchar,
    source_id        bigint,
    source_line      bigint,
    ingested_at      timestamptz not null
);

create index if not exists request_log_call_id on request_log (litellm_call_id);
create index if not exists callback_events_call_id on callback_events (litellm_call_id);

-- Deployments read from a LiteLLM config (`--litellm-config`): which ones carry their own api_key.
create table if not exists litellm_deployments (
    model_name     varchar,     -- the group name clients ask for
    litellm_model  varchar,     -- e.g. anthropic/claude-sonnet-4-5-20250929
    model_id       varchar,     -- model_info.id when the config sets one
    provider       varchar,
    api_base       varchar,
    has_api_key    boolean,
    config_path    varchar,
    loaded_at      timestamptz
);
