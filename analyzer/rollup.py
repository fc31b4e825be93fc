"""A per-hour rollup of the requests, so reports read thousands of rows instead of millions.

``usage_rollup`` (m008) holds, per hour and per model, key, billing route/evidence/confidence and status, the
request count, token sums, LiteLLM's spend, the computed cost, the first and last start time and the latest
official headers: everything the 5-hour windows, the weekly periods and the billing cube sum. ``after_ingest``
keeps it current (:func:`refresh`), recomputing only the hours that changed.

It is a cache, never the truth. ``usage_rollup_hours`` stores each hour's request count and a checksum of the
columns the rollup reads (rollup_hours.sql); :func:`current` recomputes them from ``request_log`` (one cheap scan)
and rebuilds any hour that differs, so a report is exact even when the store was written by an ingest that
stopped before its refresh, by an older ccstats, or by hand. A different fingerprint (genai-prices version,
LiteLLM config, classification or rollup SQL) rebuilds every hour.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import duckdb

from . import pricing
from .db import sql

STORED = "usage_rollup"
#: the relation :func:`current` builds on a connection when the stored rollup is stale
PATCHED = "_ccstats_rollup"
_DIRTY = "_ccstats_rollup_dirty"
_NOW = "_ccstats_rollup_now"
NULL_HOUR = -9223372036854775807  # hour_key of requests without a start time (rollup_hours.sql)
HOUR_MS = 3_600_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


#: report period keys of a start time ``{t}``: the weekly period (windows.weekly) and the calendar day (billing cube)
WEEK_KEY = (
    "case when $anchor_ms is not null then floor((epoch_ms({t}) - $anchor_ms) / 604800000.0)::bigint::varchar "
    "else date_trunc('week', timezone($tz, {t}))::varchar end"
)
DAY_KEY = "strftime(timezone($tz, {t}), '%Y-%m-%d')"


def split_hours(
    con: duckdb.DuckDBPyConnection, rollup: str, key: str, params: Mapping[str, object]
) -> tuple[str, dict[str, object]]:
    """The hours of ``rollup`` whose rows span two periods of ``key`` (WEEK_KEY or DAY_KEY, with ``params``):
    rollup_request_rows.sql with those hours formatted in, and its parameters (``raw_hours`` and one start-time
    range per hour, so DuckDB reads only their row groups). Registers the prices those rows need."""
    query = sql("rollup_straddles").format(
        rollup=rollup, key_first=key.format(t="min_at"), key_last=key.format(t="max_at")
    )
    hours = [int(r[0]) for r in con.execute(query, dict(params)).fetchall()]
    out: dict[str, object] = {"raw_hours": hours}
    ranges = []
    for i, hour in enumerate(hours):
        ranges.append(f"(r.started_at >= $raw_lo_{i} and r.started_at < $raw_hi_{i})")
        out[f"raw_lo_{i}"], out[f"raw_hi_{i}"] = _hour_start(hour), _hour_start(hour + 1)
    if not hours:  # the usual case: no request read one by one, and no prices to load
        return f"select * from {rollup} limit 0", out
    pricing.register_prices(con)
    return sql("rollup_request_rows").format(hour_ranges=" or ".join(ranges)), out


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the stored rows were computed with: the prices' source, the LiteLLM deployments that the billing
    classification reads, and the text of the classification and rollup SQL."""
    deployments = con.execute(
        "select coalesce(string_agg(concat_ws('|', model_name, any_api_key, all_api_key, any_cloud), ';' "
        "order by model_name), '') from deployment_keys"
    ).fetchall()[0][0]
    parts = [pricing.prices_source(), deployments, sql("views"), sql("rollup_rows"), sql("rollup_hours")]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def _stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute(f"select fingerprint from {STORED}_state").fetchall()
    return rows[0][0] if rows else None


def _find_dirty(con: duckdb.DuckDBPyConnection, rebuild: bool) -> int:
    """Fill temp tables with each hour's current (count, checksum) and the hours whose pair differs from the
    stored one (every hour when ``rebuild``). Returns the number of dirty hours."""
    con.execute(f"create or replace temp table {_NOW} as {sql('rollup_hours')}")
    if rebuild:
        con.execute(f"create or replace temp table {_DIRTY} as select hour_key from {_NOW}")
    else:
        con.execute(
            f"create or replace temp table {_DIRTY} as "
            f"select coalesce(n.hour_key, s.hour_key) as hour_key from {_NOW} n "
            f"full join {STORED}_hours s on s.hour_key = n.hour_key "
            "where n.requests is distinct from s.requests or n.checksum is distinct from s.checksum"
        )
    return int(con.execute(f"select count(*) from {_DIRTY}").fetchall()[0][0])


def _rows_queries(con: duckdb.DuckDBPyConnection, rebuild: bool) -> list[tuple[str, dict[str, object]]]:
    """rollup_rows.sql for the dirty hours, with its parameters: one query for the timed hours (bounded by their
    first and last start time, so DuckDB reads only those row groups) and one for requests without a start time
    when that hour is dirty. Separate queries: an OR of the two would make DuckDB read every row group."""
    if rebuild:
        return [(sql("rollup_rows").format(where="true"), {})]
    lo, hi, null_dirty = con.execute(
        f"select min(hour_key) filter (where hour_key <> {NULL_HOUR}), "
        f"max(hour_key) filter (where hour_key <> {NULL_HOUR}), "
        f"coalesce(bool_or(hour_key = {NULL_HOUR}), false) from {_DIRTY}"
    ).fetchall()[0]
    out: list[tuple[str, dict[str, object]]] = []
    if lo is not None:
        where = (
            "r.started_at >= $lo and r.started_at < $hi and "
            f"floor(epoch_ms(r.started_at) / 3600000)::bigint in (select hour_key from {_DIRTY})"
        )
        out.append(
            (sql("rollup_rows").format(where=where), {"lo": _hour_start(lo), "hi": _hour_start(hi + 1)})
        )
    if null_dirty:
        out.append((sql("rollup_rows").format(where="r.started_at is null"), {}))
    return out


def _hour_start(hour_key: int) -> datetime:
    return EPOCH + timedelta(milliseconds=hour_key * HOUR_MS)


def _drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    for name in (_NOW, _DIRTY):
        con.execute(f"drop table if exists {name}")


def refresh(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the stored rollup up to date, inside the caller's transaction: recompute the hours whose count or
    checksum changed (every hour when the fingerprint changed). Returns the number of hours recomputed."""
    pricing.register_prices(con)
    fp = fingerprint(con)
    rebuild = _stored_fingerprint(con) != fp
    try:
        if not _find_dirty(con, rebuild):
            return 0
        if rebuild:
            con.execute(f"delete from {STORED}")
            con.execute(f"delete from {STORED}_hours")
        else:
            con.execute(f"delete from {STORED} where hour_key in (select hour_key from {_DIRTY})")
            con.execute(f"delete from {STORED}_hours where hour_key in (select hour_key from {_DIRTY})")
        for query, params in _rows_queries(con, rebuild):
            con.execute(f"insert into {STORED} by name {query}", params)
        con.execute(
            f"insert into {STORED}_hours select hour_key, requests, checksum from {_NOW} "
            f"where hour_key in (select hour_key from {_DIRTY})"
        )
        n = int(con.execute(f"select count(*) from {_DIRTY}").fetchall()[0][0])
        con.execute(f"delete from {STORED}_state")
        con.execute(f"insert into {STORED}_state values (?)", [fp])
        return n
    finally:
        _drop_temps(con)


def stored_if_fingerprint_matches(con: duckdb.DuckDBPyConnection) -> str | None:
    """:data:`STORED` when it was computed with today's prices, configuration and SQL (its hours still to be
    checked with :func:`stale_hours`), else None (then :func:`current` rebuilds it)."""
    try:
        return STORED if _stored_fingerprint(con) == fingerprint(con) else None
    except duckdb.CatalogException:
        return None


def stale_hours(con: duckdb.DuckDBPyConnection) -> int:
    """How many hours of the stored rollup differ from ``request_log`` (0: it is exact), by the checksum scan of
    :func:`current`. For a caller that reads the stored rollup meanwhile on another connection."""
    try:
        return _find_dirty(con, False)
    finally:
        _drop_temps(con)


def current(con: duckdb.DuckDBPyConnection) -> str | None:
    """The name of a relation holding the rollup of ``request_log`` as it is now (read-only connections too):
    the stored table when every hour's checksum matches, else a temp table with the changed hours recomputed.
    None for a store without the rollup tables (written by an older ccstats and opened read-only)."""
    try:
        stored_fp = _stored_fingerprint(con)
    except duckdb.CatalogException:
        return None
    rebuild = stored_fp != fingerprint(con)
    try:
        if not _find_dirty(con, rebuild):
            return STORED
        pricing.register_prices(con)  # only now: loading the prices costs a pyarrow import
        keep = (
            "" if rebuild else f"select * from {STORED} where hour_key not in (select hour_key from {_DIRTY})"
        )
        con.execute(f"create or replace temp table {PATCHED} as {keep or f'select * from {STORED} limit 0'}")
        for query, params in _rows_queries(con, rebuild):
            con.execute(f"insert into {PATCHED} by name {query}", params)
        return PATCHED
    finally:
        _drop_temps(con)
