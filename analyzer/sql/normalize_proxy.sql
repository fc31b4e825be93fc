-- Proxy JSON log lines (json_logs: true), stdout and stderr -> proxy_events.
-- Input: relation `batch(line_no, byte_offset, line)`; parameters $source_id, $log_tz.
-- Lines that are not JSON objects (banners, prints) are skipped and counted, never quarantined.
-- `timestamp` is local time without an offset: it is read in $log_tz and stored as UTC.
with parsed as (
    select
        line_no,
        line,
        try(json_transform(line, '{"message": "VARCHAR", "level": "VARCHAR", "timestamp": "VARCHAR",
            "component": "VARCHAR", "logger": "VARCHAR", "litellm_call_id": "VARCHAR", "request_id": "VARCHAR",
            "error": {"type": "VARCHAR"}}')) as j
    from batch
    where ltrim(line)[1] = '{'
),
timed as (
    select
        *,
        case
            when regexp_matches(j.timestamp, '(Z|[+-]\d\d:?\d\d)$') then try_cast(j.timestamp as timestamptz)
            else try(timezone($log_tz, try_cast(j.timestamp as timestamp)))
        end as logged_at,
        coalesce(j.message, '') as msg
    from parsed
),
renamed as (
    select
        line_no,
        case
            when j is null and json_valid(line) then 'valid JSON but not a proxy log line (wrong shape)'
            when j is null then 'malformed JSON'
            when json_type(line) <> 'OBJECT' then 'valid JSON but not a proxy log line (wrong shape)'
            when j.message is null and j.level is null then 'JSON line without message or level'
            when j.timestamp is null then 'proxy log line without timestamp'
            when logged_at is null then 'unparseable timestamp: ' || left(j.timestamp, 60)
        end as _reason,
        case when _reason is not null then left(rtrim(line, chr(13) || chr(10)), 2048) end as _excerpt,
        md5(line) as event_key,
        logged_at,
        upper(j.level) as level,
        j.component as component,
        j.logger as logger,
        case
            when j.component = 'uvicorn.access' then 'access'
            when msg ilike '%Falling back to model_group%' or msg ilike '%Successful fallback%'
                 or msg ilike '%trying to do fallbacks%' then 'fallback'
            when msg ilike '%No deployments available%' or msg ilike '%cooldown%' or msg ilike '%RouterRateLimitError%'
                then 'cooldown'
            when msg ilike '%retrying%' or msg ilike 'litellm.%retry%' then 'retry'
            when upper(j.level) in ('ERROR', 'CRITICAL') or msg ilike '%exception%' then 'error'
            else 'other'
        end as kind,
        left(msg, 4096) as message,
        coalesce(j.litellm_call_id,
                 nullif(regexp_extract(msg, 'litellm_call_id[=:]\s*''?"?([0-9a-fA-F-]{36})', 1), '')) as litellm_call_id,
        coalesce(j.request_id, nullif(regexp_extract(msg, '"request_id":\s*"(req_[A-Za-z0-9_]+)"', 1), '')) as request_id,
        nullif(regexp_extract(msg, '"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})', 1), '') as http_method,
        nullif(regexp_extract(msg, '"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})', 2), '') as http_path,
        try_cast(nullif(regexp_extract(msg, '"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})', 3), '') as integer) as http_status,
        nullif(regexp_extract(msg, 'Falling back to model_group\s*=\s*(\S+)', 1), '') as target_model_group,
        j.error.type as error_type,
        $source_id as source_id,
        line_no as source_line,
        now() as ingested_at
    from timed
)
select * from renamed
