-- The failed callback hops, with the columns the failure checks read (check_rate_limits.sql,
-- check_oauth_failures.sql): what the last refresh stored in failed_callbacks (minus event_key), fetched by
-- analyzer.checks.check_store when that is stale.
select event_id, litellm_call_id, started_at, status, model_group, key_alias, key_hash, error_code, error_class,
       error_message, rl_unified_status, rl_5h_status, rl_7d_status, used_client_oauth_token
from callback_events
where status <> 'success'
