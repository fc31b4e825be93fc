"""Re-ingesting never adds anything twice; appends are read from the stored offset."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from analyzer import connect
from analyzer.ingest import IngestOptions, ingest_file

from .conftest import SAMPLE_LOGS

LINES = (SAMPLE_LOGS / "spend_logs.jsonl").read_bytes().splitlines(keepends=True)


def _count(con: object) -> int:
    return con.execute("select count(*) from request_log").fetchall()[0][0]  # type: ignore[attr-defined]


def test_reingest_same_file_adds_nothing(tmp_path: Path) -> None:
    con = connect(tmp_path / "t.duckdb")
    first = ingest_file(con, SAMPLE_LOGS / "spend_logs.jsonl")
    again = ingest_file(con, SAMPLE_LOGS / "spend_logs.jsonl")
    assert (first.rows_added, again.rows_added, again.bytes_read, again.note) == (
        35,
        0,
        0,
        "already up to date",
    )
    assert _count(con) == 35


def test_append_is_read_from_the_stored_offset(tmp_path: Path) -> None:
    f = tmp_path / "spend.jsonl"
    f.write_bytes(b"".join(LINES[:10]))
    con = connect(tmp_path / "t.duckdb")
    assert ingest_file(con, f).rows_added == 10
    with f.open("ab") as fh:
        fh.write(b"".join(LINES[10:25]))
    s = ingest_file(con, f)
    assert (s.rows_added, s.duplicates, s.lines, s.bytes_read) == (15, 0, 15, len(b"".join(LINES[10:25])))
    assert con.execute("select offset_bytes, lines_read from sources").fetchall() == [(f.stat().st_size, 25)]


def test_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    f = tmp_path / "spend.jsonl"
    f.write_bytes(b"".join(LINES[:3]) + LINES[3][:100])
    con = connect(tmp_path / "t.duckdb")
    s = ingest_file(con, f, IngestOptions(final=False))
    assert (s.rows_added, s.quarantined, s.pending_tail) == (3, 0, True)
    with f.open("ab") as fh:
        fh.write(LINES[3][100:])
    s = ingest_file(con, f, IngestOptions(final=False))
    assert (s.rows_added, s.quarantined, s.pending_tail) == (1, 0, False)


def test_one_shot_reads_a_complete_last_line_without_newline(tmp_path: Path) -> None:
    f = tmp_path / "spend.jsonl"
    f.write_bytes(b"".join(LINES[:3]) + LINES[3].rstrip(b"\n"))
    con = connect(tmp_path / "t.duckdb")
    assert ingest_file(con, f).rows_added == 4
    with f.open("ab") as fh:
        fh.write(b"\n" + LINES[4])
    s = ingest_file(con, f)
    assert (s.rows_added, s.quarantined) == (1, 0)


def test_overlapping_file_adds_only_new_requests(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b"".join(LINES[:20]))
    b.write_bytes(b"".join(LINES[10:35]))
    con = connect(tmp_path / "t.duckdb")
    ingest_file(con, a)
    s = ingest_file(con, b)
    assert (s.rows_added, s.duplicates) == (15, 10)
    assert _count(con) == 35


def test_renamed_and_gzipped_rotation_is_not_read_twice(tmp_path: Path) -> None:
    f = tmp_path / "spend.jsonl"
    f.write_bytes(b"".join(LINES[:20]))
    con = connect(tmp_path / "t.duckdb")
    ingest_file(con, f)
    rotated = tmp_path / "spend.jsonl.1"
    f.rename(rotated)
    s = ingest_file(con, rotated)
    assert (s.rows_added, s.bytes_read) == (0, 0)
    with gzip.open(tmp_path / "spend.jsonl.1.gz", "wb") as g:
        g.write(rotated.read_bytes())
    rotated.unlink()
    s = ingest_file(con, tmp_path / "spend.jsonl.1.gz")
    assert (s.rows_added, s.bytes_read, s.duplicates) == (0, 0, 0)
    f.write_bytes(b"".join(LINES[20:30]))
    assert ingest_file(con, f).rows_added == 10
    assert _count(con) == 30


def test_truncated_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    f = tmp_path / "spend.jsonl"
    f.write_bytes(b"".join(LINES[:20]))
    con = connect(tmp_path / "t.duckdb")
    ingest_file(con, f)
    shutil.copy(f, tmp_path / "spend.jsonl.1")  # copytruncate
    f.write_bytes(b"".join(LINES[20:22]))
    assert ingest_file(con, tmp_path / "spend.jsonl.1").rows_added == 0
    s = ingest_file(con, f)
    assert (s.rows_added, s.duplicates) == (2, 0)
    assert _count(con) == 22
