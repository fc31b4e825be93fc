-- check: are both kinds of source flowing? Rows and latest event time per source kind (spend-log rows, callback
-- events, proxy log lines), and the last time a file of that kind was ingested.
select 'spend_log' as source_kind, count(*) as events, max(started_at) as latest_event,
       (select max(last_ingest) from sources where format like 'spend-%') as last_ingest
from request_log where origin = 'spend_log'
union all
select 'callback', count(*), max(started_at),
       (select max(last_ingest) from sources where format like 'callback-%')
from callback_events
union all
select 'proxy', count(*), max(logged_at),
       (select max(last_ingest) from sources where format like 'proxy-%')
from proxy_events
