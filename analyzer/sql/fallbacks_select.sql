-- fallback_events in [$since, $until) (either may be NULL), oldest first.
select * from fallback_events
where ($since is null or "at" >= $since) and ($until is null or "at" < $until)
order by "at", request_id
