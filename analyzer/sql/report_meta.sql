-- Header facts for the report: requests in [$since, $until) and their time range; store-wide counts.
select
    (select count(*) from requests
      where ($since is null or started_at >= $since) and ($until is null or started_at < $until)) as requests,
    (select min(started_at) from requests
      where ($since is null or started_at >= $since) and ($until is null or started_at < $until)) as first_at,
    (select max(started_at) from requests
      where ($since is null or started_at >= $since) and ($until is null or started_at < $until)) as last_at,
    (select count(*) from request_log) as stored_requests,
    (select count(*) from callback_events) as callback_events,
    (select count(*) from proxy_events) as proxy_events,
    (select count(*) from quarantine) as quarantined,
    (select count(*) from sources) as sources;
