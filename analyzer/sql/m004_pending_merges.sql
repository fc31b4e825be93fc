-- Call ids whose callback events still have to be merged into request_log. Chunks only record them here (in
-- the chunk's transaction); the merge runs once per file (and after each watcher batch), because a per-chunk
-- merge rewrote rows of a million-row request_log for every 16 MB read.
create table if not exists pending_call_merges (litellm_call_id varchar);
