"""The ccusage harness itself: transcript shape, skip/fail policy, and ccusage's 5-hour block rule.

The block rule these tests pin (ccusage 20.0.24, ``blocks``), which our windows must match:

* a block starts at its first entry's timestamp floored to the UTC hour and ends 5h later;
* an entry opens a new block when ``ts - block_start > 5h`` or ``ts - previous_entry > 5h``
  (strictly greater: exactly 5h stays in the block);
* when ``ts - previous_entry > 5h`` a gap block ``[previous_entry + 5h, ts)`` is emitted
  (its end is the entry's own timestamp, not the next block's floored start, so it can
  overlap that block; the list is sorted by startTime, which can put the gap after it);
* token totals include cache creation and cache read tokens; duplicate lines of one
  (message.id, requestId, sessionId) count once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

try:  # repo root on sys.path (python -m pytest, tests/__init__.py, or pythonpath = ["."])
    from tests.support.ccusage import (
        find_ccusage,
        require_ccusage,
        require_or_skip,
        run_blocks,
        write_transcripts,
    )
except ModuleNotFoundError:  # plain `pytest`, rootdir-less prepend import: tests/ itself is on sys.path
    from support.ccusage import (  # type: ignore[no-redef]
        find_ccusage,
        require_ccusage,
        require_or_skip,
        run_blocks,
        write_transcripts,
    )

SONNET_45 = "claude-sonnet-4-5-20250929"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def entry(when: str, n: int, *, session: str = "sess-a", project: str = "-work-alpha", **extra: Any) -> dict:
    e = {
        "timestamp": ts(when),
        "session_id": session,
        "project": project,
        "message_id": f"msg_{n:03d}",
        "request_id": f"req_{n:03d}",
        "model": SONNET_45,
        "input_tokens": 100 * n,
        "output_tokens": 10 * n,
        "cache_creation_tokens": 1000 * n,
        "cache_read_tokens": 5000 * n,
    }
    e.update(extra)
    return e


# ----------------------------------------------------------------------------- without ccusage


def test_transcript_lines_have_claude_code_shape(tmp_path: Path) -> None:
    e = entry("2024-03-04 09:17:05.250", 1)
    write_transcripts(tmp_path, [e])
    path = tmp_path / "projects" / "-work-alpha" / "sess-a.jsonl"
    raw = path.read_text().splitlines()
    assert len(raw) == 2  # user prompt + assistant reply
    user, assistant = (json.loads(line) for line in raw)
    assert '"usage":{' in raw[1] and ": " not in raw[1].replace('"text":"ok"', "")
    assert user["type"] == "user" and "usage" not in raw[0]
    assert assistant["parentUuid"] == user["uuid"]
    assert assistant["type"] == "assistant"
    assert assistant["timestamp"] == "2024-03-04T09:17:05.250Z"
    assert assistant["sessionId"] == "sess-a"
    assert assistant["requestId"] == "req_001"
    assert assistant["cwd"] == "/work/alpha"
    assert assistant["version"].count(".") == 2
    assert "costUSD" not in assistant
    msg = assistant["message"]
    assert (msg["id"], msg["model"], msg["role"]) == ("msg_001", SONNET_45, "assistant")
    assert msg["usage"] == {
        "input_tokens": 100,
        "cache_creation_input_tokens": 1000,
        "cache_read_input_tokens": 5000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 10,
        "service_tier": "standard",
    }


def test_transcripts_reject_naive_timestamps(tmp_path: Path) -> None:
    e = entry("2024-03-04 09:17", 1)
    e["timestamp"] = e["timestamp"].replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        write_transcripts(tmp_path, [e])


def test_require_or_skip_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    require_or_skip("thing", True, "never raised")  # available: no-op either way
    monkeypatch.delenv("CCSTATS_REQUIRE_ALL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no thing here"):
        require_or_skip("thing", False, "no thing here")
    monkeypatch.setenv("CCSTATS_REQUIRE_ALL", "1")
    with pytest.raises(pytest.fail.Exception, match="thing is required"):
        require_or_skip("thing", False, "no thing here")


def test_find_ccusage_honours_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CCSTATS_CCUSAGE", str(tmp_path / "no-such-ccusage"))
    assert find_ccusage() is None


# ----------------------------------------------------------------------------- with ccusage


def _block(
    start: str, end: str, actual_end: str | None, entries: int, ns: list[int], gap: bool = False
) -> dict:
    """Expected block for entries numbered ``ns`` (see :func:`entry` for their token counts)."""
    n = sum(ns)
    counts = {
        "inputTokens": 100 * n,
        "outputTokens": 10 * n,
        "cacheCreationInputTokens": 1000 * n,
        "cacheReadInputTokens": 5000 * n,
    }
    return {
        "id": f"gap-{start}" if gap else start,
        "startTime": start,
        "endTime": end,
        "actualEndTime": actual_end,
        "isActive": False,
        "isGap": gap,
        "entries": entries,
        "tokenCounts": counts,
        "totalTokens": sum(counts.values()),
        "models": [] if gap else [SONNET_45],
        "burnRate": None,
        "projection": None,
    }


@pytest.mark.needs_ccusage
def test_blocks_follow_the_five_hour_rule(tmp_path: Path) -> None:
    exe = require_ccusage()
    entries = [
        # block 1: 09:17 floors to 09:00 -> [09:00, 14:00); crosses the 10:00 hour boundary
        entry("2024-03-04 09:17:00", 1),
        entry("2024-03-04 10:05:00", 2),
        entry("2024-03-04 13:59:00", 3),
        # 14:10 - 09:00 > 5h (only 11 min after the previous entry): block 2 [14:00, 19:00), no gap;
        # another project/session shares it
        entry("2024-03-04 14:10:00", 4),
        entry("2024-03-04 15:30:00", 5, session="sess-b", project="-work-beta"),
        entry("2024-03-04 16:45:00", 6, session="sess-b", project="-work-beta"),
        # 00:20 - 16:45 = 7h35m > 5h: gap [21:45, 00:20), then block 3 [00:00, 05:00)
        entry("2024-03-05 00:20:00", 7),
        entry("2024-03-05 00:59:59", 8),
        entry("2024-03-05 04:00:00", 9),
        # exactly block start + 5h: still block 3 (the rule is strictly greater)
        entry("2024-03-05 05:00:00", 10),
    ]
    # Claude Code writes one line per streamed content block; ccusage must count this once.
    duplicate = dict(entries[1])
    write_transcripts(tmp_path, [*entries, duplicate])

    blocks = run_blocks(tmp_path, exe=exe)

    assert all(isinstance(b.pop("costUSD"), (int, float)) for b in blocks)
    assert blocks == [
        _block(
            "2024-03-04T09:00:00.000Z", "2024-03-04T14:00:00.000Z", "2024-03-04T13:59:00.000Z", 3, [1, 2, 3]
        ),
        _block(
            "2024-03-04T14:00:00.000Z", "2024-03-04T19:00:00.000Z", "2024-03-04T16:45:00.000Z", 3, [4, 5, 6]
        ),
        _block("2024-03-04T21:45:00.000Z", "2024-03-05T00:20:00.000Z", None, 0, [], gap=True),
        _block(
            "2024-03-05T00:00:00.000Z",
            "2024-03-05T05:00:00.000Z",
            "2024-03-05T05:00:00.000Z",
            4,
            [7, 8, 9, 10],
        ),
    ]


@pytest.mark.needs_ccusage
def test_exactly_five_hours_between_entries_is_not_a_gap(tmp_path: Path) -> None:
    exe = require_ccusage()
    write_transcripts(
        tmp_path,
        [
            entry("2024-06-01 08:30:00", 1),
            entry("2024-06-01 13:30:00", 2),  # 8:00 + 5h < 13:30 -> new block; prev + 5h == 13:30 -> no gap
            entry("2024-06-01 18:30:00.001", 3),  # 1 ms past prev + 5h -> gap [18:30, 18:30:00.001)
        ],
    )
    blocks = run_blocks(tmp_path, exe=exe)
    # ccusage sorts blocks by startTime, so a gap that starts after the floored start of the
    # block it precedes (18:30 > 18:00) is listed *after* that block, overlapping it.
    assert [(b["startTime"], b["endTime"], b["isGap"], b["entries"]) for b in blocks] == [
        ("2024-06-01T08:00:00.000Z", "2024-06-01T13:00:00.000Z", False, 1),
        ("2024-06-01T13:00:00.000Z", "2024-06-01T18:00:00.000Z", False, 1),
        ("2024-06-01T18:00:00.000Z", "2024-06-01T23:00:00.000Z", False, 1),
        ("2024-06-01T18:30:00.000Z", "2024-06-01T18:30:00.001Z", True, 0),
    ]


@pytest.mark.needs_ccusage
def test_offline_sonnet_45_pricing(tmp_path: Path) -> None:
    """What ccusage charges offline for claude-sonnet-4-5-20250929 (no costUSD in the lines).

    Base rates per million: input $3, output $15, 5m cache write $3.75, 1h cache write $6,
    cache read $0.30.  Above 200k tokens ccusage switches to the long-context rates (input $6,
    output $22.50, cache write $7.50 / 1h $12, cache read $0.60) -- per token *type*: the first
    200k of each field at the base rate, the rest at the premium rate, whatever the other
    fields hold.
    """
    exe = require_ccusage()
    cases = [
        ({"input_tokens": 1_000_000}, 5.40),  # 200k * $3 + 800k * $6
        ({"input_tokens": 200_000}, 0.60),
        ({"output_tokens": 1_000_000}, 21.00),  # 200k * $15 + 800k * $22.50
        ({"cache_creation_tokens": 1_000_000}, 6.75),  # 200k * $3.75 + 800k * $7.50
        ({"cache_creation_1h_tokens": 1_000_000}, 10.80),  # 200k * $6 + 800k * $12
        ({"cache_read_tokens": 1_000_000}, 0.54),  # 200k * $0.30 + 800k * $0.60
        ({"input_tokens": 150_000, "cache_read_tokens": 100_000}, 0.48),  # 250k of context, still base rates
    ]
    zero: dict[str, Any] = {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_tokens": 0,
        "cache_read_tokens": 0,
    }
    write_transcripts(
        tmp_path,
        # a day apart: one block per case
        [
            entry(f"2024-01-{1 + i:02d} 10:00:00", i + 1, **{**zero, **tokens})
            for i, (tokens, _) in enumerate(cases)
        ],
    )
    blocks = [b for b in run_blocks(tmp_path, exe=exe) if not b["isGap"]]
    assert [b["costUSD"] for b in blocks] == pytest.approx([cost for _, cost in cases], abs=1e-9)


@pytest.mark.needs_ccusage
def test_cost_usd_in_the_line_wins_in_auto_mode(tmp_path: Path) -> None:
    exe = require_ccusage()
    write_transcripts(tmp_path, [entry("2024-02-01 10:00:00", 1, cost_usd=1.25)])
    assert [b["costUSD"] for b in run_blocks(tmp_path, exe=exe)] == pytest.approx([1.25])
    assert [b["costUSD"] for b in run_blocks(tmp_path, exe=exe, mode="calculate")] == pytest.approx([0.0057])
