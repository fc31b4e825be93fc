-- The $n most recent fallback_events in [$since, $until) (either may be NULL), oldest first: the tail of
-- fallbacks_select.sql ("at", request_id is unique per event), read without fetching the others.
select * from (
    select * from fallback_events
    where ($since is null or "at" >= $since) and ($until is null or "at" < $until)
    order by "at" desc, request_id desc
    limit $n
)
order by "at", request_id
