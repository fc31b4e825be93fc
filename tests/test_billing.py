"""Who paid: billing_requests, billing_summary, api_leaks over small ingested logs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from analyzer.billing import api_leaks, billing_requests, billing_summary
from analyzer.errors import UserError
from tests.support.rows import OPUS, SONNET, at, call_id, callback_event, load, spend_row

COOLDOWN = "No deployments available for selected model, Try again in 120 seconds."


def _store(tmp_path: Path):
    overage_cid = call_id("overage")
    spend = [
        spend_row(
            request_id="msg_sub1",
            start=0,
            spend=0.25,
            input_tokens=10,
            output_tokens=20,
            cache_read=1000,
            cache_creation=100,
        ),
        spend_row(request_id="msg_sub2", start=3600, spend=0.5, input_tokens=1, output_tokens=2),
        spend_row(
            request_id="msg_api1",
            start=7200,
            spend=1.0,
            used_client_oauth_token=False,
            key_hash="hash-ci",
            key_alias="ci-bot",
            user="ci",
            input_tokens=5,
            output_tokens=6,
            model_group=OPUS,
        ),
        spend_row(
            request_id="msg_over",
            start=9000,
            spend=2.0,
            litellm_call_id=overage_cid,
            input_tokens=7,
            output_tokens=8,
        ),
        spend_row(
            request_id="msg_unk",
            start=9500,
            spend=0.125,
            used_client_oauth_token=None,
            call_type="pass_through_endpoint",
            attempted_fallbacks=None,
            attempted_retries=None,
            input_tokens=3,
            output_tokens=4,
        ),
        # next day (UTC) at 01:00; still the first day in America/New_York
        spend_row(request_id="msg_sub3", start=15 * 3600, spend=0.75, input_tokens=2, output_tokens=3),
    ]
    callbacks = [
        callback_event(
            litellm_call_id=overage_cid,
            id="msg_over",
            start=9000,
            input_tokens=7,
            output_tokens=8,
            additional_headers={
                "llm_provider-anthropic-ratelimit-unified-status": "rejected",
                "llm_provider-anthropic-ratelimit-unified-overage-status": "allowed",
            },
        ),
    ]
    return load(tmp_path, spend=spend, callbacks=callbacks)


def test_billing_requests_routes(tmp_path: Path) -> None:
    con = _store(tmp_path)
    df = billing_requests(con)
    assert df.select("request_id", "billing_route", "billing_confidence", "pay_per_use").rows() == [
        ("msg_sub1", "subscription", "high", False),
        ("msg_sub2", "subscription", "high", False),
        ("msg_api1", "api", "high", True),
        ("msg_over", "subscription_overage", "high", True),
        ("msg_unk", "unknown", "low", False),
        ("msg_sub3", "subscription", "high", False),
    ]
    assert billing_requests(con, since=at(3600), until=at(7201))["request_id"].to_list() == [
        "msg_sub2",
        "msg_api1",
    ]


def test_billing_summary_by_day(tmp_path: Path) -> None:
    con = _store(tmp_path)
    df = billing_summary(con, by="day")
    assert df.select(
        "day",
        "billing_route",
        "requests",
        "total_tokens",
        "spend_usd",
        "api_billed_spend_usd",
        "subscription_value_usd",
        "unknown_requests",
    ).rows() == [
        (date(2026, 11, 27), "api", 1, 11, 1.0, 1.0, 0.0, 0),
        (date(2026, 11, 27), "subscription", 2, 1133, 0.75, 0.0, 0.75, 0),
        (date(2026, 11, 27), "subscription_overage", 1, 15, 2.0, 2.0, 0.0, 0),
        (date(2026, 11, 27), "unknown", 1, 7, 0.125, 0.0, 0.0, 1),
        (date(2026, 11, 28), "subscription", 1, 5, 0.75, 0.0, 0.75, 0),
    ]
    sub = df.row(1, named=True)
    assert (
        sub["input_tokens"],
        sub["output_tokens"],
        sub["cache_creation_tokens"],
        sub["cache_read_tokens"],
    ) == (11, 22, 100, 1000)
    assert df.row(3, named=True)["top_reasons"] == (
        "no billing signal in the logs (no used_client_oauth_token, no upstream headers, no config) (1)"
    )
    ny = billing_summary(con, by="day", tz="America/New_York")
    assert ny.select("day", "billing_route", "requests").rows() == [
        (date(2026, 11, 27), "api", 1),
        (date(2026, 11, 27), "subscription", 3),
        (date(2026, 11, 27), "subscription_overage", 1),
        (date(2026, 11, 27), "unknown", 1),
    ]


def test_billing_summary_by_key_user_model(tmp_path: Path) -> None:
    con = _store(tmp_path)
    assert billing_summary(con, by="key").select(
        "key", "billing_route", "requests", "api_billed_spend_usd"
    ).rows() == [
        ("ci-bot (hash-ci)", "api", 1, 1.0),
        ("team-key (hash-team-ke)", "subscription", 3, 0.0),
        ("team-key (hash-team-ke)", "subscription_overage", 1, 2.0),
        ("team-key (hash-team-ke)", "unknown", 1, 0.0),
    ]
    assert billing_summary(con, by="user").select("user", "billing_route", "requests").rows() == [
        ("ci", "api", 1),
        ("user-1", "subscription", 3),
        ("user-1", "subscription_overage", 1),
        ("user-1", "unknown", 1),
    ]
    assert billing_summary(con, by="model", until=at(7201)).select(
        "model", "billing_route", "requests"
    ).rows() == [
        (OPUS, "api", 1),
        (SONNET, "subscription", 2),
    ]
    with pytest.raises(UserError):
        billing_summary(con, by="week")  # type: ignore[arg-type]
    with pytest.raises(UserError):
        billing_summary(con, by="day", tz="Mars/Olympus")


def test_billing_summary_by_window(tmp_path: Path) -> None:
    con = _store(tmp_path)
    df = billing_summary(con, by="window")
    assert df.columns[:3] == ["window_start", "window_end", "billing_route"]
    first, second = (at(0), at(5 * 3600)), (at(15 * 3600), at(20 * 3600))  # ccusage's rule: 5 h from the hour
    assert df.select("window_start", "window_end", "billing_route", "requests", "spend_usd").rows() == [
        (*first, "api", 1, 1.0),
        (*first, "subscription", 2, 0.75),
        (*first, "subscription_overage", 1, 2.0),
        (*first, "unknown", 1, 0.125),
        (*second, "subscription", 1, 0.75),
    ]


def test_api_leaks_lists_every_pay_per_use_request(tmp_path: Path) -> None:
    con = _store(tmp_path)
    df = api_leaks(con)
    assert df.select(
        "started_at", "request_id", "key_alias", "key_hash", "model_group", "billing_route"
    ).rows() == [
        (at(7200), "msg_api1", "ci-bot", "hash-ci", OPUS, "api"),
        (at(9000), "msg_over", "team-key", "hash-team-key", SONNET, "subscription_overage"),
    ]
    assert df["billing_evidence"].to_list() == [
        "used_client_oauth_token=false (the deployment key was used)",
        "used_client_oauth_token=true (LiteLLM forwarded the client OAuth token); unified-status rejected with "
        "overage allowed (usage credits at API rates)",
    ]


def test_litellm_cooldown_refusal_is_not_an_api_leak(tmp_path: Path) -> None:
    con = load(
        tmp_path,
        spend=[
            spend_row(
                request_id=call_id("cool"),
                start=0,
                status="failure",
                model_group=OPUS,
                used_client_oauth_token=False,
                error_code="429",
                error_class="RouterRateLimitError",
                error_message=COOLDOWN,
            ),
        ],
    )
    assert billing_requests(con)["billing_route"].to_list() == ["not_billed"]
    assert api_leaks(con).height == 0
