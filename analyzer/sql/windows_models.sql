-- Distinct model strings requests are priced by (analyzer.pricing): the deployment model, else the group.
select distinct coalesce(model, model_group) as model
from request_log
where coalesce(model, model_group) is not null
order by 1;
