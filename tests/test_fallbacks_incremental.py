"""The stored fallback events (refreshed incrementally after every ingest) equal a full rebuild.

Synthetic LiteLLM traffic (spend rows, callback events, proxy lines, Claude Code transcripts of the same requests)
is appended to its files in pieces, interleaved, with ``after_ingest`` after each piece, as the watcher does.
"""

from __future__ import annotations

import random
from pathlib import Path

from analyzer import synth
from analyzer.db import connect
from analyzer.fallbacks import refresh_fallback_events
from analyzer.ingest import IngestOptions, after_ingest, ingest_file, ingest_paths
from tests.support.ccusage import write_transcripts
from tests.support.rows import OPUS, SONNET, at, call_id, spend_row, write_jsonl

N, SEED = 1500, 5
QUOTA = '{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your rate limit."}}'


def _pieces(path: Path, k: int, rng: random.Random) -> list[bytes]:
    lines = path.read_bytes().splitlines(keepends=True)
    cuts = sorted(rng.sample(range(1, len(lines)), min(k, len(lines)) - 1)) if len(lines) > 1 else []
    return [b"".join(lines[a:b]) for a, b in zip([0, *cuts], [*cuts, len(lines)], strict=True)]


def _events(con) -> list[tuple]:  # type: ignore[no-untyped-def]
    return con.sql("select * from fallback_events order by all").fetchall()


def _failed(con) -> tuple[list[tuple], list[tuple]]:  # type: ignore[no-untyped-def]
    """The stored failed rows, and the same rows read from request_log and callback_events."""
    from analyzer.db import sql

    stored = [
        con.sql(f"select * exclude (event_key) from {t} order by all").fetchall()
        if t == "failed_callbacks"
        else con.sql(f"select * from {t} order by all").fetchall()
        for t in ("failed_requests", "failed_callbacks")
    ]
    fresh = [
        con.sql(f"select * from ({sql(f'check_{t}')}) order by all").fetchall()
        for t in ("failed_requests", "failed_callbacks")
    ]
    return stored[0] + [("--",)] + stored[1], fresh[0] + [("--",)] + fresh[1]


def test_incremental_refresh_equals_a_full_rebuild(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    gen.mkdir()
    kw = {"days": 2, "developers": 4}
    synth.write_spend_jsonl(gen / "spend.jsonl", N, SEED, **kw)
    synth.write_callbacks_jsonl(gen / "callbacks.jsonl", N, SEED, **kw)
    synth.write_proxy_logs(gen / "proxy", N, SEED, **kw)
    synth.write_transcripts(gen / "cc", N, SEED, **kw)
    sources = [
        (gen / "spend.jsonl", "spend", 6),
        (gen / "callbacks.jsonl", "callback", 6),
        (gen / "proxy" / "proxy_stdout.log", "proxy", 3),
        (gen / "proxy" / "proxy_stderr.log", "proxy", 2),
    ]
    sources += [(p, None, 2) for p in sorted((gen / "cc").rglob("*.jsonl"))[:6]]
    rng = random.Random(7)
    queues = [
        [(tmp_path / f"{i}_{p.name}", kind, data) for data in _pieces(p, k, rng)]
        for i, (p, kind, k) in enumerate(sources)
    ]
    con = connect(tmp_path / "store.duckdb")
    steps = 0
    while any(queues):
        dst, kind, data = rng.choice([q for q in queues if q]).pop(0)
        with open(dst, "ab") as f:
            f.write(data)
        summary = ingest_file(con, dst, IngestOptions(kind=kind, log_tz="UTC"))
        assert not summary.error
        after_ingest(con)
        steps += 1
        stored, fresh = _failed(con)
        assert stored == fresh, f"stored failed rows differ after step {steps}"
    incremental = _events(con)
    kinds = con.sql("select kind, count(*) from fallback_events group by kind order by kind").fetchall()
    # nothing new: the next refresh recomputes nothing and changes nothing
    assert refresh_fallback_events(con)["requests"] == 0
    assert _events(con) == incremental
    refresh_fallback_events(con, full=True)
    assert steps == 29
    assert _events(con) == incremental
    assert kinds == [("cc_model_switch", 88), ("litellm_router", 33)]
    stored, fresh = _failed(con)
    assert stored == fresh
    assert len(fresh) > 50  # failed requests and hops of several kinds


def test_a_model_switch_ended_by_a_later_transcript_only_request(tmp_path: Path) -> None:
    """LiteLLM logs Opus, then a quota 429 on Opus, in a Claude Code session; a later ingest adds a Sonnet request
    of that session seen only in its transcript (sent direct). The refresh after that ingest finds the switch on
    the new successful transcript-only row, which itself can give no LiteLLM kind and no failed row: it is left out
    of the refresh's request scope, not out of its sessions."""
    session = "5f0c6f2e-0000-4000-8000-00000000000a"
    spend = write_jsonl(
        tmp_path / "spend_logs.jsonl",
        [
            spend_row(request_id="msg_a0", start=0, model_group=OPUS, session_id=session,
                      litellm_call_id=call_id("a0")),
            spend_row(request_id="msg_a1", start=10, model_group=OPUS, session_id=session, status="failure",
                      litellm_call_id=call_id("a1"), error_code="429", error_class="RateLimitError",
                      error_message=QUOTA),
        ],
    )  # fmt: skip
    con = connect(tmp_path / "store.duckdb")
    ingest_paths(con, [str(spend)])
    assert _events(con) == []
    cc = tmp_path / "claude"
    write_transcripts(
        cc,
        [{"timestamp": at(30), "session_id": session, "project": "-work-alpha", "message_id": "msg_cc_b",
          "request_id": "req_cc_b", "model": SONNET, "input_tokens": 12, "output_tokens": 40,
          "cache_creation_tokens": 0, "cache_read_tokens": 0}],
    )  # fmt: skip
    ingest_paths(con, [str(cc)])
    assert con.sql("select origin, status from request_log where request_id = 'msg_cc_b'").fetchall() == [
        ("claude_code", "success")
    ]
    assert [(e[0], e[2], e[3], e[4]) for e in _events(con)] == [("msg_cc_b", "cc_model_switch", OPUS, SONNET)]
    incremental = _events(con)
    refresh_fallback_events(con, full=True)
    assert _events(con) == incremental
    con.close()
