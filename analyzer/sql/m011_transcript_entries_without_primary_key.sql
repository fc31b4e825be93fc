-- Rebuild transcript_entries without its primary key, as m010 did for request_log; the writes keep one row per
-- entry key by themselves (analyzer.sources.claude_code.store_transcript_batch: a plain insert of keys the store
-- does not have, else the losing copy is deleted before the winner is inserted). Measured on a cold ingest of
-- 200k transcript lines: the key's ART index cost 0.2 s in the insert and 0.2 s in its commit, of 8 s in all.
-- entry_key, status, the four token counts, total_tokens and ingested_at stay NOT NULL.
create table transcript_entries_rebuilt as select * from transcript_entries limit 0;
alter table transcript_entries_rebuilt alter column entry_key set not null;
alter table transcript_entries_rebuilt alter column status set not null;
alter table transcript_entries_rebuilt alter column input_tokens set not null;
alter table transcript_entries_rebuilt alter column output_tokens set not null;
alter table transcript_entries_rebuilt alter column cache_creation_tokens set not null;
alter table transcript_entries_rebuilt alter column cache_read_tokens set not null;
alter table transcript_entries_rebuilt alter column total_tokens set not null;
alter table transcript_entries_rebuilt alter column ingested_at set not null;
insert into transcript_entries_rebuilt select * from transcript_entries;
drop table transcript_entries;
alter table transcript_entries_rebuilt rename to transcript_entries;
