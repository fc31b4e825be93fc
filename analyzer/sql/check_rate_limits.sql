-- check: rate-limit rejections (429 / rate_limit_error / LiteLLM cooldown), from failed requests and from failed
-- callback hops that no failed request row already shows (hops rescued by a fallback or retry). category:
--   litellm_cooldown    RouterRateLimitError / "No deployments available" (LiteLLM refused; nothing reached upstream)
--   subscription_quota  "exceed your account's rate limit", or unified-* status rejected (plan limit)
--   api_limit           "organization's rate limit" / "rate limit for your organization" (API key limits)
--   other               429 without either marker (server throttle "Rate limited", spend cap, ...)
-- {failed_requests} / {failed_callbacks}: request_log / callback_events, or their failed rows (status <> 'success',
-- the only rows read here) registered once for both failure checks (analyzer.checks.check).
with req as (
    select 'request' as level, request_id, litellm_call_id, started_at, model_requested, model_group, key_alias,
           key_hash, error_code, error_class, error_message, rl_unified_status, rl_5h_status, rl_7d_status
    from {failed_requests}
    where status <> 'success'
      and (error_code = '429' or error_class in ('RateLimitError', 'RouterRateLimitError')
           or error_message ilike '%rate_limit_error%' or error_message ilike '%No deployments available%')
),
hop as (
    select 'callback hop' as level, coalesce(c.event_id, c.litellm_call_id) as request_id, c.litellm_call_id,
           c.started_at, c.model_group as model_requested, c.model_group, c.key_alias, c.key_hash, c.error_code,
           c.error_class, c.error_message, c.rl_unified_status, c.rl_5h_status, c.rl_7d_status
    from {failed_callbacks} c
    where c.status <> 'success'
      and (c.error_code = '429' or c.error_class in ('RateLimitError', 'RouterRateLimitError')
           or c.error_message ilike '%rate_limit_error%' or c.error_message ilike '%No deployments available%')
      and not exists (select 1 from req where req.litellm_call_id = c.litellm_call_id)
)
select
    *,
    case
        when error_class = 'RouterRateLimitError' or error_message ilike '%No deployments available%'
            then 'litellm_cooldown'
        when error_message ilike '%exceed your account''s rate limit%' or rl_unified_status = 'rejected'
             or rl_5h_status = 'rejected' or rl_7d_status = 'rejected'
            then 'subscription_quota'
        when error_message ilike '%organization''s rate limit%' or error_message ilike '%rate limit for your organization%'
            then 'api_limit'
        else 'other'
    end as category
from (select * from req union all by name select * from hop)
order by started_at, request_id
