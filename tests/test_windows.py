"""5-hour windows (ccusage's block rule and its options), limits, weekly periods and the windows_5h view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest

from analyzer import db, windows
from analyzer.windows import compute_blocks, refresh_window_bounds, window_limit

SONNET = "claude-sonnet-4-5-20250929"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_N = [0]


def add(con: duckdb.DuckDBPyConnection, when: str, **cols: Any) -> None:
    """Insert one successful request into the real request_log table."""
    _N[0] += 1
    row: dict[str, Any] = {
        "request_id": f"msg_{_N[0]:06d}",
        "origin": "spend_log",
        "started_at": ts(when),
        "status": "success",
        "model": f"anthropic/{SONNET}",
        "model_group": SONNET,
        "provider": "anthropic",
        "input_tokens": 10,
        "output_tokens": 20,
        "cache_creation_tokens": 300,
        "cache_read_tokens": 4000,
        "spend_usd": 0.01,
        "key_hash": "key-a",
        "ingested_at": datetime.now(UTC),
    }
    row.update(cols)
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"insert into request_log ({names}) values ({marks})", list(row.values()))


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = db.connect(tmp_path / "store.duckdb")
    yield c
    c.close()


def spans(df: Any) -> list[tuple[str, str, bool, int]]:
    return [
        (
            r["window_start"].strftime("%m-%d %H:%M:%S.%f")[:-3],
            r["window_end"].strftime("%m-%d %H:%M:%S.%f")[:-3],
            r["is_gap"],
            r["requests"],
        )
        for r in df.iter_rows(named=True)
    ]


# ------------------------------------------------------------------------------------------ the rule itself


def test_exactly_five_hours_is_not_a_break(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "2025-03-04 10:00:00")
    add(con, "2025-03-04 15:00:00")  # ts - start == 5h and ts - prev == 5h: same block
    add(con, "2025-03-04 15:00:00.001")  # 1 ms past start + 5h: new block, floored to 15:00, no gap
    add(con, "2025-03-04 20:00:00.001")  # exactly 5h after the previous request: still no gap
    df = windows.windows(con, now=ts("2025-03-10 00:00:00"))
    assert spans(df) == [
        ("03-04 10:00:00.000", "03-04 15:00:00.000", False, 2),
        ("03-04 15:00:00.000", "03-04 20:00:00.000", False, 1),
        ("03-04 20:00:00.000", "03-05 01:00:00.000", False, 1),
    ]
    assert df["actual_end"].to_list() == [
        ts("2025-03-04 15:00:00"),
        ts("2025-03-04 15:00:00.001"),
        ts("2025-03-04 20:00:00.001"),
    ]


def test_gap_block_and_hour_flooring(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "2025-03-04 09:10:00")
    add(con, "2025-03-04 09:59:59.999")
    add(con, "2025-03-04 16:00:00")  # 6h00m00.001 after the previous request: a gap [14:59:59.999, 16:00)
    df = windows.windows(con, now=ts("2025-03-10 00:00:00"))
    assert spans(df) == [
        ("03-04 09:00:00.000", "03-04 14:00:00.000", False, 2),
        ("03-04 14:59:59.999", "03-04 16:00:00.000", True, 0),
        ("03-04 16:00:00.000", "03-04 21:00:00.000", False, 1),
    ]
    gap = df.row(1, named=True)
    assert (gap["total_tokens"], gap["cost_usd"], gap["models"], gap["actual_end"]) == (0, 0.0, [], None)
    assert gap["tokens_per_minute"] is None and gap["percent_of_limit"] is None


def test_ten_minute_and_no_granularity(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "2025-03-04 09:17:30.250")
    add(con, "2025-03-04 14:12:00")  # within 09:10 + 5h, past 09:17:30.250 + 5h? no: 14:12 < 14:17:30.250
    add(con, "2025-03-04 14:17:30.251")
    ten = windows.windows(con, granularity_minutes=10, now=ts("2025-03-10 00:00:00"))
    assert spans(ten) == [
        ("03-04 09:10:00.000", "03-04 14:10:00.000", False, 1),
        ("03-04 14:10:00.000", "03-04 19:10:00.000", False, 2),
    ]
    none = windows.windows(con, granularity_minutes=0, now=ts("2025-03-10 00:00:00"))
    assert spans(none) == [
        ("03-04 09:17:30.250", "03-04 14:17:30.250", False, 2),
        ("03-04 14:17:30.251", "03-04 19:17:30.251", False, 1),
    ]
    two_hours = windows.windows(con, length_hours=2, granularity_minutes=0, now=ts("2025-03-10 00:00:00"))
    assert spans(two_hours) == [
        ("03-04 09:17:30.250", "03-04 11:17:30.250", False, 1),
        ("03-04 11:17:30.250", "03-04 14:12:00.000", True, 0),
        ("03-04 14:12:00.000", "03-04 16:12:00.000", False, 2),
    ]


def test_compute_blocks_numpy() -> None:
    h = 3_600_000
    times = np.array([10 * h + 5, 15 * h, 15 * h + 1, 30 * h], dtype=np.int64)
    starts, ends, firsts, lasts, gaps = compute_blocks(times)
    assert starts.tolist() == [10 * h, 15 * h, 20 * h + 1, 30 * h]
    assert ends.tolist() == [15 * h, 20 * h, 30 * h, 35 * h]
    assert firsts.tolist() == [10 * h + 5, 15 * h + 1, -1, 30 * h]
    assert lasts.tolist() == [15 * h, 15 * h + 1, -1, 30 * h]
    assert gaps.tolist() == [False, False, True, False]
    assert [len(a) for a in compute_blocks(np.array([], dtype=np.int64))] == [0, 0, 0, 0, 0]


def test_per_key_split(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "2025-03-04 10:05:00", key_hash="key-a", input_tokens=1)
    add(con, "2025-03-04 12:30:00", key_hash="key-b", input_tokens=2)
    add(con, "2025-03-04 13:00:00", key_hash="key-a", input_tokens=4)
    add(con, "2025-03-04 14:00:00", key_hash=None, input_tokens=8)
    now = ts("2025-03-10 00:00:00")
    per_key = windows.windows(con, by="key", now=now)
    assert per_key.columns[0] == "key_hash"
    assert [
        (r["key_hash"], r["window_start"], r["requests"], r["input_tokens"])
        for r in per_key.iter_rows(named=True)
    ] == [
        ("key-a", ts("2025-03-04 10:00:00"), 2, 5),
        ("key-b", ts("2025-03-04 12:00:00"), 1, 2),
        (None, ts("2025-03-04 14:00:00"), 1, 8),
    ]
    overall = windows.windows(con, now=now)
    assert [(r["window_start"], r["requests"], r["input_tokens"]) for r in overall.iter_rows(named=True)] == [
        (ts("2025-03-04 10:00:00"), 4, 15)
    ]
    by_model = windows.windows(con, by="model", now=now)
    assert by_model["model_group"].to_list() == [SONNET]
    with pytest.raises(ValueError):
        windows.windows(con, by="team")


def test_active_flag_burn_rate_and_projection(con: duckdb.DuckDBPyConnection) -> None:
    add(
        con,
        "2025-03-04 10:10:00",
        input_tokens=100,
        output_tokens=50,
        cache_creation_tokens=0,
        cache_read_tokens=0,
    )
    add(
        con,
        "2025-03-04 10:40:00",
        input_tokens=200,
        output_tokens=250,
        cache_creation_tokens=0,
        cache_read_tokens=0,
    )
    # 600 tokens over 30 minutes = 20 tokens/min; at 11:00, 240 minutes are left
    df = windows.windows(con, now=ts("2025-03-04 11:00:00"), plan="pro")
    r = df.row(0, named=True)
    assert r["is_active"] is True
    assert (r["duration_minutes"], r["tokens_per_minute"], r["remaining_minutes"]) == (30.0, 20.0, 240.0)
    assert r["projected_total_tokens"] == 600 + 20 * 240
    assert r["projected_io_tokens"] == 600 + 20 * 240
    cost = 300 * 3e-6 + 300 * 15e-6
    assert r["cost_usd"] == pytest.approx(cost, abs=1e-12)
    assert r["cost_per_hour"] == pytest.approx(cost * 2, abs=1e-12)
    assert r["projected_cost_usd"] == pytest.approx(cost + cost * 2 * 4, abs=1e-12)
    assert (r["limit_tokens"], r["limit_measure"]) == (19_000, "io_tokens")
    assert r["percent_of_limit"] == pytest.approx(600 / 19_000 * 100)
    assert r["limit_status"] == "ok"
    assert (r["reset_at"], r["reset_source"]) == (ts("2025-03-04 15:00:00"), "estimate")
    # the last request was < 5h ago but the window has ended: not active
    assert windows.windows(con, now=ts("2025-03-04 15:00:00"))["is_active"].to_list() == [False]
    # inside the window but 5h after the last request cannot happen; just after the end, not active
    assert windows.windows(con, now=ts("2025-03-04 14:59:59"))["is_active"].to_list() == [True]
    act = windows.active_window(con, now=ts("2025-03-04 11:00:00"))
    assert act is not None
    assert (act["window_start"], act["requests"], act["reset_source"], act["remaining_minutes"]) == (
        ts("2025-03-04 10:00:00"),
        2,
        "estimate",
        240.0,
    )
    assert windows.active_window(con, now=ts("2025-03-04 16:00:00")) is None


def test_single_timestamp_window_has_no_burn_rate(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "2025-03-04 10:10:00")
    add(con, "2025-03-04 10:10:00")
    r = windows.windows(con, now=ts("2025-03-04 10:20:00")).row(0, named=True)
    assert (r["is_active"], r["requests"], r["tokens_per_minute"], r["projected_total_tokens"]) == (
        True,
        2,
        None,
        None,
    )


def test_official_headers_are_reported_beside_the_estimate(con: duckdb.DuckDBPyConnection) -> None:
    add(
        con,
        "2025-03-04 10:10:00",
        rl_5h_reset=ts("2025-03-04 14:20:00"),
        rl_5h_utilization=0.25,
        rl_5h_status="allowed",
    )
    add(
        con,
        "2025-03-04 11:10:00",
        rl_5h_reset=ts("2025-03-04 14:20:00"),
        rl_5h_utilization=0.5,
        rl_5h_status="allowed_warning",
    )
    add(con, "2025-03-04 11:20:00")  # no headers (streamed): the latest logged value still wins
    add(con, "2025-03-05 09:00:00")
    df = windows.windows(con, now=ts("2025-03-04 12:00:00"))
    first, gap, second = df.iter_rows(named=True)
    assert (first["official_5h_reset"], first["official_5h_utilization"], first["official_5h_status"]) == (
        ts("2025-03-04 14:20:00"),
        0.5,
        "allowed_warning",
    )
    assert (first["reset_at"], first["reset_source"]) == (ts("2025-03-04 14:20:00"), "official")
    assert gap["is_gap"] and (second["official_5h_reset"], second["reset_source"]) == (None, "estimate")
    assert (second["reset_at"]) == ts("2025-03-05 14:00:00")
    act = windows.active_window(con, now=ts("2025-03-04 12:00:00"))
    assert act is not None
    assert (act["reset_at"], act["reset_source"], act["official_5h_utilization"]) == (
        ts("2025-03-04 14:20:00"),
        "official",
        0.5,
    )


def test_only_successful_requests_count_and_billing_filter(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "2025-03-04 10:00:00", used_client_oauth_token=True)
    add(con, "2025-03-04 11:00:00", used_client_oauth_token=False, input_tokens=7)
    add(con, "2025-03-04 16:30:00", status="failure", input_tokens=0, output_tokens=0)
    now = ts("2025-03-10 00:00:00")
    assert spans(windows.windows(con, now=now)) == [("03-04 10:00:00.000", "03-04 15:00:00.000", False, 2)]
    sub = windows.windows(con, now=now, billing=["subscription"])
    api = windows.windows(con, now=now, billing="api")
    assert [(r["window_start"], r["requests"]) for r in sub.iter_rows(named=True)] == [
        (ts("2025-03-04 10:00:00"), 1)
    ]
    assert [(r["window_start"], r["input_tokens"]) for r in api.iter_rows(named=True)] == [
        (ts("2025-03-04 11:00:00"), 7)
    ]


def test_since_until_select_overlapping_windows(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "2025-03-04 10:10:00")
    add(con, "2025-03-05 10:10:00")
    now = ts("2025-03-10 00:00:00")
    df = windows.windows(con, now=now, since="2025-03-04T14:00:00+00:00")
    assert [(r["window_start"], r["is_gap"]) for r in df.iter_rows(named=True)] == [
        (ts("2025-03-04 10:00:00"), False),
        (ts("2025-03-04 15:10:00"), True),
        (ts("2025-03-05 10:00:00"), False),
    ]
    df = windows.windows(con, now=now, since=ts("2025-03-04 15:00:00"), until=ts("2025-03-05 10:00:00"))
    assert [(r["window_start"], r["is_gap"]) for r in df.iter_rows(named=True)] == [
        (ts("2025-03-04 15:10:00"), True)
    ]


def test_empty_store(con: duckdb.DuckDBPyConnection) -> None:
    df = windows.windows(con, now=ts("2025-03-10 00:00:00"))
    assert df.height == 0 and "window_start" in df.columns
    assert windows.active_window(con, now=ts("2025-03-10 00:00:00")) is None
    assert windows.weekly(con).height == 0
    assert refresh_window_bounds(con) == 0


# ------------------------------------------------------------------------------------------ limits


def _window_totals(con: duckdb.DuckDBPyConnection, day: str, io: int, cache: int) -> None:
    add(
        con,
        f"{day} 10:00:00",
        input_tokens=io // 2,
        output_tokens=io - io // 2,
        cache_creation_tokens=0,
        cache_read_tokens=cache,
    )


def test_limits_max_and_p90(con: duckdb.DuckDBPyConnection) -> None:
    # completed windows (io, cache): the max rule uses totals incl. cache, p90 uses input + output
    for day, io, cache in [
        ("2025-03-01", 10_000, 500_000),
        ("2025-03-02", 12_000, 0),
        ("2025-03-03", 84_000, 0),
        ("2025-03-04", 90_000, 0),
        ("2025-03-05", 50_000, 0),
    ]:
        _window_totals(con, day, io, cache)
    now = ts("2025-03-05 11:00:00")  # the 2025-03-05 window is active: excluded
    df = windows.windows(con, now=now, plan="max")
    assert df["is_gap"].to_list() == [False, True] * 4 + [False]
    assert window_limit(df, "max", now=now)[0] == 510_000
    assert df["limit_tokens"].unique().to_list() == [510_000]
    assert df["limit_measure"].unique().to_list() == ["total_tokens"]
    assert df.filter(~df["is_gap"])["percent_of_limit"].to_list() == pytest.approx(
        [
            100.0,
            12_000 / 510_000 * 100,
            84_000 / 510_000 * 100,
            90_000 / 510_000 * 100,
            50_000 / 510_000 * 100,
        ]
    )
    # p90: only 84k and 90k reach 95 % of a known limit (19k/88k/220k/880k) -> quantiles([84k, 90k], n=10)[-1]
    tokens, label = window_limit(df, "p90", now=now)
    assert tokens == 94_200 and "near a known limit" in label
    # none near a known limit: all completed windows of the last 8 days
    tokens, label = window_limit(df.filter(df["io_tokens"] < 80_000), "p90", now=now)
    assert (
        tokens == 19_000 and "completed windows" in label
    )  # quantiles([10k, 12k], n=10)[-1] = 13.4k < floor
    assert window_limit(df, "p90", now=ts("2025-04-01 00:00:00")) == (
        19_000,
        "p90: no completed window in the last 8 days, floor 19,000 (estimate)",
    )
    assert window_limit(df, "max20")[0] == 220_000 and "unofficial" in window_limit(df, "max20")[1]
    assert window_limit(df, 123_456)[0] == 123_456
    with pytest.raises(ValueError):
        window_limit(df, "enterprise")
    pro = windows.windows(con, now=now, plan="pro").filter(~pl.col("is_gap"))
    assert pro["limit_status"].to_list() == ["ok", "ok", "exceeds", "exceeds", "exceeds"]
    assert pro["percent_of_limit"][0] == pytest.approx(10_000 / 19_000 * 100)


def test_plan_presets_are_editable(con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        windows.PLAN_LIMITS, "pro", windows.PlanLimit(tokens=40_000, cost_usd=18.0, messages=250)
    )
    add(
        con,
        "2025-03-04 10:00:00",
        input_tokens=10_000,
        output_tokens=0,
        cache_creation_tokens=0,
        cache_read_tokens=0,
    )
    df = windows.windows(con, now=ts("2025-03-10 00:00:00"), plan="pro")
    assert (df["limit_tokens"][0], df["percent_of_limit"][0]) == (40_000, 25.0)


# ------------------------------------------------------------------------------------------ weekly


def test_weekly_calendar_weeks(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "2025-03-02 23:30:00", input_tokens=1)  # Sunday UTC; Monday 00:30 in Berlin
    add(con, "2025-03-03 00:30:00", input_tokens=2)  # Monday
    add(con, "2025-03-09 23:30:00", input_tokens=4)  # Sunday UTC; Monday 00:30 in Berlin
    utc = windows.weekly(con, now=ts("2025-03-05 00:00:00"))
    assert [
        (r["period_start"], r["period_end"], r["anchor"], r["requests"], r["input_tokens"], r["is_current"])
        for r in utc.iter_rows(named=True)
    ] == [
        (ts("2025-02-24 00:00:00"), ts("2025-03-03 00:00:00"), "calendar week (estimate)", 1, 1, False),
        (ts("2025-03-03 00:00:00"), ts("2025-03-10 00:00:00"), "calendar week (estimate)", 2, 6, True),
    ]
    berlin = windows.weekly(con, tz="Europe/Berlin", now=ts("2025-03-05 00:00:00"))
    assert [
        (r["period_start"], r["period_end"], r["input_tokens"]) for r in berlin.iter_rows(named=True)
    ] == [
        (ts("2025-03-02 23:00:00"), ts("2025-03-09 23:00:00"), 3),
        (ts("2025-03-09 23:00:00"), ts("2025-03-16 23:00:00"), 4),
    ]
    assert windows.weekly(con, since="2025-03-03", until="2025-03-04")["input_tokens"].to_list() == [2]


def test_weekly_anchored_on_the_7d_reset_header(con: duckdb.DuckDBPyConnection) -> None:
    reset = ts("2025-03-06 17:00:00")
    add(con, "2025-02-27 16:59:59", input_tokens=1)  # before reset - 7d: the period before
    add(con, "2025-02-27 17:00:00", input_tokens=2)  # the period ending at the reset starts here
    add(
        con,
        "2025-03-05 09:00:00",
        input_tokens=4,
        rl_7d_reset=ts("2025-03-06 16:00:00"),
        rl_7d_utilization=0.3,
    )
    add(
        con,
        "2025-03-05 10:00:00",
        input_tokens=8,
        rl_7d_reset=reset,
        rl_7d_utilization=0.41,
        rl_7d_status="allowed",
    )
    add(con, "2025-03-06 17:00:00", input_tokens=16)  # at the reset: the next period
    df = windows.weekly(con, now=ts("2025-03-05 12:00:00"))
    assert [
        (
            r["period_start"],
            r["period_end"],
            r["anchor"],
            r["input_tokens"],
            r["official_7d_utilization"],
            r["is_current"],
        )
        for r in df.iter_rows(named=True)
    ] == [
        (ts("2025-02-20 17:00:00"), ts("2025-02-27 17:00:00"), "official 7d reset", 1, None, False),
        (ts("2025-02-27 17:00:00"), reset, "official 7d reset", 14, 0.41, True),
        (reset, ts("2025-03-13 17:00:00"), "official 7d reset", 16, None, False),
    ]
    assert df["official_7d_reset"][1] == reset
    assert df["cost_usd"][1] == pytest.approx(
        14 * 3e-6 + 60 * 15e-6 + 900 * 3.75e-6 + 12_000 * 0.3e-6, abs=1e-12
    )


# ------------------------------------------------------------------------------------------ the view


def test_windows_5h_view_equals_windows(con: duckdb.DuckDBPyConnection) -> None:
    times = [
        "2025-03-04 09:10:00",
        "2025-03-04 09:59:59.999",
        "2025-03-04 14:00:00",
        "2025-03-04 14:00:00.001",
        "2025-03-04 23:30:00",
        "2025-03-05 04:30:00",
        "2025-03-05 04:30:00.001",
        "2025-03-06 12:00:00",
    ]
    for i, t in enumerate(times):
        add(con, t, input_tokens=i, output_tokens=2 * i, model="claude-opus-4-1-20250805" if i % 2 else None)
    add(con, "2025-03-05 05:00:00", model="no-such-model-9", model_group="no-such-model-9")
    assert refresh_window_bounds(con) == 7
    cols = [
        "window_start",
        "window_end",
        "actual_end",
        "is_gap",
        "is_active",
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "total_tokens",
        "io_tokens",
        "spend_usd",
        "cost_usd",
    ]
    view = con.execute(f"select {', '.join(cols)} from windows_5h").fetchall()
    lib = windows.windows(con).select(cols).rows()
    assert len(view) == len(lib) == 7
    for v, w in zip(view, lib, strict=True):
        assert v[:-2] == w[:-2]
        assert v[-2:] == pytest.approx(w[-2:], abs=1e-12)
    # the unknown model counts 0 in cost_usd and is flagged
    assert windows.windows(con)["unpriced_requests"].to_list() == [0, 0, 0, 0, 1, 0, 0]


def test_read_only_connection_gives_the_same_windows(tmp_path: Path) -> None:
    path = tmp_path / "ro.duckdb"
    c = db.connect(path)
    add(
        c,
        "2025-03-04 10:10:00",
        model="claude-haiku-4-5-20251001",
        input_tokens=1000,
        output_tokens=100,
        cache_creation_tokens=0,
        cache_read_tokens=0,
        rl_7d_reset=ts("2025-03-06 17:00:00"),
    )
    add(c, "2025-03-04 18:00:00")
    now = ts("2025-03-10 00:00:00")
    writable = windows.windows(c, now=now)
    c.close()
    ro = db.connect(path, read_only=True)
    try:
        assert windows.windows(ro, now=now).equals(writable)
        assert writable["cost_usd"][0] == pytest.approx(1000 * 1e-6 + 100 * 5e-6, abs=1e-15)
        assert windows.weekly(ro, now=now)["anchor"].to_list() == ["official 7d reset"]
    finally:
        ro.close()
