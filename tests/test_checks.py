"""`check` answers and exit code over small ingested logs."""

from __future__ import annotations

from pathlib import Path

from analyzer.checks import check, check_exit_code
from tests.support.rows import OPUS, SONNET, call_id, callback_event, load, spend_row

QUOTA = "litellm.RateLimitError: This request would exceed your account's rate limit. Please try again later."
ORG = (
    "litellm.RateLimitError: This request would exceed your organization's rate limit of 30,000 input tokens "
    "per minute (org: 1, model: claude-sonnet-4-5-20250929)"
)
COOLDOWN = "No deployments available for selected model, Try again in 120 seconds."


def _by_id(answers: list[dict]) -> dict[str, dict]:
    return {a["id"]: a for a in answers}


def test_empty_store(tmp_path: Path) -> None:
    a = _by_id(check(load(tmp_path)))
    assert [(k, v["answer"]) for k, v in a.items()] == [
        ("oauth_reaching_anthropic", "unknown"),
        ("api_billing", "unknown"),
        ("rate_limit_rejections", "unknown"),
        ("oauth_failures", "unknown"),
        ("sources_flowing", "no"),
    ]
    assert a["sources_flowing"]["evidence"].startswith(
        "no spend-log rows: export LiteLLM_SpendLogs (/spend/logs/v2) or add the spend-log sink; no callback events:"
    )
    assert check_exit_code(list(a.values())) == 0


def test_subscription_only_store(tmp_path: Path) -> None:
    cid = call_id("one")
    con = load(
        tmp_path,
        spend=[
            spend_row(request_id="msg_1", start=0, litellm_call_id=cid),
            spend_row(request_id="msg_2", start=60),
        ],
        callbacks=[callback_event(litellm_call_id=cid, id="msg_1", start=0)],
    )
    answers = check(con)
    a = _by_id(answers)
    assert a["oauth_reaching_anthropic"]["answer"] == "yes"
    assert a["oauth_reaching_anthropic"]["evidence"] == (
        "2 of 2 requests carried the client OAuth token (used_client_oauth_token=true: 2; upstream unified "
        "rate-limit headers: 0); latest 2026-11-27 10:01:00Z (request msg_2); 2 succeeded, latest success "
        "2026-11-27 10:01:00Z."
    )
    assert (a["api_billing"]["answer"], a["api_billing"]["evidence"]) == (
        "no",
        "All 2 requests are classified, none billed to pay-per-use.",
    )
    assert a["rate_limit_rejections"]["answer"] == "no"
    assert a["oauth_failures"]["answer"] == "no"
    assert a["sources_flowing"]["answer"] == "yes"
    assert [(d["source_kind"], d["events"]) for d in a["sources_flowing"]["details"]] == [
        ("spend_log", 2),
        ("callback", 1),
        ("proxy", 0),
    ]
    assert check_exit_code(answers) == 0


def test_api_leak_sets_exit_code(tmp_path: Path) -> None:
    con = load(
        tmp_path,
        spend=[
            spend_row(request_id="msg_ok", start=0),
            spend_row(
                request_id="msg_api1",
                start=60,
                used_client_oauth_token=False,
                key_hash="hash-ci",
                key_alias="ci-bot",
                spend=0.5,
            ),
            spend_row(
                request_id="msg_api2",
                start=120,
                used_client_oauth_token=False,
                key_hash="hash-ci",
                key_alias="ci-bot",
                spend=0.25,
            ),
        ],
    )
    answers = check(con)
    a = _by_id(answers)["api_billing"]
    assert a["answer"] == "yes"
    assert a["evidence"] == (
        "2 requests billed to pay-per-use (api: 2), 2026-11-27 10:01:00Z .. 2026-11-27 10:02:00Z, $0.7500 at API "
        "list price. Keys: ci-bot [hash-ci] 2 requests (2026-11-27 10:01:00Z .. 2026-11-27 10:02:00Z). Most common "
        "reason: used_client_oauth_token=false (the deployment key was used). See `api_leaks` for every request."
    )
    assert [(d["alias"], d["key_hash"], d["requests"], d["successes"]) for d in a["details"]] == [
        ("ci-bot", "hash-ci", 2, 2)
    ]
    assert check_exit_code(answers) == 1


def test_oauth_no_when_only_the_deployment_key_was_used(tmp_path: Path) -> None:
    con = load(tmp_path, spend=[spend_row(request_id="msg_1", used_client_oauth_token=False)])
    a = _by_id(check(con))["oauth_reaching_anthropic"]
    assert a["answer"] == "no"
    assert a["evidence"].startswith(
        "None of 1 requests carried the OAuth token: 1 have used_client_oauth_token=false"
    )


def test_oauth_unknown_without_any_credential_signal(tmp_path: Path) -> None:
    con = load(
        tmp_path,
        spend=[
            spend_row(request_id="msg_1", used_client_oauth_token=None, call_type="pass_through_endpoint")
        ],
    )
    a = _by_id(check(con))
    assert a["oauth_reaching_anthropic"]["answer"] == "unknown"
    assert a["api_billing"]["answer"] == "unknown"
    assert a["api_billing"]["evidence"].startswith(
        "No request was classified as API-billed, but 1 of 1 requests have no billing signal"
    )


def test_rate_limits_by_kind(tmp_path: Path) -> None:
    rescued = call_id("rescued")
    con = load(
        tmp_path,
        spend=[
            spend_row(
                start=0,
                status="failure",
                litellm_call_id=call_id("q"),
                error_code="429",
                error_class="RateLimitError",
                error_message=QUOTA,
            ),
            spend_row(
                start=10,
                status="failure",
                litellm_call_id=call_id("o"),
                used_client_oauth_token=False,
                error_code="429",
                error_class="RateLimitError",
                error_message=ORG,
            ),
            spend_row(
                start=20,
                status="failure",
                litellm_call_id=call_id("c"),
                model_group=OPUS,
                error_code="429",
                error_class="RouterRateLimitError",
                error_message=COOLDOWN,
            ),
            spend_row(
                request_id="msg_r",
                start=31,
                litellm_call_id=rescued,
                original_model_group=OPUS,
                attempted_fallbacks=1,
            ),
        ],
        callbacks=[
            # a quota 429 hop rescued by a fallback: only the callback shows it
            callback_event(
                litellm_call_id=rescued,
                start=30,
                duration_s=0.5,
                model_group=OPUS,
                status="failure",
                error_code="429",
                error_class="RateLimitError",
                error_message=QUOTA,
                additional_headers={"anthropic-ratelimit-unified-status": "rejected"},
            ),
            callback_event(litellm_call_id=rescued, id="msg_r", start=31, model_group=SONNET),
        ],
    )
    a = _by_id(check(con))["rate_limit_rejections"]
    assert a["answer"] == "yes"
    assert a["evidence"] == (
        "4 rate-limit rejections: 2 subscription quota (your account's rate limit / unified status rejected) "
        "(latest 2026-11-27 10:00:30Z); 1 API organization rate limit (latest 2026-11-27 10:00:10Z); 1 LiteLLM "
        "cooldown (No deployments available) (latest 2026-11-27 10:00:20Z). Cooldowns block every user of the "
        "group: consider router_settings disable_cooldowns or cooldown_time 0."
    )
    assert [(d["category"], d["count"], d["models"]) for d in a["details"]] == [
        ("subscription_quota", 2, [OPUS, SONNET]),
        ("api_limit", 1, [SONNET]),
        ("litellm_cooldown", 1, [OPUS]),
    ]


def test_oauth_failures(tmp_path: Path) -> None:
    con = load(
        tmp_path,
        spend=[
            spend_row(
                start=0,
                status="failure",
                litellm_call_id=call_id("e"),
                error_code="401",
                error_class="AuthenticationError",
                error_message='{"type":"authentication_error","message":"OAuth access token is invalid."}',
            ),
            spend_row(
                start=10,
                status="failure",
                litellm_call_id=call_id("r"),
                error_code="403",
                error_class="PermissionDeniedError",
                error_message="OAuth token has been revoked.",
            ),
            spend_row(
                start=20,
                status="failure",
                litellm_call_id=call_id("k"),
                used_client_oauth_token=False,
                error_code="401",
                error_class="AuthenticationError",
                error_message="invalid x-api-key",
            ),
        ],
    )
    a = _by_id(check(con))["oauth_failures"]
    assert a["answer"] == "yes"
    assert a["evidence"] == (
        "2 OAuth failures: 1 token expired or invalid: run `claude /login` again (latest 2026-11-27 10:00:00Z); "
        "1 token revoked: sign in again (latest 2026-11-27 10:00:10Z)."
    )
    assert [(d["category"], d["count"], d["request_ids"]) for d in a["details"]] == [
        ("expired_or_invalid", 1, [call_id("e")]),
        ("revoked", 1, [call_id("r")]),
    ]


def test_sources_missing_callbacks(tmp_path: Path) -> None:
    a = _by_id(check(load(tmp_path, spend=[spend_row(request_id="msg_1")])))["sources_flowing"]
    assert a["answer"] == "no"
    assert a["evidence"].startswith(
        "no callback events: add a JSON logging callback (StandardLoggingPayload) to LiteLLM. Seen: spend_log: 1 "
        "(latest event 2026-11-27 10:00:00Z, last ingest "
    )


def test_failure_checks_read_stored_rows_only_when_they_are_current(tmp_path: Path) -> None:
    """check_store reads the failed rows the last refresh stored; after an ingest that stopped before its
    refresh it reads request_log and callback_events instead, with the same answers the refresh then gives."""
    from analyzer.checks import check_store
    from analyzer.fallbacks import refreshed
    from analyzer.ingest import IngestOptions, after_ingest, ingest_file
    from tests.support.rows import write_jsonl

    quota = {"error_code": "429", "error_class": "RateLimitError", "error_message": QUOTA}
    con = load(tmp_path, spend=[spend_row(start=0, status="failure", litellm_call_id=call_id("q"), **quota)])
    assert refreshed(con)
    before = _by_id(check_store(con))["rate_limit_rejections"]["details"]
    assert [(d["category"], d["count"]) for d in before] == [("subscription_quota", 1)]
    # a quota 429 hop rescued by a fallback, ingested without the refresh that follows an ingest
    rescued = call_id("rescued")
    hops = [
        callback_event(litellm_call_id=rescued, start=30, model_group=OPUS, status="failure", **quota),
        callback_event(litellm_call_id=rescued, id="msg_r", start=31, model_group=SONNET),
    ]
    summary = ingest_file(con, write_jsonl(tmp_path / "more.jsonl", hops), IngestOptions(kind="callback"))
    assert summary.rows_added == 2
    assert not refreshed(con)
    stale = check_store(con)
    assert [(d["category"], d["count"]) for d in _by_id(stale)["rate_limit_rejections"]["details"]] == [
        ("subscription_quota", 2)
    ]
    assert con.execute("select count(*) from failed_callbacks").fetchall() == [(0,)]
    after_ingest(con)
    assert refreshed(con)
    assert con.execute("select count(*) from failed_callbacks").fetchall() == [(1,)]
    assert check_store(con) == stale
