"""The hourly rollup (analyzer.rollup) gives the report exactly what reading every request gives, and it never serves
stale numbers: hours changed behind its back are recomputed on read, and the refresh after an ingest touches only
the hours that changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analyzer import billing, db, rollup, synth, windows
from analyzer.ingest import after_ingest, ingest_file, load_litellm_config

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 2, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"]
SUBSCRIPTION = ["subscription"]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """1,500 synthetic requests (spend rows and their callback events) over 12 days, rolled up by after_ingest."""
    spend, cbs = tmp_path / "spend.jsonl", tmp_path / "callbacks.jsonl"
    synth.write_spend_jsonl(spend, 1500, 11, start=START, days=12)
    synth.write_callbacks_jsonl(cbs, 1500, 11, start=START, days=12)
    con = db.connect(tmp_path / "store.duckdb")
    ingest_file(con, str(spend))
    ingest_file(con, str(cbs))
    after_ingest(con)
    yield con
    con.close()


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(df.columns, nulls_last=True)


def _same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.height > 0
    assert_frame_equal(_sorted(got), _sorted(want), check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def _assert_report_frames_equal(con: duckdb.DuckDBPyConnection, relation: str | None, tz: str) -> None:
    assert relation is not None
    for billing_routes in (None, SUBSCRIPTION):
        _same(
            windows.windows(con, now=NOW, billing=billing_routes, rollup=relation),
            windows.windows(con, now=NOW, billing=billing_routes),
        )
        _same(
            windows.weekly(con, tz=tz, now=NOW, billing=billing_routes, rollup=relation),
            windows.weekly(con, tz=tz, now=NOW, billing=billing_routes),
        )
    _same(billing.billing_cube(con, tz=tz, rollup=relation), billing.billing_cube(con, tz=tz))


def _stored_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute("select * from usage_rollup order by all").fetchall()


def _rebuilt_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    """The rollup computed from scratch (a changed fingerprint forces that), without keeping it."""
    con.execute("begin transaction")
    try:
        con.execute("update usage_rollup_state set fingerprint = 'force a rebuild'")
        rollup.refresh(con)
        return _stored_rows(con)
    finally:
        con.execute("rollback")


@pytest.mark.parametrize("tz", ZONES)
def test_rollup_gives_the_same_windows_weekly_and_billing_as_every_request(
    store: duckdb.DuckDBPyConnection, tz: str
) -> None:
    assert rollup.current(store) == rollup.STORED  # after_ingest left it current
    assert (
        store.execute("select sum(requests) from usage_rollup").fetchall()[0][0]
        == store.execute("select count(*) from request_log").fetchall()[0][0]
    )
    _assert_report_frames_equal(store, rollup.current(store), tz)


def test_hours_that_span_two_days_or_periods_are_placed_request_by_request(
    store: duckdb.DuckDBPyConnection,
) -> None:
    # Kolkata is UTC+5:30: every local midnight falls inside a UTC hour
    raw, params = rollup.split_hours(store, rollup.STORED, rollup.DAY_KEY, {"tz": "Asia/Kolkata"})
    assert params["raw_hours"] and "raw_lo_0" in params and "$raw_lo_0" in raw
    # a 7-day reset in the middle of an hour: the weekly periods start and end inside hours
    reset = datetime(2026, 11, 16, 9, 41, 13, 250000, tzinfo=UTC)
    store.execute(
        "update request_log set rl_7d_reset = ?, rl_7d_utilization = 0.37 "
        "where request_id = (select max(request_id) from request_log where status = 'success')",
        [reset],
    )
    anchor_ms = int(reset.timestamp() * 1000)
    _, params = rollup.split_hours(
        store, rollup.STORED, rollup.WEEK_KEY, {"tz": "UTC", "anchor_ms": anchor_ms}
    )
    assert len(params["raw_hours"]) >= 2  # data spans two period boundaries
    relation = rollup.current(store)  # the update made that hour stale
    assert relation == rollup.PATCHED
    got = windows.weekly(store, now=NOW, rollup=relation)
    assert got["anchor"][0] == "official 7d reset"
    assert (got["period_end"] == got["period_start"] + timedelta(days=7)).all()
    _same(got, windows.weekly(store, now=NOW))
    _same(
        billing.billing_cube(store, tz="Asia/Kolkata", rollup=relation),
        billing.billing_cube(store, tz="Asia/Kolkata"),
    )


def test_changes_behind_the_rollups_back_are_recomputed_on_read_and_by_the_next_refresh(
    store: duckdb.DuckDBPyConnection,
) -> None:
    hour_of = "select distinct floor(epoch_ms(started_at) / 3600000)::bigint from request_log where "
    # four hours change: tokens of one request, a deleted request, a new request in an hour of its own, and an
    # error text that makes the billing classification change its mind
    changed = store.execute(hour_of + "request_id = (select min(request_id) from request_log)").fetchall()
    store.execute(
        "update request_log set input_tokens = input_tokens + 1000 where request_id = "
        "(select min(request_id) from request_log)"
    )
    deleted = store.execute(hour_of + "request_id = (select max(request_id) from request_log)").fetchall()
    store.execute("delete from request_log where request_id = (select max(request_id) from request_log)")
    store.execute(
        "insert into request_log (request_id, origin, started_at, status, model, model_group, input_tokens, "
        "output_tokens, cache_creation_tokens, cache_read_tokens, spend_usd, ingested_at) values "
        "('r-new', 'spend_log', timestamptz '2026-12-01 03:30:00+00', 'success', 'anthropic/claude-sonnet-4-5', "
        "'claude-sonnet-4-5', 10, 20, 0, 0, 0.01, now())"
    )
    failed = store.execute(
        "select request_id, floor(epoch_ms(started_at) / 3600000)::bigint from requests "
        "where status <> 'success' and billing_route <> 'not_billed' "
        "and floor(epoch_ms(started_at) / 3600000)::bigint not in (?, ?) order by request_id limit 1",
        [changed[0][0], deleted[0][0]],
    ).fetchall()
    assert failed
    store.execute(
        "update request_log set error_message = 'No deployments available for selected model' "
        "where request_id = ?",
        [failed[0][0]],
    )
    assert store.execute(
        "select billing_route from requests where request_id = ?", [failed[0][0]]
    ).fetchall() == [("not_billed",)]
    dirty = {
        changed[0][0],
        deleted[0][0],
        failed[0][1],
        int(datetime(2026, 12, 1, 3, tzinfo=UTC).timestamp()) // 3600,
    }

    assert rollup.current(store) == rollup.PATCHED
    _assert_report_frames_equal(store, rollup.PATCHED, "Europe/Berlin")

    store.execute("begin transaction")
    recomputed = rollup.refresh(store)
    store.execute("commit")
    assert recomputed == len(dirty)
    assert rollup.current(store) == rollup.STORED
    assert _stored_rows(store) == _rebuilt_rows(store)
    _assert_report_frames_equal(store, rollup.STORED, "UTC")


def test_an_append_refreshes_only_the_new_hours_and_equals_a_rebuild(tmp_path: Path) -> None:
    spend = tmp_path / "spend.jsonl"
    synth.write_spend_jsonl(spend, 800, 5, start=START, days=6)
    con = db.connect(tmp_path / "store.duckdb")
    try:
        ingest_file(con, str(spend))
        after_ingest(con)
        before = con.execute(
            "select hour_key, requests, checksum from usage_rollup_hours order by 1"
        ).fetchall()
        extra = tmp_path / "extra.jsonl"
        synth.write_spend_jsonl(extra, 50, 6, start=START + timedelta(days=6), days=1)
        with spend.open("ab") as f:
            f.write(extra.read_bytes())
        ingest_file(con, str(spend))
        new_hours = {
            r[0]
            for r in con.execute(
                "select floor(epoch_ms(started_at) / 3600000)::bigint from request_log where started_at >= ?",
                [START + timedelta(days=6)],
            ).fetchall()
        }
        con.execute("begin transaction")
        assert rollup.refresh(con) == len(new_hours)
        con.execute("commit")
        after = con.execute(
            "select hour_key, requests, checksum from usage_rollup_hours order by 1"
        ).fetchall()
        assert [r for r in after if r[0] not in new_hours] == before  # the old hours were left alone
        assert _stored_rows(con) == _rebuilt_rows(con)
    finally:
        con.close()


def test_a_new_litellm_config_rebuilds_every_hour(store: duckdb.DuckDBPyConnection) -> None:
    before = store.execute("select fingerprint from usage_rollup_state").fetchall()
    load_litellm_config(store, REPO / "scripts" / "capture" / "litellm_config.yaml")
    assert rollup.current(store) == rollup.PATCHED  # the billing classification reads the config
    _assert_report_frames_equal(store, rollup.PATCHED, "UTC")
    after_ingest(store)
    assert store.execute("select fingerprint from usage_rollup_state").fetchall() != before
    assert rollup.current(store) == rollup.STORED
    assert _stored_rows(store) == _rebuilt_rows(store)


def test_a_store_without_the_rollup_tables_reports_from_every_request(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = db.connect(path)
    con.execute("drop table usage_rollup_state")  # as a store written before m008 lacks it
    con.close()
    ro = db.connect(path, read_only=True)
    try:
        assert rollup.current(ro) is None
    finally:
        ro.close()


def test_latest_headers_from_the_rollup_equal_a_scan_of_every_request(
    store: duckdb.DuckDBPyConnection,
) -> None:
    """windows.latest_headers(rollup=...) reads only the requests from the latest logged header on; the values
    equal a scan of every request, also after the latest headers are removed behind the rollup's back (the
    rollup relation is then patched) and when no request carries any."""
    want = windows.latest_headers(store)
    assert want["rl_5h_reset"] is not None and want["rl_7d_reset"] is not None
    assert windows.latest_headers(store, rollup=rollup.current(store)) == want

    # drop the headers of the latest 5h-carrying requests: the latest one is now earlier
    store.execute(
        "update request_log set rl_5h_reset = null, rl_5h_utilization = null, rl_5h_status = null "
        "where started_at >= (select max(started_at) - interval 6 hour from request_log where rl_5h_reset is not null)"
    )
    earlier = windows.latest_headers(store)
    assert earlier["rl_5h_logged_at"] < want["rl_5h_logged_at"]
    assert earlier["rl_7d_reset"] == want["rl_7d_reset"]
    assert windows.latest_headers(store, rollup=rollup.current(store)) == earlier

    store.execute("update request_log set rl_5h_reset = null, rl_7d_reset = null")
    none = windows.latest_headers(store, rollup=rollup.current(store))
    assert none == windows.latest_headers(store)
    assert set(none.values()) == {None}


def test_the_report_sums_the_stored_rollup_and_redoes_it_when_the_check_finds_it_stale(
    store: duckdb.DuckDBPyConnection,
) -> None:
    """report_cli.collect sums the stored rollup while its second connection checks it; a stale hour (tokens
    changed behind the rollup's back) makes it recompute, so the report equals the one after a refresh."""
    from analyzer import report_cli

    opts = report_cli.ReportOptions(tz="UTC", now=datetime(2026, 12, 1, tzinfo=UTC))
    first = store.execute("select min(request_id) from request_log where status = 'success'").fetchall()[0][0]
    store.execute("update request_log set input_tokens = input_tokens + 100000 where request_id = ?", [first])
    assert rollup.stored_if_fingerprint_matches(store) == rollup.STORED
    assert rollup.stale_hours(store) == 1
    stale = report_cli.collect(store, opts)
    store.execute("begin transaction")
    assert rollup.refresh(store) == 1
    store.execute("commit")
    fresh = report_cli.collect(store, opts)
    total = store.execute("select sum(input_tokens) from request_log where status = 'success'").fetchall()[0][
        0
    ]
    assert stale["windows"]["input_tokens"].sum() == fresh["windows"]["input_tokens"].sum() == total
    for key in ("windows", "weekly", "billing_by_day", "billing_by_key", "api_leaks_by_key_day"):
        _same(stale[key], fresh[key])
    assert stale["check"] == fresh["check"]
