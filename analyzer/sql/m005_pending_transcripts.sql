-- (session id, message/request id) keys whose transcript matching still has to run (merge_transcripts.sql).
-- Chunks of transcripts (and of LiteLLM rows, once transcripts exist) only record their keys here, in the
-- chunk's transaction; the merge runs once per file or once per ingest run (after_ingest), in batches of
-- sessions, because a per-chunk merge re-matched whole sessions of a million-entry store for every 16 MB read.
create table if not exists pending_transcripts (session_id varchar, message_id varchar);
