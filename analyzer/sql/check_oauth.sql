-- check: is the client OAuth token reaching Anthropic? used_client_oauth_token=true (LiteLLM forwarded the client
-- token) or upstream anthropic-ratelimit-unified-* headers (sent only for subscription tokens).
-- latest_oauth_request is looked up by its start time afterwards: reading request_id for every row costs more.
with counts as (
    select
        count(*) as requests,
        count(*) filter (where used_client_oauth_token) as oauth_flag,
        count(*) filter (where rl_has_unified) as unified_headers,
        count(*) filter (where used_client_oauth_token or rl_has_unified) as oauth_requests,
        count(*) filter (where (used_client_oauth_token or rl_has_unified) and status = 'success') as oauth_successes,
        max(started_at) filter (where used_client_oauth_token or rl_has_unified) as latest_oauth,
        max(started_at) filter (where (used_client_oauth_token or rl_has_unified) and status = 'success')
            as latest_oauth_success,
        count(*) filter (where used_client_oauth_token = false) as flag_false,
        count(*) filter (where rl_has_api_limits and not coalesce(rl_has_unified, false)) as api_headers_only,
        max(started_at) as latest_request
    from request_log
)
select
    c.* exclude (latest_oauth_success, flag_false, api_headers_only, latest_request),
    (select min(r.request_id) from request_log r
     where r.started_at = c.latest_oauth and (r.used_client_oauth_token or r.rl_has_unified)) as latest_oauth_request,
    c.latest_oauth_success, c.flag_false, c.api_headers_only, c.latest_request
from counts c
