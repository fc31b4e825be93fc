"""Parity with ccusage: on the same Claude Code transcripts, ccstats' windows are ``ccusage blocks --json
--offline`` (pinned 20.0.24) block for block -- start, end, last entry, the four token totals, and cost within a
cent (sonnet/haiku with 5-minute cache writes only: both price those the same way).

Duplicates prove the de-duplication: streamed copies of one response (same message id + request id) with fewer
tokens, a copy with more tokens written later (it wins, with its timestamp), and a resumed session repeating a
line in another session and project. Not compared: ccusage's ``entries`` (it counts zero-token API error lines,
which ccstats keeps as failed requests outside the windows; no such lines here) and ``models`` naming."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from analyzer import connect, ingest_paths
from analyzer.windows import windows
from tests.support.ccusage import require_ccusage, run_blocks, write_transcripts

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
T0 = datetime(2025, 3, 4, 9, 17, 23, tzinfo=UTC)


def e(
    n: int, minutes: float, *, session: str = "sess-a", project: str = "-work-alpha", **kw: Any
) -> dict[str, Any]:
    d: dict[str, Any] = {
        "timestamp": T0 + timedelta(minutes=minutes),
        "session_id": session,
        "project": project,
        "message_id": f"msg_{n:04d}",
        "request_id": f"req_{n:04d}",
        "model": SONNET if n % 3 else HAIKU,
        "input_tokens": 7 * n + 3,
        "output_tokens": 40 * n + 11,
        "cache_creation_tokens": 900 * (n % 4),
        "cache_read_tokens": 12_000 + 500 * n,
    }
    d.update(kw)
    return d


def _entries() -> list[dict[str, Any]]:
    out = [e(n, 9 * n) for n in range(1, 15)]  # 09:26 .. 11:23: one window from 09:00
    out += [e(n, 9 * n + 1, session="sess-b", project="-work-beta") for n in range(15, 21)]
    # streamed copies with fewer tokens (the first line of a multi-block reply) and a later complete copy
    out.append(e(3, 27.01, output_tokens=5))
    out.append(e(4, 36.5, output_tokens=4000))  # later copy with more tokens: it wins, with its timestamp
    # resumed session: sess-c in another project repeats msg_0005 (same tokens) -> counted once
    out.append(e(5, 45.2, session="sess-c", project="-work-gamma"))
    # 4h50 after the window start: same window; then > 5h after the last request: a gap and a new window
    out.append(e(30, 4 * 60 + 30))
    out += [e(n, 11 * 60 + 3 * n) for n in range(31, 36)]
    # exactly 5 h after the previous request: past window start + 5 h, so a new window, but no gap (not > 5 h)
    out.append(e(36, 11 * 60 + 3 * 35 + 300))
    return out


def test_windows_match_ccusage_blocks(tmp_path: Path) -> None:
    exe = require_ccusage()
    cc = tmp_path / "claude"
    write_transcripts(cc, _entries())
    blocks = run_blocks(cc, exe=exe)
    con = connect(tmp_path / "s.duckdb")
    summaries, errors = ingest_paths(con, [str(cc / "projects")])
    assert not errors and all(s.format == "transcript-lines" for s in summaries)
    w = windows(con)
    ours = []
    for r in w.iter_rows(named=True):
        ours.append(
            {
                "startTime": r["window_start"],
                "endTime": r["window_end"],
                "isGap": r["is_gap"],
                "actualEndTime": r["actual_end"],
                "tokens": (
                    r["input_tokens"],
                    r["output_tokens"],
                    r["cache_creation_tokens"],
                    r["cache_read_tokens"],
                ),
                "totalTokens": r["total_tokens"],
                "cost": r["cost_usd"],
            }
        )

    def ts(s: str | None) -> datetime | None:
        return datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None

    theirs = []
    for b in blocks:
        tc = b["tokenCounts"]
        theirs.append(
            {
                "startTime": ts(b["startTime"]),
                "endTime": ts(b["endTime"]),
                "isGap": b["isGap"],
                "actualEndTime": ts(b["actualEndTime"]),
                "tokens": (
                    tc["inputTokens"],
                    tc["outputTokens"],
                    tc["cacheCreationInputTokens"],
                    tc["cacheReadInputTokens"],
                ),
                "totalTokens": b["totalTokens"],
                "cost": float(b["costUSD"]),
            }
        )
    key = lambda r: (r["startTime"], r["isGap"])  # noqa: E731
    ours.sort(key=key)
    theirs.sort(key=key)
    assert len(theirs) == 4  # window, gap, window, window: the scenario really has several blocks
    assert [{k: v for k, v in r.items() if k != "cost"} for r in ours] == [
        {k: v for k, v in r.items() if k != "cost"} for r in theirs
    ]
    for o, t in zip(ours, theirs, strict=True):
        assert abs(o["cost"] - t["cost"]) < 0.01, (o, t)
    # de-duplication: 27 distinct responses (of 30 lines with usage), msg_0004 counted with its larger copy
    assert con.execute("select count(*) from transcript_entries").fetchall() == [(27,)]
    assert con.execute(
        "select output_tokens, started_at from transcript_entries where message_id = 'msg_0004'"
    ).fetchall() == [(4000, T0 + timedelta(minutes=36.5))]
    con.close()
