-- Successful requests with their source category (analyzer.sources.claude_code.source_split):
-- litellm_only (LiteLLM logs only), both (LiteLLM row matched by a Claude Code transcript entry), direct_only
-- (transcript only: origin 'claude_code').
select
    started_at,
    case
        when origin = 'claude_code' then 'direct_only'
        when coalesce(seen_in_transcript, false) then 'both'
        else 'litellm_only'
    end as source,
    coalesce(input_tokens, 0) as input_tokens,
    coalesce(output_tokens, 0) as output_tokens,
    coalesce(cache_creation_tokens, 0) as cache_creation_tokens,
    coalesce(cache_read_tokens, 0) as cache_read_tokens
from request_log
where status = 'success' and started_at is not null
order by started_at
