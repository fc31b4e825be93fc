"""On the real-proxy fixtures, each request's billing route matches the credential its client sent."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer import connect

from .conftest import SAMPLE_LOGS

# What LiteLLM 1.110 does with each client credential (billing-and-fallbacks.md, 1.2; checked in
# sample_logs/upstream_requests.jsonl): an OAuth token is forwarded (subscription); a client x-api-key on
# /v1/messages is replaced by the deployment key, and a request with no Anthropic credential uses the deployment
# key (both pay-per-use API); pass-through forwards the client's own header.
EXPECTED_ROUTE = {"oauth": "subscription", "api_key": "api", "none": "api"}

# Requests whose route cannot be the client's credential, and why.
EXCEPTIONS = {
    # refused by LiteLLM itself (deployment cooldown): never reached Anthropic
    "9_cooldown_no_deployments": "not_billed",
    # rejected by the proxy before routing: never reached Anthropic
    "extra_auth_failure": "not_billed",
    # a pass-through failure leaves a spend row without the OAuth flag, no callback event and no headers:
    # no log says which credential it carried
    "5_passthrough_529": "unknown",
}


def test_billing_route_matches_the_client_credential(sample_db: Path) -> None:
    sent = [json.loads(ln) for ln in (SAMPLE_LOGS / "requests_sent.jsonl").read_text().splitlines()]
    con = connect(sample_db, read_only=True)
    rows = con.execute(
        "select request_id, litellm_call_id, billing_route, error_class from requests"
    ).fetchall()
    by_id = {r[0]: r for r in rows}
    by_call = {r[1]: r for r in rows}
    checked = 0
    for req in sent:
        if req["route"].endswith("count_tokens"):
            continue  # LiteLLM writes no spend row for count_tokens
        row = by_id.get(req["response_id"]) or by_call.get(req["x_litellm_call_id"])
        if (
            row is None
        ):  # the proxy's auth failure returned no call id to the client: its row is the ProxyException
            assert req["scenario"] == "extra_auth_failure"
            [row] = [r for r in rows if r[3] == "ProxyException"]
        want = EXCEPTIONS.get(req["scenario"], EXPECTED_ROUTE[req["credential_kind"] or "none"])
        assert row[2] == want, (req["scenario"], req["seq"], row)
        checked += 1
    assert checked == len(rows) == 35
