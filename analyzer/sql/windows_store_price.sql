-- One row of unit prices into model_prices (analyzer.pricing.store_prices); order = pricing.PRICE_COLUMNS.
insert or replace into model_prices (
    model, price_model, price_provider, prices_source, input_usd, output_usd, cache_write_usd, cache_read_usd,
    tier_start, input_tier_usd, output_tier_usd, cache_write_tier_usd, cache_read_tier_usd
) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
