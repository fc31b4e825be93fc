-- LiteLLM_SpendLogs rows (JSONL, API JSON, CSV: all arrive here as one JSON object per line) -> request_log.
-- Input: relation `batch(line_no, byte_offset, line)`; parameter $source_id.
-- Output: request_log columns plus _reason (non-null = quarantine) and _excerpt.
-- Traps handled: prompt_tokens includes cache tokens; JSON columns may be strings or objects; CSV timestamps
-- have no offset and are UTC (Prisma writes UTC); failure rows carry an input *estimate*, counted as zero usage.
with parsed as (
    select
        line_no,
        line,
        try(json_transform(line, '{
            "request_id": "VARCHAR", "call_type": "VARCHAR", "api_key": "VARCHAR", "spend": "DOUBLE",
            "total_tokens": "BIGINT", "prompt_tokens": "BIGINT", "completion_tokens": "BIGINT",
            "startTime": "VARCHAR", "endTime": "VARCHAR", "completionStartTime": "VARCHAR",
            "request_duration_ms": "DOUBLE", "model": "VARCHAR", "model_id": "VARCHAR", "model_group": "VARCHAR",
            "custom_llm_provider": "VARCHAR", "api_base": "VARCHAR", "user": "VARCHAR", "metadata": "VARCHAR",
            "request_tags": "VARCHAR", "team_id": "VARCHAR", "organization_id": "VARCHAR", "end_user": "VARCHAR",
            "requester_ip_address": "VARCHAR", "proxy_server_request": "VARCHAR", "session_id": "VARCHAR",
            "status": "VARCHAR", "litellm_call_id": "VARCHAR"}')) as j
    from batch
    where trim(line, ' ' || chr(9) || chr(10) || chr(13)) <> ''
),
with_meta as (
    select
        line_no,
        line,
        j,
        try(json_transform(j.metadata, '{
            "user_api_key": "VARCHAR", "user_api_key_alias": "VARCHAR", "user_api_key_team_id": "VARCHAR",
            "user_api_key_team_alias": "VARCHAR", "user_api_key_org_id": "VARCHAR",
            "user_api_key_user_id": "VARCHAR", "user_api_key_user_email": "VARCHAR", "user_agent": "VARCHAR",
            "litellm_call_id": "VARCHAR", "requester_ip_address": "VARCHAR",
            "error_information": {"error_code": "VARCHAR", "error_class": "VARCHAR", "error_message": "VARCHAR"},
            "additional_usage_values": {"cache_creation_input_tokens": "BIGINT", "cache_read_input_tokens": "BIGINT",
                "prompt_tokens_details": {"text_tokens": "BIGINT", "cached_tokens": "BIGINT", "cache_write_tokens": "BIGINT"}},
            "usage_object": {"cache_creation_input_tokens": "BIGINT", "cache_read_input_tokens": "BIGINT",
                "prompt_tokens_details": {"text_tokens": "BIGINT", "cached_tokens": "BIGINT", "cache_write_tokens": "BIGINT"}},
            "attempted_retries": "INTEGER", "max_retries": "INTEGER", "attempted_fallbacks": "INTEGER",
            "original_model_group": "VARCHAR", "used_client_oauth_token": "BOOLEAN"}')) as m,
        coalesce(try_cast(j.startTime as timestamptz), try(to_timestamp(try_cast(j.startTime as double)))) as started_at
    from parsed
),
renamed as (
    select
        line_no,
        case
            when j is null and json_valid(line) then 'valid JSON but not a spend-log row (wrong shape)'
            when j is null then 'malformed JSON'
            when json_type(line) <> 'OBJECT' then 'valid JSON but not a spend-log row (wrong shape)'
            when j.request_id is null or j.request_id = '' then 'spend-log row without request_id'
            when j.startTime is null or j.startTime = '' then 'spend-log row without startTime'
            when started_at is null then 'unparseable startTime: ' || left(j.startTime, 60)
        end as _reason,
        case when _reason is not null then left(rtrim(line, chr(13) || chr(10)), 2048) end as _excerpt,
        j.request_id as request_id,
        coalesce(nullif(j.litellm_call_id, ''), m.litellm_call_id) as litellm_call_id,
        'spend_log' as origin,
        started_at,
        coalesce(try_cast(j.endTime as timestamptz), try(to_timestamp(try_cast(j.endTime as double)))) as ended_at,
        coalesce(try_cast(j.completionStartTime as timestamptz), try(to_timestamp(try_cast(j.completionStartTime as double)))) as completion_start_at,
        coalesce(j.request_duration_ms, epoch_ms(ended_at) - epoch_ms(started_at)) as duration_ms,
        j.call_type as call_type,
        case j.call_type
            when 'anthropic_messages' then '/v1/messages'
            when 'acompletion' then '/chat/completions'
            when 'completion' then '/chat/completions'
            when 'pass_through_endpoint' then '/anthropic'
            else j.call_type
        end as route,
        lower(coalesce(nullif(j.status, ''), 'success')) as status,
        coalesce(
            nullif(m.original_model_group, ''),
            case when j.proxy_server_request is not null and j.proxy_server_request not in ('', '{}')
                 then try(json_extract_string(j.proxy_server_request, '$.model')) end,
            nullif(j.model_group, ''),
            j.model
        ) as model_requested,
        nullif(j.model_group, '') as model_group,
        j.model as model,
        nullif(j.model_id, '') as model_id,
        nullif(j.custom_llm_provider, '') as provider,
        nullif(j.api_base, '') as api_base,
        nullif(m.error_information.error_code, '') as error_code,
        nullif(m.error_information.error_class, '') as error_class,
        left(nullif(m.error_information.error_message, ''), 2000) as error_message,
        coalesce(m.additional_usage_values.cache_creation_input_tokens, m.usage_object.cache_creation_input_tokens,
                 m.additional_usage_values.prompt_tokens_details.cache_write_tokens, 0) as _cache_creation,
        coalesce(m.additional_usage_values.cache_read_input_tokens, m.usage_object.cache_read_input_tokens,
                 m.additional_usage_values.prompt_tokens_details.cached_tokens, 0) as _cache_read,
        case when status = 'success' then
            coalesce(m.additional_usage_values.prompt_tokens_details.text_tokens,
                     m.usage_object.prompt_tokens_details.text_tokens,
                     greatest(coalesce(j.prompt_tokens, 0) - _cache_creation - _cache_read, 0))
            else 0 end as input_tokens,
        case when status = 'success' then coalesce(j.completion_tokens, 0) else 0 end as output_tokens,
        case when status = 'success' then _cache_creation else 0 end as cache_creation_tokens,
        case when status = 'success' then _cache_read else 0 end as cache_read_tokens,
        j.prompt_tokens as prompt_tokens_logged,
        j.total_tokens as total_tokens_logged,
        coalesce(j.spend, 0) as spend_usd,
        coalesce(nullif(j.api_key, ''), m.user_api_key) as key_hash,
        m.user_api_key_alias as key_alias,
        coalesce(nullif(j."user", ''), m.user_api_key_user_id) as user_id,
        m.user_api_key_user_email as user_email,
        coalesce(nullif(j.team_id, ''), m.user_api_key_team_id) as team_id,
        m.user_api_key_team_alias as team_alias,
        coalesce(nullif(j.organization_id, ''), m.user_api_key_org_id) as org_id,
        nullif(j.end_user, '') as end_user,
        nullif(j.session_id, '') as session_id,
        cast(null as varchar) as trace_id,
        m.user_agent as user_agent,
        try(json_transform(j.request_tags, '["VARCHAR"]')) as tags,
        m.used_client_oauth_token as used_client_oauth_token,
        m.attempted_fallbacks as attempted_fallbacks,
        m.attempted_retries as attempted_retries,
        m.max_retries as max_retries,
        coalesce(nullif(j.requester_ip_address, ''), m.requester_ip_address) as requester_ip,
        $source_id as source_id,
        line_no as source_line,
        now() as ingested_at,
        -- Keep the redacted record, with JSON columns as objects and without the 9 KB price-map entry.
        case when _reason is null then
            json_object('metadata', try(json_merge_patch(j.metadata::json, '{"model_map_information": null}')),
                        'proxy_server_request', try(j.proxy_server_request::json))
        end as raw
    from with_meta
)
select * exclude (_cache_creation, _cache_read) from renamed
