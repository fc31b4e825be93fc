-- check: OAuth credential failures (billing-and-fallbacks.md section 5), from failed requests and failed callback
-- hops not already shown by a failed request row. category:
--   expired_or_invalid  401 "OAuth access token is invalid" / token expired
--   revoked             403 "OAuth token has been revoked"
--   oauth_not_supported 401 "OAuth authentication is currently not supported" (anthropic-beta oauth flag missing)
--   not_claude_code     400 "only authorized for use with Claude Code"
--   token_not_forwarded 401 "Missing Anthropic API Key" (LiteLLM did not forward the token, no deployment key)
--   other_oauth         401/403 on a request that carried the client OAuth token, or another OAuth message
-- {failed_requests} / {failed_callbacks}: request_log / callback_events, or their failed rows (status <> 'success',
-- the only rows read here) registered once for both failure checks (analyzer.checks.check).
with failures as (
    select 'request' as level, request_id, litellm_call_id, started_at, model_group, key_alias, key_hash,
           error_code, error_class, error_message, used_client_oauth_token
    from {failed_requests} where status <> 'success'
    union all by name
    select 'callback hop' as level, coalesce(c.event_id, c.litellm_call_id), c.litellm_call_id, c.started_at,
           c.model_group, c.key_alias, c.key_hash, c.error_code, c.error_class, c.error_message,
           c.used_client_oauth_token
    from {failed_callbacks} c
    where c.status <> 'success'
      and not exists (select 1 from {failed_requests} r where r.litellm_call_id = c.litellm_call_id and r.status <> 'success'
                      and r.error_message is not distinct from c.error_message)
),
lowered as (
    -- only messages that can match a category below (each needs one of these words, or a 401/403 code)
    select *, lower(error_message) as _m
    from failures
    where contains(lower(error_message), 'oauth') or contains(lower(error_message), 'token')
       or contains(lower(error_message), 'missing anthropic api key') or error_code in ('401', '403')
),
classified as (
    select
        * exclude (_m),
        case
            when contains(_m, 'oauth access token is invalid') or _m like '%oauth%expired%'
                 or _m like '%token%has expired%' then 'expired_or_invalid'
            when contains(_m, 'oauth token has been revoked') then 'revoked'
            when contains(_m, 'oauth authentication is currently not supported') then 'oauth_not_supported'
            when contains(_m, 'only authorized for use with claude code') then 'not_claude_code'
            when contains(_m, 'missing anthropic api key') then 'token_not_forwarded'
            when contains(_m, 'oauth') then 'other_oauth'
            when error_code in ('401', '403') and used_client_oauth_token then 'other_oauth'
        end as category
    from lowered
)
select * from classified where category is not null
order by started_at, request_id
