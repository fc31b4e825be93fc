"""Transcript matching is deferred: chunks only record their keys in pending_transcripts, and the merge runs once
per file (ingest_file) or once per run (after_ingest), in batches of sessions. Whatever the chunking, file order
or batch size, request_log holds exactly the rows the per-chunk merge produced (fixed below), and no pending
work is left."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import analyzer.ingest as ingest
from analyzer import connect, ingest_file, ingest_paths
from analyzer.sources import claude_code
from tests.support.ccusage import write_transcripts
from tests.support.rows import write_jsonl
from tests.test_claude_code import S1, S2, S3, _litellm_rows, _transcript_entries

QUERY = (
    "select request_id, origin, status, started_at, session_id, input_tokens, output_tokens, "
    "seen_in_litellm, seen_in_transcript from request_log order by all"
)


def t(minute: int, second: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, 27, hour, minute, second, tzinfo=UTC)


# The rows the former per-chunk merge gave for the mixed scenario of test_claude_code (both orders, any chunk size).
EXPECTED = [
    ("chatcmpl-4b1f", "spend_log", "success", t(2, 58), S1, 40, 12, True, True),
    ("msg_0001", "spend_log", "success", t(0, 8), S1, 10, 3, True, True),
    ("msg_0002", "spend_log", "success", t(0, 58), S1, 20, 6, True, True),
    ("msg_0003", "spend_log", "success", t(1, 58), S1, 30, 9, True, True),
    ("msg_0005", "claude_code", "success", t(0, 0, 11), S2, 50, 15, False, True),
    ("msg_0006", "claude_code", "success", t(1, 40, 11), S2, 60, 18, False, True),
    ("msg_0007", "spend_log", "success", t(3, 18), S3, 70, 21, True, False),
    ("msg_0008", "spend_log", "success", t(4, 18), S3, 80, 24, True, False),
    ("msg_0009", "claude_code", "success", t(3, 20, 11), S2, 90, 27, False, True),
    ("msg_0010", "spend_log", "success", t(3, 18, 11), S2, 100, 30, True, False),
]


def _files(tmp: Path) -> tuple[list[Path], Path]:
    cc = tmp / "claude"
    write_transcripts(cc, _transcript_entries())
    spend = write_jsonl(tmp / "spend_logs.jsonl", _litellm_rows())
    return sorted((cc / "projects").rglob("*.jsonl")), spend


def _pending(con: Any) -> list[tuple[int, int]]:
    return con.execute(
        "select (select count(*) from pending_transcripts), (select count(*) from pending_call_merges)"
    ).fetchall()


@pytest.mark.parametrize("order", ["transcripts_first", "litellm_first", "interleaved"])
@pytest.mark.parametrize("chunk_bytes", [300, 16 << 20])
def test_chunked_ingest_gives_the_per_chunk_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str, chunk_bytes: int
) -> None:
    monkeypatch.setattr(ingest, "CHUNK_BYTES", chunk_bytes)  # 300 bytes: about one line per chunk
    transcripts, spend = _files(tmp_path)
    con = connect(tmp_path / "s.duckdb")
    if order == "interleaved":
        # one file at a time with ingest_file, which merges at the end of each file
        for f in [transcripts[0], spend, *transcripts[1:]]:
            s = ingest_file(con, f)
            assert not s.error
            assert _pending(con) == [(0, 0)]
    else:
        groups = [[str(p) for p in transcripts], [str(spend)]]
        for paths in groups if order == "transcripts_first" else groups[::-1]:
            summaries, errors = ingest_paths(con, paths)
            assert not errors and not [s for s in summaries if s.error]
            assert _pending(con) == [(0, 0)]
    assert con.execute(QUERY).fetchall() == EXPECTED
    con.close()


def test_batches_of_one_session_give_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claude_code, "MERGE_BATCH_SESSIONS", 1)
    monkeypatch.setattr(claude_code, "MERGE_BATCH_IDS", 1)
    transcripts, spend = _files(tmp_path)
    con = connect(tmp_path / "s.duckdb")
    ingest_paths(con, [str(spend)])
    # chunks only record keys: nothing is matched until the run's after_ingest
    opts = ingest.IngestOptions(merge_transcripts=False)
    for f in transcripts:
        ingest_file(con, f, opts)
    assert con.execute("select count(*) from pending_transcripts").fetchall() == [(8,)]
    assert con.execute("select count(*) from request_log where origin = 'claude_code'").fetchall() == [(0,)]
    ingest.after_ingest(con)
    assert _pending(con) == [(0, 0)]
    assert con.execute(QUERY).fetchall() == EXPECTED
    con.close()
