-- Where each PostgreSQL source (LiteLLM's own database, read by `ccstats ingest postgresql://...`) stopped.
-- One row per (redacted DSN, table); the password never reaches this table. Rows and the new watermark of a batch
-- commit in one transaction. Each read starts `lookback` before the watermark so rows committed late are caught;
-- request_log's natural key (request_id) makes the re-read rows harmless.
create table if not exists postgres_watermarks (
    source_id         bigint primary key,    -- the `sources` row (path = the redacted DSN)
    dsn               varchar not null,      -- postgresql://user@host:port/db, no password
    table_name        varchar not null,      -- "LiteLLM_SpendLogs"
    last_start_time   timestamptz,           -- "startTime" of the newest row read (UTC)
    last_request_id   varchar,               -- request_id of that row (ties on "startTime")
    rows_read         bigint not null default 0,   -- rows fetched, look-back re-reads included
    polls             bigint not null default 0,
    last_poll         timestamptz,
    unique (dsn, table_name)
);
