-- Requests in [$since, $until) with their billing_summary group. $by: 'day' (calendar day in zone $tz,
-- 'YYYY-MM-DD'), 'key' (alias and hash prefix), 'user', 'model' (served group).
select
    *,
    case $by
        when 'day' then strftime(timezone($tz, started_at), '%Y-%m-%d')
        when 'key' then coalesce(key_alias || ' (' || left(key_hash, 12) || ')', key_hash, '(no key)')
        when 'user' then coalesce(user_id, '(no user)')
        when 'model' then coalesce(model_group, model_requested, model, '(no model)')
    end as grp,
    cast(null as timestamptz) as grp_end
from requests
where ($since is null or started_at >= $since) and ($until is null or started_at < $until)
