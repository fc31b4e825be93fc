-- Drop the secondary ART indexes on litellm_call_id (request_log, callback_events). DuckDB joins and semi-joins
-- by hash and never used them, but every checkpoint rewrote them: a 1,000-row append to a million-request
-- store spent 0.07 s of its 0.16 s checkpoint on request_log_call_id alone, and every update of a merged request
-- paid for it too.
drop index if exists request_log_call_id;
drop index if exists callback_events_call_id;
