"""Fallback events (fallback_events view), the summary, and retries: small JSONL logs ingested into a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.fallbacks import fallback_events, fallback_summary, retries
from tests.support.rows import HAIKU, OPUS, SONNET, at, call_id, callback_event, load, proxy_line, spend_row

OVERLOADED = 'litellm.InternalServerError: AnthropicError - {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
QUOTA = (
    'litellm.RateLimitError: AnthropicException - {"type":"error","error":{"type":"rate_limit_error",'
    '"message":"This request would exceed your account\'s rate limit. Please try again later."}}'
)
COOLDOWN = (
    "No deployments available for selected model, Try again in 120 seconds. All deployments for selected "
    "model are in cooldown. Passed model=claude-opus-4-1-20250805"
)


def _events(con) -> list[dict]:
    return fallback_events(con).drop("key_hash", "user_id").to_dicts()


def test_router_fallback_from_spend_row_callback_hops_and_proxy_line(tmp_path: Path) -> None:
    cid = call_id("router-1")
    con = load(
        tmp_path,
        spend=[
            spend_row(
                request_id="msg_r1",
                start=1,
                litellm_call_id=cid,
                model_group=SONNET,
                original_model_group=OPUS,
                attempted_fallbacks=1,
            )
        ],
        callbacks=[
            callback_event(
                litellm_call_id=cid,
                start=0,
                duration_s=0.5,
                model_group=OPUS,
                status="failure",
                error_code="500",
                error_class="InternalServerError",
                error_message=OVERLOADED,
            ),
            callback_event(litellm_call_id=cid, id="msg_r1", start=1, model_group=SONNET),
        ],
        proxy=[proxy_line(at_time=1.2), proxy_line(message="Successful fallback b/w models.", at_time=1.3)],
    )
    assert _events(con) == [
        {
            "request_id": "msg_r1",
            "at": at(1),
            "kind": "litellm_router",
            "from_model": OPUS,
            "to_model": SONNET,
            "trigger": "InternalServerError (500)",
            "evidence": f"callback failed hops: {OPUS} InternalServerError (500); spend row: attempted_fallbacks=1, "
            f"original_model_group={OPUS}, model_group={SONNET}; callback hops: {OPUS} -> {SONNET}; "
            f'proxy log 2026-11-27T10:00:01Z: "Falling back to model_group = {SONNET}"',
            "session_id": "sess-1",
            "status": "success",
        }
    ]
    assert retries(con).height == 0


def test_router_fallback_from_callback_hops_only(tmp_path: Path) -> None:
    cid = call_id("router-cb")
    con = load(
        tmp_path,
        callbacks=[
            callback_event(
                litellm_call_id=cid,
                start=0,
                duration_s=0.5,
                model_group=OPUS,
                status="failure",
                error_code="429",
                error_class="RateLimitError",
                error_message=QUOTA,
            ),
            callback_event(litellm_call_id=cid, id="msg_cb1", start=1, model_group=SONNET, trace_id="sess-9"),
        ],
    )
    ev = _events(con)
    assert [
        (e["request_id"], e["kind"], e["from_model"], e["to_model"], e["trigger"], e["session_id"])
        for e in ev
    ] == [("msg_cb1", "litellm_router", OPUS, SONNET, "RateLimitError (429)", "sess-9")]
    assert ev[0]["evidence"] == (
        f"callback failed hops: {OPUS} RateLimitError (429); callback hops: {OPUS} -> {SONNET}"
    )


def test_proxy_line_is_joined_by_call_id_before_time(tmp_path: Path) -> None:
    a, b = call_id("a"), call_id("b")
    con = load(
        tmp_path,
        spend=[
            spend_row(
                request_id="msg_a",
                start=1,
                litellm_call_id=a,
                original_model_group=OPUS,
                attempted_fallbacks=1,
            ),
            spend_row(
                request_id="msg_b",
                start=1.5,
                litellm_call_id=b,
                original_model_group=OPUS,
                attempted_fallbacks=1,
            ),
        ],
        # the line names call b although it is nearer in time to request a
        proxy=[proxy_line(at_time=1.0, litellm_call_id=b)],
    )
    ev = {e["request_id"]: e["evidence"] for e in _events(con)}
    assert "proxy log" not in ev["msg_a"]
    assert ev["msg_b"].endswith(f'proxy log 2026-11-27T10:00:01Z: "Falling back to model_group = {SONNET}"')


def test_cooldown_failure_and_cooldown_hop_rescued_by_fallback(tmp_path: Path) -> None:
    cid = call_id("cool-rescued")
    con = load(
        tmp_path,
        spend=[
            spend_row(
                start=0,
                litellm_call_id=call_id("cool-failed"),
                status="failure",
                model_group=OPUS,
                error_code="429",
                error_class="RouterRateLimitError",
                error_message=COOLDOWN,
            ),
            spend_row(
                request_id="msg_c2",
                start=10,
                litellm_call_id=cid,
                model_group=SONNET,
                original_model_group=OPUS,
                attempted_fallbacks=1,
            ),
        ],
        callbacks=[
            callback_event(
                litellm_call_id=cid,
                start=9.5,
                duration_s=0.1,
                model_group=OPUS,
                status="failure",
                error_code="429",
                error_class="RouterRateLimitError",
                error_message=COOLDOWN,
            ),
            callback_event(litellm_call_id=cid, id="msg_c2", start=10, model_group=SONNET),
        ],
    )
    ev = _events(con)
    assert [
        (e["request_id"], e["kind"], e["from_model"], e["to_model"], e["trigger"], e["status"]) for e in ev
    ] == [
        (call_id("cool-failed"), "litellm_cooldown", OPUS, None, "RouterRateLimitError (429)", "failure"),
        ("msg_c2", "litellm_cooldown", OPUS, SONNET, "RouterRateLimitError (429)", "success"),
    ]
    assert ev[0]["evidence"] == "request failed: " + COOLDOWN


def _session(rows: list[tuple[float, str, str]], session: str = "s1", **kw) -> list[dict]:
    """(seconds, model, status) -> spend rows of one session; failures get the error given in kw per status."""
    out = []
    for i, (t, model, status) in enumerate(rows):
        extra = kw.get(status, {}) if status != "success" else {}
        out.append(
            spend_row(
                request_id=f"{session}-{i}",
                start=t,
                model_group=model,
                session_id=session,
                status=status,
                litellm_call_id=call_id(f"{session}-{i}"),
                **extra,
            )
        )
    return out


QUOTA_429 = {"error_code": "429", "error_class": "RateLimitError", "error_message": QUOTA}
OVERLOAD_529 = {"error_code": "529", "error_class": "InternalServerError", "error_message": OVERLOADED}


def test_cc_model_switch_after_quota_429_with_haiku_interleaved(tmp_path: Path) -> None:
    rows = _session(
        [
            (0, OPUS, "success"),
            (10, OPUS, "success"),
            (20, OPUS, "failure"),
            (25, HAIKU, "success"),
            (30, SONNET, "success"),
            (35, HAIKU, "success"),
            (40, SONNET, "success"),
            (50, SONNET, "success"),
        ],
        failure=QUOTA_429,
    )
    con = load(tmp_path, spend=rows)
    assert _events(con) == [
        {
            "request_id": "s1-4",
            "at": at(30),
            "kind": "cc_model_switch",
            "from_model": OPUS,
            "to_model": SONNET,
            "trigger": "RateLimitError (429) on opus",
            "evidence": "session s1: main model opus -> sonnet, and this and the next 2 main-model request(s) are "
            "sonnet; limit signal: RateLimitError (429) on opus (s1-2)",
            "session_id": "s1",
            "status": "success",
        }
    ]


def _opus_claim_header(request_id: str, *, start: float) -> dict:
    """The callback event of an opus request in session s1 whose upstream headers name the opus weekly limit."""
    return callback_event(
        litellm_call_id=call_id(request_id),
        id=request_id,
        start=start,
        model_group=OPUS,
        trace_id="s1",
        additional_headers={
            "llm_provider-anthropic-ratelimit-unified-status": "allowed_warning",
            "llm_provider-anthropic-ratelimit-unified-representative-claim": "seven_day_opus",
        },
    )


def test_cc_model_switch_on_opus_representative_claim_header(tmp_path: Path) -> None:
    rows = _session(
        [(0, OPUS, "success"), (10, SONNET, "success"), (20, SONNET, "success"), (30, SONNET, "success")]
    )
    cb = _opus_claim_header("s1-0", start=0)
    con = load(tmp_path, spend=rows, callbacks=[cb])
    ev = _events(con)
    assert [(e["request_id"], e["kind"], e["trigger"]) for e in ev] == [
        ("s1-1", "cc_model_switch", "rl_representative_claim=seven_day_opus")
    ]


@pytest.mark.parametrize(
    ("signal", "trigger"),
    [
        ({"error_code": "429", "error_class": "RateLimitError", "error_message": "Too Many Requests"},
         "RateLimitError (429) on opus"),
        ({"error_code": "400", "error_class": "BadRequestError", "error_message": QUOTA},
         "BadRequestError (400) on opus"),
        ({"llm_provider-anthropic-ratelimit-unified-status": "rejected"}, "rl_unified_status=rejected"),
        ({"llm_provider-anthropic-ratelimit-unified-5h-status": "rejected"}, "rl_5h_status=rejected"),
        ({"llm_provider-anthropic-ratelimit-unified-status": "allowed",
          "llm_provider-anthropic-ratelimit-unified-fallback-percentage": "0.5"}, "rl_fallback_percentage=0.5"),
    ],
)  # fmt: skip
def test_cc_model_switch_on_each_limit_signal_alone(tmp_path: Path, signal: dict, trigger: str) -> None:
    """Each limit signal by itself marks the switch: the refresh skips sessions without any (fallbacks_refresh_cc)."""
    rows = _session([(0, OPUS, "success"), (20, SONNET, "success"), (30, SONNET, "success")])
    if "error_code" in signal:
        rows.insert(
            1,
            _session([(10, OPUS, "failure")], session="s1", failure=signal)[0]
            | {"request_id": "s1-x", "litellm_call_id": call_id("s1-x")},
        )
        con = load(tmp_path, spend=rows)
    else:
        cb = callback_event(
            litellm_call_id=call_id("s1-0"), id="s1-0", start=0, model_group=OPUS, trace_id="s1",
            additional_headers=signal,
        )  # fmt: skip
        con = load(tmp_path, spend=rows, callbacks=[cb])
    assert [(e["request_id"], e["kind"], e["trigger"]) for e in _events(con)] == [
        ("s1-1", "cc_model_switch", trigger)
    ]


def test_cc_overload_chain_on_the_code_or_the_message_alone(tmp_path: Path) -> None:
    code = {"error_code": "529", "error_class": "InternalServerError", "error_message": "Service Unavailable"}
    text = {"error_code": "500", "error_class": "InternalServerError", "error_message": OVERLOADED}
    rows = [
        *_session(
            [(0, OPUS, "failure"), (5, OPUS, "failure"), (12, SONNET, "success")], session="c", failure=code
        ),
        *_session(
            [(0, OPUS, "failure"), (5, OPUS, "failure"), (12, SONNET, "success")], session="t", failure=text
        ),
    ]
    con = load(tmp_path, spend=rows)
    assert [(e["request_id"], e["kind"]) for e in _events(con)] == [
        ("c-2", "cc_overload_chain"),
        ("t-2", "cc_overload_chain"),
    ]


def test_cc_model_switch_needs_the_switch_to_stay(tmp_path: Path) -> None:
    # quota 429 on opus, one sonnet request, then opus again: not a switch that stays
    rows = _session(
        [(0, OPUS, "failure"), (10, SONNET, "success"), (20, SONNET, "success"), (30, OPUS, "success")],
        failure=QUOTA_429,
    )
    con = load(tmp_path, spend=rows)
    assert _events(con) == []


def test_cc_overload_chain(tmp_path: Path) -> None:
    rows = _session(
        [(0, OPUS, "failure"), (5, OPUS, "failure"), (7, HAIKU, "success"), (12, SONNET, "success")],
        failure=OVERLOAD_529,
    )
    con = load(tmp_path, spend=rows)
    assert _events(con) == [
        {
            "request_id": "s1-3",
            "at": at(12),
            "kind": "cc_overload_chain",
            "from_model": OPUS,
            "to_model": SONNET,
            "trigger": "overloaded_error (529) x2",
            "evidence": f"session s1: 2 consecutive 529/overloaded failures on {OPUS} (s1-0, s1-1), "
            f"then success on {SONNET} 7.0 s after the last one",
            "session_id": "s1",
            "status": "success",
        }
    ]


def test_overload_chain_needs_two_failures_a_short_gap_and_another_model(tmp_path: Path) -> None:
    one = _session([(0, OPUS, "failure"), (5, SONNET, "success")], session="one", failure=OVERLOAD_529)
    late = _session(
        [(0, OPUS, "failure"), (5, OPUS, "failure"), (500, SONNET, "success")],
        session="late",
        failure=OVERLOAD_529,
    )
    same = _session(
        [(0, OPUS, "failure"), (5, OPUS, "failure"), (10, OPUS, "success")],
        session="same",
        failure=OVERLOAD_529,
    )
    haiku = _session(
        [(0, HAIKU, "failure"), (5, HAIKU, "failure"), (10, SONNET, "success")],
        session="haiku",
        failure=OVERLOAD_529,
    )
    con = load(tmp_path, spend=one + late + same + haiku)
    assert _events(con) == []


def test_opusplan_alternation_is_not_a_fallback(tmp_path: Path) -> None:
    rows = _session(
        [
            (0, OPUS, "success"),
            (10, SONNET, "success"),
            (20, SONNET, "success"),
            (30, SONNET, "success"),
            (40, OPUS, "success"),
            (45, HAIKU, "success"),
            (50, SONNET, "success"),
            (60, SONNET, "success"),
            (70, SONNET, "success"),
        ]
    )
    con = load(tmp_path, spend=rows)
    assert _events(con) == []
    assert fallback_summary(con).height == 0


def test_haiku_is_never_a_switch_source_or_target(tmp_path: Path) -> None:
    to_haiku = _session(
        [(0, OPUS, "failure"), (10, HAIKU, "success"), (20, HAIKU, "success"), (30, HAIKU, "success")],
        session="to-haiku",
        failure=QUOTA_429,
    )
    from_haiku = _session(
        [(0, HAIKU, "failure"), (10, SONNET, "success"), (20, SONNET, "success")],
        session="from-haiku",
        failure=QUOTA_429,
    )
    con = load(tmp_path, spend=to_haiku + from_haiku)
    assert _events(con) == []


def test_plain_retry_is_not_a_fallback_and_is_listed_by_retries(tmp_path: Path) -> None:
    cid, cid2 = call_id("retry"), call_id("retry-cb-only")
    con = load(
        tmp_path,
        spend=[
            spend_row(request_id="msg_retry", start=0, litellm_call_id=cid, attempted_retries=1),
            spend_row(request_id="msg_plain", start=5),
        ],
        callbacks=[
            callback_event(
                litellm_call_id=cid,
                start=0,
                duration_s=0.2,
                status="failure",
                error_code="500",
                error_class="InternalServerError",
                error_message="api_error",
            ),
            callback_event(litellm_call_id=cid, id="msg_retry", start=0.5),
            callback_event(
                litellm_call_id=cid2,
                start=20,
                duration_s=0.2,
                status="failure",
                error_code="500",
                error_class="InternalServerError",
                error_message="api_error",
            ),
            callback_event(litellm_call_id=cid2, id="msg_retry2", start=21),
        ],
    )
    assert _events(con) == []
    r = retries(con)
    assert r.select(
        "request_id", "attempted_retries", "hop_models", "failed_hop_errors", "evidence"
    ).to_dicts() == [
        {
            "request_id": "msg_retry",
            "attempted_retries": 1,
            "hop_models": [SONNET, SONNET],
            "failed_hop_errors": ["InternalServerError (500)"],
            "evidence": "attempted_retries=1",
        },
        {
            "request_id": "msg_retry2",
            "attempted_retries": 1,
            "hop_models": [SONNET, SONNET],
            "failed_hop_errors": ["InternalServerError (500)"],
            "evidence": "attempted_retries=1",
        },
    ]


def test_summary_and_time_filter(tmp_path: Path) -> None:
    spend = [
        spend_row(
            request_id=f"msg_{i}",
            start=i * 100,
            original_model_group=OPUS,
            attempted_fallbacks=1,
            litellm_call_id=call_id(f"s{i}"),
        )
        for i in range(3)
    ]
    con = load(tmp_path, spend=spend)
    s = fallback_summary(con)
    assert s.select(
        "kind", "from_model", "to_model", "events", "rescued", "first_at", "last_at"
    ).to_dicts() == [
        {
            "kind": "litellm_router",
            "from_model": OPUS,
            "to_model": SONNET,
            "events": 3,
            "rescued": 3,
            "first_at": at(0),
            "last_at": at(200),
        }
    ]
    assert fallback_events(con, since=at(100), until=at(200))["request_id"].to_list() == ["msg_1"]
    assert fallback_summary(con, since=at(100))["events"].to_list() == [2]


def test_recent_retries_are_the_tail_of_all_retries_with_ties_at_the_cutoff(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from analyzer import db, synth
    from analyzer.fallbacks import recent_retries
    from analyzer.ingest import after_ingest, ingest_file

    spend, cbs = tmp_path / "spend.jsonl", tmp_path / "callbacks.jsonl"
    synth.write_spend_jsonl(spend, 1500, 3, start=datetime(2026, 11, 2, tzinfo=UTC), days=5)
    synth.write_callbacks_jsonl(cbs, 1500, 3, start=datetime(2026, 11, 2, tzinfo=UTC), days=5)
    con = db.connect(tmp_path / "store.duckdb")
    ingest_file(con, str(spend))
    ingest_file(con, str(cbs))
    after_ingest(con)
    every = retries(con)
    assert every.height > 10
    # three retried requests share the start time of the 5th most recent: the cut falls among them
    ids = every["request_id"].to_list()[-7:-4]
    con.execute(
        "update request_log set started_at = (select started_at from request_log where request_id = ?) "
        "where request_id in (?, ?, ?)",
        [ids[1], *ids],
    )
    every = retries(con)
    for n in (1, 5, 6, every.height, every.height + 10):
        recent, total = recent_retries(con, n=n)
        assert total == every.height
        assert recent.equals(every.tail(n))
    since = every["at"][every.height // 2]
    recent, total = recent_retries(con, n=3, since=since)
    assert total == retries(con, since=since).height
    assert recent.equals(retries(con, since=since).tail(3))
    con.close()


def test_one_kind_per_request_overload_chain_before_model_switch(tmp_path: Path) -> None:
    """s1-3 is both an overload chain (two 529s on opus, then sonnet) and a model switch (opus claim header on
    the last opus request): stored once, as the chain (the view reads each stored row as one event)."""
    rows = _session(
        [
            (0, OPUS, "success"),
            (10, OPUS, "failure"),
            (15, OPUS, "failure"),
            (22, SONNET, "success"),
            (30, SONNET, "success"),
            (40, SONNET, "success"),
        ],
        failure=OVERLOAD_529,
    )
    cb = _opus_claim_header("s1-2", start=15)
    con = load(tmp_path, spend=rows, callbacks=[cb])
    assert con.execute("select request_id, kind from fallback_cc_events").fetchall() == [
        ("s1-3", "cc_overload_chain")
    ]
    assert [(e["request_id"], e["kind"]) for e in _events(con)] == [("s1-3", "cc_overload_chain")]


def test_a_litellm_kind_wins_over_a_claude_code_kind(tmp_path: Path) -> None:
    """The view's rule across the two stored tables: one event per request, the LiteLLM kind first."""
    con = load(tmp_path, spend=_session([(0, SONNET, "success"), (10, SONNET, "success")]))
    con.execute(
        "insert into fallback_litellm_events (request_id, started_at, kind, from_model, to_model, _prio) "
        "values ('s1-0', $t, 'litellm_router', $o, $s, 2)",
        {"t": at(0), "o": OPUS, "s": SONNET},
    )
    con.execute(
        'insert into fallback_cc_events (request_id, "at", kind, from_model, to_model, _prio) '
        "values ('s1-0', $t0, 'cc_model_switch', $o, $s, 4), ('s1-1', $t1, 'cc_overload_chain', $o, $s, 3)",
        {"t0": at(0), "t1": at(10), "o": OPUS, "s": SONNET},
    )
    assert [(e["request_id"], e["kind"]) for e in _events(con)] == [
        ("s1-0", "litellm_router"),
        ("s1-1", "cc_overload_chain"),
    ]


def test_spend_rows_after_their_callback_events_get_the_hops(tmp_path: Path) -> None:
    """Callback events ingested first, spend rows later: the spend rows are merged with their hops, also when a
    log's clock puts the hops hours before the spend row (the check for existing hops reads from a day before)."""
    from analyzer import db
    from analyzer.ingest import IngestOptions, after_ingest, ingest_file
    from tests.support.rows import write_jsonl

    hops = []
    for name, skew in (("near", 0), ("skewed", -3 * 3600)):
        hops += [
            callback_event(
                litellm_call_id=call_id(name),
                start=1000 + skew,
                model_group=OPUS,
                status="failure",
                **OVERLOAD_529,
            ),
            callback_event(
                litellm_call_id=call_id(name), id=f"msg_{name}", start=1001 + skew, model_group=SONNET
            ),
        ]
    spend = [
        spend_row(
            request_id=f"msg_{name}",
            start=1000,
            litellm_call_id=call_id(name),
            original_model_group=OPUS,
            attempted_fallbacks=1,
        )
        for name in ("near", "skewed")
    ]
    con = db.connect(tmp_path / "store.duckdb")
    # one file each: the check answers per batch
    files = [(write_jsonl(tmp_path / "cb.jsonl", hops), "callback")]
    files += [(write_jsonl(tmp_path / f"spend{i}.jsonl", [row]), "spend") for i, row in enumerate(spend)]
    for path, kind in files:
        assert ingest_file(con, path, IngestOptions(kind=kind)).rows_added > 0
        after_ingest(con)
    assert con.execute(
        "select request_id, origin, hops, failed_hops from request_log order by request_id"
    ).fetchall() == [("msg_near", "spend_log", 2, 1), ("msg_skewed", "spend_log", 2, 1)]
