-- request_log.hop_models (VARCHAR[]) becomes hop_models_json (VARCHAR: a JSON array of the hops' model groups).
-- Why: DuckDB turns an UPDATE of a LIST column into delete + insert of the whole row (here ~10 KB of raw JSON,
-- plus the indexes), so merging a million requests' callback hops took minutes; a VARCHAR is updated in place.
-- The `requests` view still exposes hop_models as a list. An index on the table blocks DROP COLUMN, hence the
-- drop and re-create.
drop index if exists request_log_call_id;
alter table request_log add column hop_models_json varchar;
update request_log set hop_models_json = to_json(hop_models)::varchar where hop_models is not null;
alter table request_log drop column hop_models;
create index if not exists request_log_call_id on request_log (litellm_call_id);
