-- Documented views for people who query the database directly (see README, "Querying the database").
-- Replaced whenever this file changes.

create or replace view deployment_keys as
select
    model_name,
    bool_or(has_api_key) as any_api_key,
    bool_and(has_api_key) as all_api_key,
    bool_or(provider in ('bedrock', 'vertex_ai', 'vertex_ai_beta', 'azure', 'azure_ai', 'sagemaker')) as any_cloud
from litellm_deployments
group by model_name;

-- One row per client request. billing_route (subscription, subscription_overage, api, cloud, not_billed, unknown) follows the order in billing-and-fallbacks.md section 7:
-- the first rule that fires decides; billing_evidence names it; spend, user agent and model never decide alone.
create or replace view requests as
with base as (
    select
        r.* exclude (hop_models_json),
        from_json(r.hop_models_json, '["VARCHAR"]') as hop_models,  -- stored as JSON text: see m007
        lower(coalesce(r.provider, '')) as _provider,
        lower(coalesce(r.error_message, '')) as _err,
        dk.any_api_key as _deployment_has_key,
        dk.any_cloud as _deployment_cloud
    from request_log r
    left join deployment_keys dk on dk.model_name = coalesce(r.model_group, r.model_requested)
),
classified as (
    select
        *,
        (rl_overage_status in ('allowed', 'allowed_warning') and rl_unified_status = 'rejected') as _overage,
        case
            when status <> 'success' and (error_class = 'RouterRateLimitError' or _err like 'no deployments available%')
                then ['not_billed', 'LiteLLM refused the request itself (cooldown: No deployments available); it never reached the provider', 'high']
            when status <> 'success' and error_class = 'ProxyException'
                then ['not_billed', 'LiteLLM rejected the request before routing (' || coalesce(error_code, '?') || ' ProxyException); it never reached the provider', 'high']
            when used_client_oauth_token and _provider in ('bedrock', 'vertex_ai', 'vertex_ai_beta', 'azure', 'azure_ai')
                then ['cloud', 'used_client_oauth_token=true but provider ' || _provider || ' never receives the token', 'high']
            when used_client_oauth_token
                then ['subscription', 'used_client_oauth_token=true (LiteLLM forwarded the client OAuth token)', 'high']
            when used_client_oauth_token = false and _provider in ('bedrock', 'vertex_ai', 'vertex_ai_beta', 'azure', 'azure_ai', 'sagemaker')
                then ['cloud', 'used_client_oauth_token=false, provider ' || _provider, 'high']
            when used_client_oauth_token = false
                then ['api', 'used_client_oauth_token=false (the deployment key was used)', 'high']
            when rl_has_unified
                then ['subscription', 'upstream anthropic-ratelimit-unified-* headers (sent only for subscription tokens)', 'high']
            when rl_has_api_limits
                then ['api', 'upstream anthropic-ratelimit-requests/tokens headers without unified-* headers', 'medium']
            when _provider in ('bedrock', 'vertex_ai', 'vertex_ai_beta', 'azure', 'azure_ai', 'sagemaker')
                then ['cloud', 'provider ' || _provider || ' bills its own cloud account', 'high']
            when _err like '%exceed your account''s rate limit%'
                then ['subscription', 'error body: subscription quota message ("your account''s rate limit")', 'medium']
            when _err like '%organization''s rate limit%' or _err like '%rate limit for your organization%'
                then ['api', 'error body: API organization rate limit', 'high']
            when _err like '%credit balance is too low%'
                then ['api', 'error body: API credit balance too low', 'high']
            when _err like '%only authorized for use with claude code%' or _err like '%oauth token has been revoked%'
                 or _err like '%oauth access token is invalid%' or _err like '%oauth authentication is currently not supported%'
                then ['subscription', 'error body: OAuth credential error (request not billed)', 'high']
            when client_sent_api_key and route = '/anthropic'
                then ['api', 'pass-through request carried a client x-api-key header', 'medium']
            when client_sent_api_key = false and route = '/anthropic'
                then ['subscription', 'pass-through request without a client x-api-key: the client Authorization (OAuth) header was forwarded, unless the proxy sets ANTHROPIC_API_KEY', 'low']
            when _deployment_cloud
                then ['cloud', 'LiteLLM config: deployment is a cloud provider', 'medium']
            when _deployment_has_key = false and status = 'success'
                then ['subscription', 'LiteLLM config: deployment has no api_key, so the request succeeded on a client credential', 'medium']
            when _deployment_has_key and route <> '/anthropic' and not coalesce(client_sent_api_key, false)
                then ['api', 'LiteLLM config: deployment has an api_key and no client OAuth evidence', 'low']
            when client_sent_api_key
                then ['api', 'client sent an x-api-key header', 'low']
            else ['unknown', 'no billing signal in the logs (no used_client_oauth_token, no upstream headers, no config)', 'low']
        end as _billing
    from base
)
select
    * exclude (_provider, _err, _deployment_has_key, _deployment_cloud, _overage, _billing),
    case when _billing[1] = 'subscription' and _overage then 'subscription_overage' else _billing[1] end as billing_route,
    _billing[2] || case when _billing[1] = 'subscription' and _overage
                        then '; unified-status rejected with overage allowed (usage credits at API rates)' else '' end
        as billing_evidence,
    _billing[3] as billing_confidence,
    coalesce(model_group, model) as model_served,
    input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens as total_tokens
from classified;
