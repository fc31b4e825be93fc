-- (group, request time in epoch ms) of successful traffic, sorted (duplicates kept): input of windows() without
-- start flooring. {source} as in windows_buckets.sql.
-- $by: NULL (all traffic) or one of key_hash, user_id, end_user, session_id, model_group; '' = no value.
-- $billing: NULL (all traffic) or a list of billing_route values.
select
    coalesce(case $by
        when 'key_hash' then key_hash
        when 'user_id' then user_id
        when 'end_user' then end_user
        when 'session_id' then session_id
        when 'model_group' then coalesce(model_group, model)
        else ''
    end, '') as g,
    epoch_ms(started_at) as t
from {source}
where status = 'success' and started_at is not null
  and ($billing is null or list_contains($billing, billing_route))
order by g, t;
