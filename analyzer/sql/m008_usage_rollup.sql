-- A per-hour rollup of request_log for the report (analyzer.rollup): counts, token sums, spend, computed cost,
-- first/last start time and the latest official headers, per hour and every dimension the 5-hour windows, the
-- weekly periods and the billing cube group by. Windows, weekly and the billing cube then read thousands of rows
-- instead of one per request. It is a cache, never the truth: usage_rollup_hours holds each hour's request count
-- and checksum as of the rollup, and readers recompute any hour whose checksum no longer matches request_log.
create table if not exists usage_rollup (
    hour_key              bigint not null,   -- floor(epoch ms / 1 h), left-closed; NULL_HOUR for no start time
    hour_r                bigint,            -- floor((epoch ms - 1) / 1 h): the right-closed bucket of windows
    model_name            varchar,           -- coalesce(model_group, model)
    key_hash              varchar,
    key_alias             varchar,
    billing_route         varchar,
    billing_evidence      varchar,
    billing_confidence    varchar,
    status                varchar,
    requests              bigint not null,
    input_tokens          hugeint,
    output_tokens         hugeint,
    cache_creation_tokens hugeint,
    cache_read_tokens     hugeint,
    total_tokens          hugeint,
    io_tokens             hugeint,           -- input + output, per request (NULL when either is)
    spend_usd             double,            -- LiteLLM's logged spend (API list price)
    cost_usd              double,            -- computed (genai-prices); NULL when no request of the row is priced
    unpriced_requests     bigint not null,
    min_at                timestamptz,
    max_at                timestamptz,
    rl_5h_reset           timestamptz,
    rl_5h_reset_at        timestamptz,
    rl_5h_utilization     double,
    rl_5h_utilization_at  timestamptz,
    rl_5h_status          varchar,
    rl_5h_status_at       timestamptz,
    rl_7d_reset           timestamptz,
    rl_7d_reset_at        timestamptz,
    rl_7d_utilization     double,
    rl_7d_utilization_at  timestamptz,
    rl_7d_status          varchar,
    rl_7d_status_at       timestamptz
);
create table if not exists usage_rollup_hours (
    hour_key bigint not null,
    requests bigint not null,
    checksum hugeint
);
-- What the rollup was computed with (prices, LiteLLM config, classification and rollup code); a mismatch = rebuild.
create table if not exists usage_rollup_state (
    fingerprint varchar not null
);
