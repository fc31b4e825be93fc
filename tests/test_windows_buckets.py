"""windows() sums per-bucket pre-aggregates; the result must equal the block rule applied to every request."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from analyzer import db, windows
from analyzer.windows import HOUR_MS, MINUTE_MS, compute_blocks

SONNET = "claude-sonnet-4-5-20250929"


def test_bucketed_windows_equal_the_per_request_rule(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "store.duckdb")
    rng = random.Random(7)
    base = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    rows = []
    t = base
    for i in range(400):
        # bursts, exact 5-hour steps onto bucket edges, and long idle gaps
        step = rng.choice(
            [timedelta(seconds=rng.randint(1, 900)), timedelta(hours=5), timedelta(hours=rng.randint(6, 30))]
        )
        t = t + step if i else t
        if rng.random() < 0.1:
            t = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)  # exactly on an hour edge
        tokens = rng.choice([10, 250_000])  # above 200k: ccusage's tier price applies per request
        rows.append(
            (
                f"r{i}",
                "spend_log",
                t,
                "success",
                f"anthropic/{SONNET}",
                SONNET,
                tokens,
                20,
                0,
                0,
                0.5,
                datetime.now(UTC),
            )
        )
    con.executemany(
        "insert into request_log (request_id, origin, started_at, status, model, model_group, input_tokens, "
        "output_tokens, cache_creation_tokens, cache_read_tokens, spend_usd, ingested_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    for granularity in (60, 10, 7):
        got = windows.windows(con, granularity_minutes=granularity, now=base)
        times = np.array(sorted(int(r[2].timestamp() * 1000) for r in rows), dtype=np.int64)
        starts, ends, firsts, lasts, gaps = compute_blocks(
            times, granularity_ms=granularity * MINUTE_MS, length_ms=5 * HOUR_MS
        )
        expected_requests = [
            0 if g else int(((times >= f) & (times <= last)).sum())
            for f, last, g in zip(firsts, lasts, gaps, strict=True)
        ]
        assert got["requests"].to_list() == expected_requests
        assert [int(v.timestamp() * 1000) for v in got["window_start"]] == starts.tolist()
        # each window's input tokens are exactly the per-request sum
        by_time = sorted((int(r[2].timestamp() * 1000), r[6]) for r in rows)
        expected_input = [
            0 if g else sum(n for ms, n in by_time if f <= ms <= last)
            for f, last, g in zip(firsts, lasts, gaps, strict=True)
        ]
        assert got["input_tokens"].to_list() == expected_input
        # the per-request (tiered) cost summed per window equals the same sum without buckets
        exact = windows.windows(con, granularity_minutes=0, now=base)
        assert got["cost_usd"].sum() > 0
        assert round(got["cost_usd"].sum(), 9) == round(exact["cost_usd"].sum(), 9)
    con.close()
