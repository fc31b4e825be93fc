-- Sources ingested into the store, for the report header.
select path, format, rows_added, duplicates, quarantined, last_ingest
from sources
order by source_id;
