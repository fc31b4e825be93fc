"""On the real-proxy fixtures, every request that fell back, and nothing else, is a fallback event."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer import connect
from analyzer.fallbacks import fallback_events, retries

from .conftest import SAMPLE_LOGS

KIND_BY_SCENARIO = {
    "6_fallback_opus_to_sonnet": "litellm_router",
    "6_fallback_chat": "litellm_router",
    "9_cooldown_no_deployments": "litellm_cooldown",
}


def test_fallback_events_are_exactly_the_fallback_requests(sample_db: Path) -> None:
    sent = [json.loads(ln) for ln in (SAMPLE_LOGS / "requests_sent.jsonl").read_text().splitlines()]
    con = connect(sample_db, read_only=True)
    call_of = dict(con.execute("select request_id, litellm_call_id from request_log").fetchall())
    events = fallback_events(con)
    got = {call_of[r["request_id"]]: (r["kind"], r["from_model"], r["to_model"]) for r in events.to_dicts()}
    want = {
        s["x_litellm_call_id"]: (
            KIND_BY_SCENARIO[s["scenario"]],
            s["model_requested"],
            s["x_litellm_model_group"] if KIND_BY_SCENARIO[s["scenario"]] == "litellm_router" else None,
        )
        for s in sent
        if s["scenario"] in KIND_BY_SCENARIO
    }
    assert got == want
    assert len(got) == 6
    router = events.filter(events["kind"] == "litellm_router")
    assert set(router["to_model"]) == {"claude-sonnet-4-5-20250929"}


def test_the_retry_is_counted_apart(sample_db: Path) -> None:
    sent = [json.loads(ln) for ln in (SAMPLE_LOGS / "requests_sent.jsonl").read_text().splitlines()]
    con = connect(sample_db, read_only=True)
    r = retries(con)
    retried = {s["response_id"] for s in sent if s["scenario"] == "7_retry_fail_once"}
    assert set(r["request_id"]) == retried == {"msg_fake_0010"}


def test_recent_fallback_events_are_the_tail_of_all_of_them(sample_db: Path) -> None:
    from analyzer.fallbacks import recent_fallback_events

    con = connect(sample_db, read_only=True)
    every = fallback_events(con)
    assert every.height == 6
    for n in (1, 4, 6, 50):
        assert recent_fallback_events(con, n=n).to_dicts() == every.tail(n).to_dicts()
    since = every["at"][2]
    assert recent_fallback_events(con, n=2, since=since).to_dicts() == every.slice(2).tail(2).to_dicts()
