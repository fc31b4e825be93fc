-- The hours of a usage rollup (formatted in as rollup) whose rows span two report periods: the period key
-- (formatted in twice: of the first and of the last start time) differs between a row's first and last start time. Reports place
-- these hours' requests one by one (rollup_request_rows.sql). $tz, $anchor_ms: as the key needs them.
select distinct hour_key
from {rollup}
where min_at is not null
  and ({key_first}) is distinct from ({key_last})
order by hour_key
