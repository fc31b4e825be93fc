-- Each hour's request count and a checksum of every request_log column the rollup reads (analyzer.rollup): an
-- hour whose pair differs from usage_rollup_hours changed since the rollup was computed. hour_key as in
-- rollup_rows.sql (-9223372036854775807 = no start time). The column list must cover every column that
-- rollup_rows.sql and the requests view's billing classification read; request_id is not one (the rollup is a
-- function of each hour's rows as a multiset, so a hash of the columns it reads detects every change that matters,
-- and hashing the ids cost a third of the scan).
select
    coalesce(floor(epoch_ms(started_at) / 3600000)::bigint, -9223372036854775807) as hour_key,
    count(*)::bigint as requests,
    sum(hash(
        started_at, status, route, model_requested, model_group, model, provider,
        error_code, error_class, error_message, input_tokens, output_tokens, cache_creation_tokens,
        cache_read_tokens, spend_usd, key_hash, key_alias, used_client_oauth_token, client_sent_api_key,
        rl_unified_status, rl_overage_status, rl_has_unified, rl_has_api_limits,
        rl_5h_status, rl_5h_utilization, rl_5h_reset, rl_7d_status, rl_7d_utilization, rl_7d_reset
    )::hugeint) as checksum
from request_log
group by all
