-- Fallback events in [$since, $until) counted by kind and from -> to.
select
    kind,
    from_model,
    to_model,
    count(*) as events,
    count(*) filter (where status = 'success') as rescued,
    min("at") as first_at,
    max("at") as last_at,
    mode(trigger) as top_trigger
from fallback_events
where ($since is null or "at" >= $since) and ($until is null or "at" < $until)
group by all
order by events desc, kind, from_model, to_model nulls last
