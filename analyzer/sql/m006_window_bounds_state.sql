-- What the stored default window bounds (window_bounds_5h, views_windows.sql) were computed from, for the
-- incremental analyzer.windows.refresh_window_bounds: the newest request_log.ingested_at and the number of
-- successful timed requests at the last refresh, and the rule's parameters. At most one row; none = recompute all.
create table if not exists window_bounds_state (
    watermark      timestamptz,
    successes      bigint not null,
    granularity_ms bigint not null,
    length_ms      bigint not null
);
