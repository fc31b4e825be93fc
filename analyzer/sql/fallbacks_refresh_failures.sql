-- The stored failed rows (failed_requests, failed_callbacks; views_fallbacks.sql) for the scope of a refresh
-- (fallbacks_scope.sql): the requests in _fb_req_scope are rewritten (new rows, and rows whose call got callback
-- events, which update their headers), requests gone since the last refresh are dropped ($orphans), and callback
-- events, which are never updated or deleted, are added when new.
delete from failed_requests where request_id in (select request_id from _fb_req_scope);

-- a statement of its own: "$orphans and ..." alone lets DuckDB skip the scan of request_log when it is false
delete from failed_requests where $orphans and request_id not in (select request_id from request_log);

insert into failed_requests by name
select request_id, litellm_call_id, started_at, status, model_requested, model_group, key_alias, key_hash,
       error_code, error_class, error_message, rl_unified_status, rl_5h_status, rl_7d_status,
       used_client_oauth_token
from _fb_req_scope
where status <> 'success';

insert into failed_callbacks by name
select event_key, event_id, litellm_call_id, started_at, status, model_group, key_alias, key_hash, error_code,
       error_class, error_message, rl_unified_status, rl_5h_status, rl_7d_status, used_client_oauth_token
from callback_events
where ingested_at > $wm and status <> 'success';
