-- One row per request with LiteLLM's logged spend and the cost computed from genai-prices unit prices.
-- Needs the relation _ccstats_prices (analyzer.pricing.register_prices).
select
    r.request_id,
    r.started_at,
    r.status,
    coalesce(r.model, r.model_group) as model,
    p.price_model,
    r.input_tokens,
    r.output_tokens,
    r.cache_creation_tokens,
    r.cache_read_tokens,
    r.spend_usd,   -- LiteLLM's logged spend (API list price)
    ccstats_request_cost(
        r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens,
        p.input_usd, p.output_usd, p.cache_write_usd, p.cache_read_usd,
        p.tier_start, p.input_tier_usd, p.output_tier_usd, p.cache_write_tier_usd, p.cache_read_tier_usd
    ) as cost_usd,  -- computed (genai-prices unit prices, ccusage tier rule)
    p.prices_source
from request_log r
left join _ccstats_prices p on p.model = coalesce(r.model, r.model_group)
order by r.started_at, r.request_id;
