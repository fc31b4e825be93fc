-- check: is the client OAuth token reaching Anthropic? used_client_oauth_token=true (LiteLLM forwarded the client
-- token) or upstream anthropic-ratelimit-unified-* headers (sent only for subscription tokens).
select
    count(*) as requests,
    count(*) filter (where used_client_oauth_token) as oauth_flag,
    count(*) filter (where rl_has_unified) as unified_headers,
    count(*) filter (where used_client_oauth_token or rl_has_unified) as oauth_requests,
    count(*) filter (where (used_client_oauth_token or rl_has_unified) and status = 'success') as oauth_successes,
    max(started_at) filter (where used_client_oauth_token or rl_has_unified) as latest_oauth,
    arg_max(request_id, started_at) filter (where used_client_oauth_token or rl_has_unified) as latest_oauth_request,
    max(started_at) filter (where (used_client_oauth_token or rl_has_unified) and status = 'success')
        as latest_oauth_success,
    count(*) filter (where used_client_oauth_token = false) as flag_false,
    count(*) filter (where rl_has_api_limits and not coalesce(rl_has_unified, false)) as api_headers_only,
    max(started_at) as latest_request
from request_log
