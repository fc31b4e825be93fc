-- StandardLoggingPayload events (logging callbacks, bucket dumps): one event per hop -> callback_events.
-- Input: relation `batch(line_no, byte_offset, line)`; parameter $source_id.
-- Times are epoch-float seconds (ISO strings are accepted too). Upstream response headers sit in
-- hidden_params.additional_headers as "llm_provider-<header>" (non-streaming calls only).
with parsed as (
    select
        line_no,
        line,
        try(json_transform(line, '{
            "id": "VARCHAR", "trace_id": "VARCHAR", "litellm_call_id": "VARCHAR", "call_type": "VARCHAR",
            "stream": "BOOLEAN", "status": "VARCHAR", "response_cost": "DOUBLE", "custom_llm_provider": "VARCHAR",
            "prompt_tokens": "BIGINT", "completion_tokens": "BIGINT", "total_tokens": "BIGINT",
            "startTime": "VARCHAR", "endTime": "VARCHAR", "completionStartTime": "VARCHAR",
            "model": "VARCHAR", "model_id": "VARCHAR", "model_group": "VARCHAR", "api_base": "VARCHAR",
            "end_user": "VARCHAR", "requester_ip_address": "VARCHAR", "user_agent": "VARCHAR",
            "session_id": "VARCHAR", "request_tags": ["VARCHAR"], "error_str": "VARCHAR",
            "metadata": {"user_api_key_hash": "VARCHAR", "user_api_key_alias": "VARCHAR",
                "user_api_key_user_id": "VARCHAR", "user_api_key_user_email": "VARCHAR",
                "user_api_key_team_id": "VARCHAR", "user_api_key_team_alias": "VARCHAR",
                "user_api_key_org_id": "VARCHAR", "user_api_key_end_user_id": "VARCHAR",
                "user_api_key_request_route": "VARCHAR", "user_agent": "VARCHAR",
                "used_client_oauth_token": "BOOLEAN", "requester_ip_address": "VARCHAR",
                "requester_custom_headers": "JSON",
                "usage_object": {"cache_creation_input_tokens": "BIGINT", "cache_read_input_tokens": "BIGINT",
                    "prompt_tokens_details": {"text_tokens": "BIGINT", "cached_tokens": "BIGINT"}}},
            "error_information": {"error_code": "VARCHAR", "error_class": "VARCHAR", "error_message": "VARCHAR"},
            "hidden_params": {
                "usage_object": {"cache_creation_input_tokens": "BIGINT", "cache_read_input_tokens": "BIGINT",
                    "prompt_tokens_details": {"text_tokens": "BIGINT", "cached_tokens": "BIGINT"}},
                "additional_headers": "MAP(VARCHAR, VARCHAR)"}}')) as j
    from batch
    where trim(line, ' ' || chr(9) || chr(10) || chr(13)) <> ''
),
timed as (
    select
        *,
        coalesce(try(to_timestamp(try_cast(j.startTime as double))), try_cast(j.startTime as timestamptz)) as started_at,
        j.hidden_params.additional_headers as h,
        coalesce(j.metadata.usage_object, j.hidden_params.usage_object) as u
    from parsed
),
renamed as (
    select
        line_no,
        case
            when j is null and json_valid(line) then 'valid JSON but not a logging payload (wrong shape)'
            when j is null then 'malformed JSON'
            when json_type(line) <> 'OBJECT' then 'valid JSON but not a logging payload (wrong shape)'
            when coalesce(j.litellm_call_id, j.id) is null then 'logging payload without litellm_call_id or id'
            when j.startTime is null then 'logging payload without startTime'
            when started_at is null then 'unparseable startTime: ' || left(j.startTime, 60)
        end as _reason,
        case when _reason is not null then left(rtrim(line, chr(13) || chr(10)), 2048) end as _excerpt,
        md5(concat_ws('|', j.litellm_call_id, j.id, j.status, j.startTime, j.model_id, j.api_base, j.model)) as event_key,
        j.id as event_id,
        coalesce(j.litellm_call_id, j.id) as litellm_call_id,
        nullif(j.trace_id, '') as trace_id,
        lower(coalesce(j.status, 'success')) as status,
        started_at,
        coalesce(try(to_timestamp(try_cast(j.endTime as double))), try_cast(j.endTime as timestamptz)) as ended_at,
        coalesce(try(to_timestamp(try_cast(j.completionStartTime as double))), try_cast(j.completionStartTime as timestamptz)) as completion_start_at,
        j.call_type as call_type,
        j.stream as stream,
        j.model as model,
        nullif(j.model_group, '') as model_group,
        nullif(j.model_id, '') as model_id,
        nullif(j.custom_llm_provider, '') as provider,
        nullif(j.api_base, '') as api_base,
        nullif(j.error_information.error_code, '') as error_code,
        nullif(j.error_information.error_class, '') as error_class,
        left(coalesce(nullif(j.error_information.error_message, ''), nullif(j.error_str, '')), 2000) as error_message,
        coalesce(u.cache_creation_input_tokens, 0) as _cache_creation,
        coalesce(u.cache_read_input_tokens, u.prompt_tokens_details.cached_tokens, 0) as _cache_read,
        case when status = 'success' then coalesce(u.prompt_tokens_details.text_tokens,
            greatest(coalesce(j.prompt_tokens, 0) - _cache_creation - _cache_read, 0)) else 0 end as input_tokens,
        case when status = 'success' then coalesce(j.completion_tokens, 0) else 0 end as output_tokens,
        case when status = 'success' then _cache_creation else 0 end as cache_creation_tokens,
        case when status = 'success' then _cache_read else 0 end as cache_read_tokens,
        j.prompt_tokens as prompt_tokens_logged,
        j.total_tokens as total_tokens_logged,
        j.response_cost as response_cost,
        j.metadata.user_api_key_hash as key_hash,
        j.metadata.user_api_key_alias as key_alias,
        j.metadata.user_api_key_user_id as user_id,
        j.metadata.user_api_key_user_email as user_email,
        j.metadata.user_api_key_team_id as team_id,
        j.metadata.user_api_key_team_alias as team_alias,
        j.metadata.user_api_key_org_id as org_id,
        coalesce(nullif(j.end_user, ''), j.metadata.user_api_key_end_user_id) as end_user,
        coalesce(nullif(j.session_id, ''), nullif(j.trace_id, '')) as session_id,
        coalesce(j.metadata.user_agent, j.user_agent) as user_agent,
        j.metadata.user_api_key_request_route as request_route,
        j.request_tags as tags,
        j.metadata.used_client_oauth_token as used_client_oauth_token,
        coalesce(try(json_extract_string(j.metadata.requester_custom_headers, '$."x-api-key"')) is not null, false)
            as client_sent_api_key,
        coalesce(j.requester_ip_address, j.metadata.requester_ip_address) as requester_ip,
        coalesce(h['llm_provider-anthropic-ratelimit-unified-status'], h['anthropic-ratelimit-unified-status']) as rl_unified_status,
        coalesce(h['llm_provider-anthropic-ratelimit-unified-5h-status'], h['anthropic-ratelimit-unified-5h-status']) as rl_5h_status,
        try_cast(coalesce(h['llm_provider-anthropic-ratelimit-unified-5h-utilization'], h['anthropic-ratelimit-unified-5h-utilization']) as double) as rl_5h_utilization,
        to_timestamp(try_cast(coalesce(h['llm_provider-anthropic-ratelimit-unified-5h-reset'], h['anthropic-ratelimit-unified-5h-reset']) as double)) as rl_5h_reset,
        coalesce(h['llm_provider-anthropic-ratelimit-unified-7d-status'], h['anthropic-ratelimit-unified-7d-status']) as rl_7d_status,
        try_cast(coalesce(h['llm_provider-anthropic-ratelimit-unified-7d-utilization'], h['anthropic-ratelimit-unified-7d-utilization']) as double) as rl_7d_utilization,
        to_timestamp(try_cast(coalesce(h['llm_provider-anthropic-ratelimit-unified-7d-reset'], h['anthropic-ratelimit-unified-7d-reset']) as double)) as rl_7d_reset,
        coalesce(h['llm_provider-anthropic-ratelimit-unified-representative-claim'], h['anthropic-ratelimit-unified-representative-claim']) as rl_representative_claim,
        coalesce(h['llm_provider-anthropic-ratelimit-unified-overage-status'], h['anthropic-ratelimit-unified-overage-status']) as rl_overage_status,
        try_cast(coalesce(h['llm_provider-anthropic-ratelimit-unified-fallback-percentage'], h['anthropic-ratelimit-unified-fallback-percentage']) as double) as rl_fallback_percentage,
        coalesce(coalesce(h['llm_provider-anthropic-ratelimit-unified-status'], h['anthropic-ratelimit-unified-status']), coalesce(h['llm_provider-anthropic-ratelimit-unified-5h-status'], h['anthropic-ratelimit-unified-5h-status']),
                 cast(try_cast(coalesce(h['llm_provider-anthropic-ratelimit-unified-5h-utilization'], h['anthropic-ratelimit-unified-5h-utilization']) as double) as varchar),
                 coalesce(h['llm_provider-anthropic-ratelimit-unified-representative-claim'], h['anthropic-ratelimit-unified-representative-claim'])) is not null as rl_has_unified,
        coalesce(coalesce(h['llm_provider-anthropic-ratelimit-requests-limit'], h['anthropic-ratelimit-requests-limit']), coalesce(h['llm_provider-anthropic-ratelimit-tokens-limit'], h['anthropic-ratelimit-tokens-limit']),
                 coalesce(h['llm_provider-anthropic-ratelimit-input-tokens-limit'], h['anthropic-ratelimit-input-tokens-limit']), h['x_ratelimit_limit_requests'],
                 h['x_ratelimit_limit_tokens']) is not null as rl_has_api_limits,
        $source_id as source_id,
        line_no as source_line,
        now() as ingested_at,
        -- the redacted payload without the bulky parts that are never analysed (prompts, response, price map)
        case when _reason is null then json_merge_patch(line, '{"messages": null, "response": null, "model_map_information": null}') end as raw
    from timed
)
select * exclude (_cache_creation, _cache_read) from renamed
