-- Rebuild request_log without its primary key; every write path skips ids it already has by an anti-join
-- (write_batch, merge_callbacks.sql, merge_transcripts.sql). Measured on a million-request store: the key's ART
-- index made a 1,000-row append's INSERT ... ON CONFLICT take 0.19 s instead of 0.09 s, and the checkpoint that
-- rewrote the index took 0.09 s instead of 0.045 s. DuckDB cannot drop a constraint, so the table is copied
-- (once: about 15 s for a million requests); column order, NOT NULL and defaults stay as they were.
create table request_log_rebuilt as select * from request_log limit 0;
alter table request_log_rebuilt alter column request_id set not null;
alter table request_log_rebuilt alter column origin set not null;
alter table request_log_rebuilt alter column ingested_at set not null;
alter table request_log_rebuilt alter column seen_in_litellm set default true;
alter table request_log_rebuilt alter column seen_in_transcript set default false;
insert into request_log_rebuilt select * from request_log;
drop table request_log;
alter table request_log_rebuilt rename to request_log;
