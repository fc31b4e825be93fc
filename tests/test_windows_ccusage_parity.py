"""Parity with ccusage: the same traffic, as LiteLLM spend logs for ccstats and as Claude Code transcripts for
ccusage 20.0.24, must give the same 5-hour blocks: start, end, gap flag, entry count, the four token counts and
the total exactly, and the cost within $0.01 (both price the same way: all counts below the 200k tier).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analyzer import db, windows
from analyzer.ingest import after_ingest, ingest_file

try:
    from tests.support.ccusage import require_ccusage, run_blocks, write_transcripts
except ModuleNotFoundError:  # plain `pytest` with tests/ on sys.path
    from support.ccusage import require_ccusage, run_blocks, write_transcripts  # type: ignore[no-redef]

SONNET_45 = "claude-sonnet-4-5-20250929"
HAIKU_45 = "claude-haiku-4-5-20251001"
OPUS_41 = "claude-opus-4-1-20250805"
# LiteLLM-style list prices (USD per token) for the logged `spend`: input, output, cache write, cache read.
LIST_PRICES = {
    SONNET_45: (3e-6, 15e-6, 3.75e-6, 0.3e-6),
    HAIKU_45: (1e-6, 5e-6, 1.25e-6, 0.1e-6),
    OPUS_41: (15e-6, 75e-6, 18.75e-6, 1.5e-6),
}
MAX_COST_DIFF_USD = 0.01


def _ms(dt: datetime) -> datetime:
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def request_stream(seed: int = 20251006) -> list[dict[str, Any]]:
    """~300 deterministic requests over several days: bursts, gaps of exactly 5 h / just over / many hours,
    requests on hour boundaries and at exactly block start + 5 h, three models, several sessions and keys."""
    rng = random.Random(seed)
    t = datetime(2025, 10, 6, 8, 0, 0, tzinfo=UTC)
    times: list[datetime] = []
    # hand-made edge cases first
    times += [t, t + timedelta(hours=5)]  # on the hour, then exactly start + 5 h: same block
    t2 = t + timedelta(hours=5, milliseconds=1)  # 1 ms past: new block at 13:00
    times.append(t2)
    t3 = t2 + timedelta(hours=5)  # exactly 5 h after the previous request: not a gap, but past start + 5h
    times.append(t3)
    t4 = t3 + timedelta(hours=5, milliseconds=1)  # just over 5 h after the previous: gap block
    times.append(t4)
    t5 = (t4 + timedelta(hours=9)).replace(minute=59, second=59, microsecond=999000)  # floors to hh:00
    times.append(t5)
    cur = t5 + timedelta(minutes=1, milliseconds=1)  # next hour
    times.append(cur)
    gaps = [
        timedelta(minutes=40),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=6, minutes=13),
        timedelta(hours=14, minutes=2, seconds=7),
        timedelta(hours=4, minutes=59, seconds=59),
    ]
    while len(times) < 320:
        burst = rng.randint(5, 40)
        for _ in range(burst):
            cur += timedelta(seconds=rng.randint(5, 900), milliseconds=rng.randint(0, 999))
            times.append(cur)
        cur += rng.choice(gaps)
        if rng.random() < 0.3:  # land exactly on an hour boundary
            cur = cur.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            times.append(cur)
    out = []
    for n, when in enumerate(sorted(_ms(x) for x in times)):
        model = rng.choices([SONNET_45, HAIKU_45, OPUS_41], weights=[6, 3, 1])[0]
        out.append(
            {
                "n": n,
                "timestamp": when,
                "model": model,
                "input_tokens": rng.randint(1, 5000),
                "output_tokens": rng.randint(1, 8000),
                "cache_creation_tokens": rng.choice([0, rng.randint(100, 30000)]),
                "cache_read_tokens": rng.choice([0, rng.randint(1000, 150000)]),
                "session_id": f"sess-{n // 50}",
                "key": f"key-{n % 3}",
            }
        )
    return out


def spend_log_row(e: dict[str, Any]) -> dict[str, Any]:
    """A LiteLLM_SpendLogs row as LiteLLM exports it (litellm-logs.md section 1)."""
    inp, out, cw, cr = (
        e["input_tokens"],
        e["output_tokens"],
        e["cache_creation_tokens"],
        e["cache_read_tokens"],
    )
    pi, po, pw, pr = LIST_PRICES[e["model"]]
    prompt = inp + cw + cr  # LiteLLM's prompt_tokens include cache tokens
    usage = {
        "completion_tokens": out,
        "prompt_tokens": prompt,
        "total_tokens": prompt + out,
        "prompt_tokens_details": {"text_tokens": inp, "cached_tokens": cr, "cache_write_tokens": cw},
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
    }
    metadata = {
        "user_api_key": e["key"],
        "user_api_key_user_id": "default_user_id",
        "user_agent": "claude-cli/2.0.14 (external, cli)",
        "litellm_call_id": f"call-{e['n']:05d}",
        "additional_usage_values": {
            "prompt_tokens_details": {"text_tokens": inp, "cached_tokens": cr, "cache_write_tokens": cw},
            "cache_creation_input_tokens": cw,
            "cache_read_input_tokens": cr,
        },
        "usage_object": usage,
        "status": "success",
    }
    start = e["timestamp"].isoformat(timespec="microseconds")
    return {
        "request_id": f"msg_{e['n']:05d}",
        "call_type": "anthropic_messages",
        "api_key": e["key"],
        "spend": inp * pi + out * po + cw * pw + cr * pr,
        "total_tokens": prompt + out,
        "prompt_tokens": prompt,
        "completion_tokens": out,
        "startTime": start,
        "endTime": (e["timestamp"] + timedelta(seconds=2)).isoformat(timespec="microseconds"),
        "model": f"anthropic/{e['model']}",
        "model_id": "dep-1",
        "model_group": e["model"],
        "custom_llm_provider": "anthropic",
        "api_base": "https://api.anthropic.com",
        "user": "default_user_id",
        "metadata": json.dumps(metadata),
        "request_tags": json.dumps(["User-Agent: claude-cli"]),
        "team_id": "",
        "organization_id": "",
        "end_user": "",
        "session_id": e["session_id"],
        "status": "success",
        "litellm_call_id": f"call-{e['n']:05d}",
    }


def transcript_entry(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "timestamp": e["timestamp"],
        "session_id": e["session_id"],
        "project": "-work-alpha",
        "message_id": f"msg_{e['n']:05d}",
        "request_id": f"req_{e['n']:05d}",
        "model": e["model"],
        "input_tokens": e["input_tokens"],
        "output_tokens": e["output_tokens"],
        "cache_creation_tokens": e["cache_creation_tokens"],
        "cache_read_tokens": e["cache_read_tokens"],
    }


def _iso_ms(dt: datetime) -> str:
    utc = dt.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def test_stream_has_the_edge_cases() -> None:
    stream = request_stream()
    assert 300 <= len(stream) <= 500
    assert {e["model"] for e in stream} == {SONNET_45, HAIKU_45, OPUS_41}
    for kind in ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens"):
        assert max(e[kind] for e in stream) < 200_000
    ts = [e["timestamp"] for e in stream]
    diffs = [b - a for a, b in zip(ts, ts[1:], strict=False)]
    assert timedelta(hours=5) in diffs and any(d > timedelta(hours=5) for d in diffs)
    assert any(t.minute == 0 and t.second == 0 and t.microsecond == 0 for t in ts[2:])


def test_windows_match_ccusage_blocks(tmp_path: Path) -> None:
    exe = require_ccusage()
    stream = request_stream()

    logs = tmp_path / "spend_logs.jsonl"
    logs.write_text("".join(json.dumps(spend_log_row(e)) + "\n" for e in stream), encoding="utf-8")
    con = db.connect(tmp_path / "store.duckdb")
    summary = ingest_file(con, logs)
    assert (summary.rows_added, summary.quarantined) == (len(stream), 0)
    after_ingest(con)
    ours = windows.windows(con)

    config = tmp_path / "claude"
    write_transcripts(config, [transcript_entry(e) for e in stream])
    theirs = run_blocks(config, exe=exe, mode="calculate")

    def key(start: str, gap: bool) -> tuple[str, bool]:
        return start, gap

    ours_rows = sorted(
        (
            {
                "startTime": _iso_ms(r["window_start"]),
                "endTime": _iso_ms(r["window_end"]),
                "actualEndTime": None if r["is_gap"] else _iso_ms(r["actual_end"]),
                "isGap": r["is_gap"],
                "entries": r["requests"],
                "tokenCounts": {
                    "inputTokens": r["input_tokens"],
                    "outputTokens": r["output_tokens"],
                    "cacheCreationInputTokens": r["cache_creation_tokens"],
                    "cacheReadInputTokens": r["cache_read_tokens"],
                },
                "totalTokens": r["total_tokens"],
                "models": sorted(r["models"]),
                "isActive": r["is_active"],
            }
            for r in ours.iter_rows(named=True)
        ),
        key=lambda b: key(b["startTime"], b["isGap"]),
    )
    theirs_rows = sorted(
        (
            {
                "startTime": b["startTime"],
                "endTime": b["endTime"],
                "actualEndTime": b["actualEndTime"],
                "isGap": b["isGap"],
                "entries": b["entries"],
                "tokenCounts": {
                    k: b["tokenCounts"][k]
                    for k in (
                        "inputTokens",
                        "outputTokens",
                        "cacheCreationInputTokens",
                        "cacheReadInputTokens",
                    )
                },
                "totalTokens": b["totalTokens"],
                "models": sorted(b["models"]),
                "isActive": b["isActive"],
            }
            for b in theirs
        ),
        key=lambda b: key(b["startTime"], b["isGap"]),
    )
    assert len(ours_rows) == len(theirs_rows)
    assert sum(b["isGap"] for b in theirs_rows) >= 3
    for mine, ref in zip(ours_rows, theirs_rows, strict=True):
        assert mine == ref

    ours_cost = {(_iso_ms(r["window_start"]), r["is_gap"]): r["cost_usd"] for r in ours.iter_rows(named=True)}
    diffs = [abs(ours_cost[(b["startTime"], b["isGap"])] - float(b["costUSD"])) for b in theirs]
    assert max(diffs) < MAX_COST_DIFF_USD
    assert sum(ours_cost.values()) == pytest.approx(
        sum(float(b["costUSD"]) for b in theirs), abs=MAX_COST_DIFF_USD
    )

    # the documented view, refreshed by the ingest hook, says the same
    view = con.execute(
        "select window_start, window_end, is_gap, requests, total_tokens from windows_5h order by window_start, is_gap"
    ).fetchall()
    assert [(_iso_ms(a), _iso_ms(b), g, n, t) for a, b, g, n, t in view] == [
        (r["startTime"], r["endTime"], r["isGap"], r["entries"], r["totalTokens"]) for r in theirs_rows
    ]
    con.close()
