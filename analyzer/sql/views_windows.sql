-- 5-hour windows and computed prices (analyzer/windows.py, analyzer/pricing.py). Documented in the README,
-- "Querying the database". This file runs on every schema change: tables here are `create table if not exists`.

-- Default window bounds (ccusage block rule: start floored to the UTC hour, 5 h long, all successful traffic),
-- recomputed by analyzer.windows.refresh_window_bounds(con) after every ingest. Times in epoch milliseconds too,
-- because the rule compares millisecond timestamps.
create table if not exists window_bounds_5h (
    window_start   timestamptz not null,
    window_end     timestamptz not null,
    is_gap         boolean not null,
    first_ms       bigint,          -- first request of the window (NULL for gaps), epoch ms
    last_ms        bigint,          -- last request of the window (NULL for gaps), epoch ms
    length_ms      bigint not null,
    computed_at    timestamptz not null
);

-- Unit prices (USD per token) per logged model string, from genai-prices (analyzer.pricing.store_prices).
create table if not exists model_prices (
    model                varchar primary key,  -- coalesce(request_log.model, model_group)
    price_model          varchar,              -- genai-prices model id; NULL = unknown model (cost NULL)
    price_provider       varchar,
    prices_source        varchar,              -- e.g. 'genai-prices 0.2.3'
    input_usd            double,
    output_usd           double,
    cache_write_usd      double,
    cache_read_usd       double,
    tier_start           bigint,               -- tokens per type above which tier rates apply; NULL: no tier
    input_tier_usd       double,
    output_tier_usd      double,
    cache_write_tier_usd double,
    cache_read_tier_usd  double
);

-- One token type: the first tier_start tokens at base, the rest at the tier price (ccusage's rule, per type).
create or replace macro ccstats_tiered_cost(n, base, tier_start, tier_price) as
    case
        when base is null then null
        when tier_start is null or tier_price is null or n <= tier_start then n * base
        else tier_start * base + (n - tier_start) * tier_price
    end;

-- Computed API-price cost of one request (NULL when the model is unknown to genai-prices).
create or replace macro ccstats_request_cost(
    input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
    input_usd, output_usd, cache_write_usd, cache_read_usd,
    tier_start, input_tier_usd, output_tier_usd, cache_write_tier_usd, cache_read_tier_usd
) as
    case when input_usd is null then null else
        ccstats_tiered_cost(coalesce(input_tokens, 0), input_usd, tier_start, input_tier_usd)
        + coalesce(ccstats_tiered_cost(coalesce(output_tokens, 0), output_usd, tier_start, output_tier_usd), 0)
        + coalesce(ccstats_tiered_cost(coalesce(cache_creation_tokens, 0), cache_write_usd, tier_start, cache_write_tier_usd), 0)
        + coalesce(ccstats_tiered_cost(coalesce(cache_read_tokens, 0), cache_read_usd, tier_start, cache_read_tier_usd), 0)
    end;

-- One row per 5-hour window over all successful traffic, ccusage's block rule (see five-hour-windows.md):
-- window_start/window_end (estimate, not Anthropic's official window), actual_end (last request), is_gap (no
-- usage: last request + 5 h .. next request), is_active (against now()), token sums (total_tokens = input + output
-- + cache creation + cache read, as ccusage; io_tokens = input + output, as claude-monitor), spend_usd (LiteLLM's
-- logged API list price), cost_usd (computed from genai-prices unit prices; unknown models count 0).
create or replace view windows_5h as
with usage as (
    select
        epoch_ms(r.started_at) as t,
        r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens, r.spend_usd,
        ccstats_request_cost(
            r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens,
            p.input_usd, p.output_usd, p.cache_write_usd, p.cache_read_usd,
            p.tier_start, p.input_tier_usd, p.output_tier_usd, p.cache_write_tier_usd, p.cache_read_tier_usd
        ) as cost_usd
    from request_log r
    left join model_prices p on p.model = coalesce(r.model, r.model_group)
    where r.status = 'success' and r.started_at is not null
),
blocks as (
    select first_ms, last_ms from window_bounds_5h where not is_gap
),
agg as (
    select
        b.first_ms,
        count(*) as requests,
        sum(u.input_tokens) as input_tokens,
        sum(u.output_tokens) as output_tokens,
        sum(u.cache_creation_tokens) as cache_creation_tokens,
        sum(u.cache_read_tokens) as cache_read_tokens,
        sum(u.spend_usd) as spend_usd,
        coalesce(sum(u.cost_usd), 0) as cost_usd
    from usage u
    asof join blocks b on u.t >= b.first_ms
    where u.t <= b.last_ms
    group by b.first_ms
)
select
    w.window_start,
    w.window_end,
    case when not w.is_gap then timezone('UTC', make_timestamp(w.last_ms * 1000)) end as actual_end,
    w.is_gap,
    (not w.is_gap and epoch_ms(now()) - w.last_ms < w.length_ms and now() < w.window_end) as is_active,
    coalesce(a.requests, 0) as requests,
    coalesce(a.input_tokens, 0)::bigint as input_tokens,
    coalesce(a.output_tokens, 0)::bigint as output_tokens,
    coalesce(a.cache_creation_tokens, 0)::bigint as cache_creation_tokens,
    coalesce(a.cache_read_tokens, 0)::bigint as cache_read_tokens,
    (coalesce(a.input_tokens, 0) + coalesce(a.output_tokens, 0) + coalesce(a.cache_creation_tokens, 0)
        + coalesce(a.cache_read_tokens, 0))::bigint as total_tokens,
    (coalesce(a.input_tokens, 0) + coalesce(a.output_tokens, 0))::bigint as io_tokens,
    coalesce(a.spend_usd, 0) as spend_usd,
    coalesce(a.cost_usd, 0) as cost_usd
from window_bounds_5h w
left join agg a on not w.is_gap and a.first_ms = w.first_ms
order by w.window_start, w.is_gap;
