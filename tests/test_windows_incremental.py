"""The stored default window bounds, refreshed incrementally after every ingest, equal a full recomputation."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analyzer import db, synth
from analyzer.ingest import IngestOptions, after_ingest, ingest_file
from analyzer.windows import compute_blocks, refresh_window_bounds

T0 = datetime(2026, 3, 2, tzinfo=UTC)
_N = [0]


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = db.connect(tmp_path / "store.duckdb")
    yield c
    c.close()


def _add(con: duckdb.DuckDBPyConnection, minutes: list[float], status: str = "success") -> None:
    for m in minutes:
        _N[0] += 1
        con.execute(
            "insert into request_log (request_id, origin, started_at, status, model, model_group, ingested_at) "
            "values (?, 'spend_log', ?, ?, 'anthropic/claude-sonnet-4-5', 'claude-sonnet-4-5', now())",
            [f"r{_N[0]:06d}", T0 + timedelta(minutes=m), status],
        )


def _stored(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, bool, int | None, int | None, int]]:
    return con.execute(
        "select epoch_ms(window_start), epoch_ms(window_end), is_gap, first_ms, last_ms, length_ms "
        "from window_bounds_5h order by all"
    ).fetchall()


def _expected(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, bool, int | None, int | None, int]]:
    times = np.asarray(
        [
            r[0]
            for r in con.execute(
                "select epoch_ms(started_at) from request_log where status = 'success' "
                "and started_at is not null order by 1"
            ).fetchall()
        ],
        dtype=np.int64,
    )
    s, e, f, la, g = compute_blocks(times)
    rows = [
        (int(a), int(b), bool(c), None if c else int(d), None if c else int(x), 5 * 3_600_000)
        for a, b, d, x, c in zip(s, e, f, la, g, strict=True)
    ]
    return sorted(rows)


def test_incremental_bounds_equal_a_full_recomputation(con: duckdb.DuckDBPyConnection) -> None:
    rng = random.Random(11)
    _add(con, [0, 30, 299, 301, 1000, 1400])
    assert refresh_window_bounds(con) == 6  # first refresh, full: 4 windows, 2 gaps
    assert _stored(con) == _expected(con)
    steps = [
        [1500, 1510, 1800],  # appended after the last window
        [1805],  # inside the last window
        [100, 120],  # inside an early window
        [2400, 2401, 9000],  # after a gap
        [-300],  # before everything
        [],  # nothing new
    ]
    recomputed = []
    for minutes in steps:
        _add(con, minutes)
        _add(con, [rng.uniform(0, 9000)], status="failure")  # failures never count
        recomputed.append(refresh_window_bounds(con))
        assert _stored(con) == _expected(con)
    # windows recomputed per step: only from the window before the earliest new request on
    assert recomputed == [3, 1, 7, 4, 12, 0]  # 7 and 12: a request before the first kept window, full
    for _ in range(8):
        _add(con, sorted(rng.uniform(8000, 12000) for _ in range(rng.randint(1, 6))))
        refresh_window_bounds(con)
        assert _stored(con) == _expected(con)
    # a removed request: the refresh notices (fewer successes than counted) and recomputes everything
    con.execute("delete from request_log where started_at = ?", [T0 + timedelta(minutes=9000)])
    _add(con, [12500])
    refresh_window_bounds(con)
    assert _stored(con) == _expected(con)
    incremental = _stored(con)
    refresh_window_bounds(con, full=True)
    assert _stored(con) == incremental
    assert len(incremental) == 25


def test_ingested_appends_keep_bounds_equal_to_a_full_refresh(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    gen.mkdir()
    synth.write_spend_jsonl(gen / "base.jsonl", 600, 3, start=datetime(2026, 5, 1, tzinfo=UTC), days=3)
    synth.write_spend_jsonl(gen / "late.jsonl", 100, 4, start=datetime(2026, 5, 4, 12, tzinfo=UTC), days=1)
    synth.write_spend_jsonl(gen / "mid.jsonl", 50, 5, start=datetime(2026, 5, 2, tzinfo=UTC), days=1)
    con = db.connect(tmp_path / "store.duckdb")
    try:
        for name in ("base", "late", "late", "mid"):
            assert not ingest_file(con, gen / f"{name}.jsonl", IngestOptions(kind="spend")).error
            after_ingest(con)
            assert _stored(con) == _expected(con)
        incremental = _stored(con)
        assert refresh_window_bounds(con, full=True) == len(incremental)
        assert _stored(con) == incremental
        assert con.execute("select count(*) from window_bounds_5h where not is_gap").fetchall()[0][0] == 10
    finally:
        con.close()
