"""Everything the HTML report (and a notebook) draws, gathered from the library as polars DataFrames.

Windows, weekly usage, billing, fallbacks and checks come from their modules; models per day, errors, latency
and the top tables are small aggregations of the documented ``requests`` view (analyzer/sql/report_*.sql).
Everything here is aggregated: no frame holds one row per request, so a report stays small. Timestamps stay UTC
except the ``bucket``/``day`` columns of the per-period frames, which are wall times in the report's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import duckdb
import polars as pl

from . import billing, checks, fallbacks, rollup, windows
from .db import frame
from .errors import UserError

Bucket = Literal["hour", "day"]
TOP_DIMENSIONS = ("key", "user", "session")
#: ranges up to this long are bucketed by hour, longer ones by day
HOURLY_UP_TO = timedelta(days=3)


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _range(since: datetime | str | None, until: datetime | str | None) -> dict[str, Any]:
    return {"since": _utc(since), "until": _utc(until)}


def check_tz(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Raise UserError for a time zone DuckDB does not know."""
    try:
        con.execute("select timezone(?, timestamptz '2000-01-01 00:00:00+00')", [tz]).fetchall()
    except duckdb.Error as exc:
        raise UserError(f"unknown time zone {tz!r}") from exc


def report_meta(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
) -> dict[str, Any]:
    """Header facts: requests (in range), first_at, last_at, stored_requests, callback_events, proxy_events,
    quarantined, sources (count) and source_list (path, format, rows_added, duplicates, quarantined, last_ingest)."""
    meta = frame(con, "report_meta", _range(since, until)).row(0, named=True)
    meta["source_list"] = frame(con, "report_sources", {}).to_dicts()
    return meta


def pick_bucket(first: datetime | None, last: datetime | None) -> Bucket:
    """'hour' for ranges up to :data:`HOURLY_UP_TO`, else 'day'."""
    if first is None or last is None or last - first <= HOURLY_UP_TO:
        return "hour"
    return "day"


def models_daily(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    tz: str = "UTC",
) -> pl.DataFrame:
    """Requests, tokens and logged spend per calendar day (in ``tz``) and served model.

    Columns: day (date in tz), model, requests, successes, input_tokens, output_tokens, cache_creation_tokens,
    cache_read_tokens, total_tokens, spend_usd (LiteLLM logged, API list price)."""
    return frame(con, "report_models_daily", {**_range(since, until), "tz": tz})


def errors_over_time(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    tz: str = "UTC",
    bucket: Bucket = "hour",
) -> pl.DataFrame:
    """Failed requests per bucket (wall time in ``tz``) and category: 'rate limit (429)', 'overloaded (529)',
    'auth failure (401/403)', 'other error'. Columns: bucket, category, failures, models, model_list."""
    return frame(con, "report_errors", {**_range(since, until), "tz": tz, "bucket": bucket})


def latency(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    tz: str = "UTC",
    bucket: Bucket = "hour",
) -> pl.DataFrame:
    """duration_ms percentiles of successful requests per bucket (wall time in ``tz``) and served model.
    Columns: bucket, model, requests, p50_ms, p90_ms, p99_ms, max_ms."""
    return frame(con, "report_latency", {**_range(since, until), "tz": tz, "bucket": bucket})


def top(
    con: duckdb.DuckDBPyConnection,
    dim: str,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    n: int = 20,
) -> pl.DataFrame:
    """The ``n`` keys / users / sessions (``dim``) with the most requests.

    Columns: name, requests, failures, total_tokens, spend_usd, billing_routes, models, first_at, last_at."""
    if dim not in TOP_DIMENSIONS:
        raise UserError(f"top by {dim!r}: choose one of {', '.join(TOP_DIMENSIONS)}")
    return frame(con, "report_top", {**_range(since, until), "dim": dim, "n": n})


def top_tags(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    n: int = 20,
) -> pl.DataFrame:
    """The ``n`` request tags with the most requests.
    Columns: name, requests, failures, total_tokens, spend_usd, first_at, last_at."""
    return frame(con, "report_top_tags", {**_range(since, until), "n": n})


def billing_totals(day: pl.DataFrame) -> pl.DataFrame:
    """Totals per billing_route of a :func:`analyzer.billing.billing_summary` frame (any ``by``).

    Columns: billing_route, requests, successes, failures, total_tokens, spend_usd, api_billed_spend_usd,
    subscription_value_usd, unknown_requests, low_confidence_requests, top_reasons (of the largest group)."""
    if not day.height:
        return pl.DataFrame(
            schema={
                "billing_route": pl.String,
                "requests": pl.Int64,
                "successes": pl.Int64,
                "failures": pl.Int64,
                "total_tokens": pl.Int64,
                "spend_usd": pl.Float64,
                "api_billed_spend_usd": pl.Float64,
                "subscription_value_usd": pl.Float64,
                "unknown_requests": pl.Int64,
                "low_confidence_requests": pl.Int64,
                "top_reasons": pl.String,
            }
        )
    sums = [
        "requests",
        "successes",
        "failures",
        "total_tokens",
        "spend_usd",
        "api_billed_spend_usd",
        "subscription_value_usd",
        "unknown_requests",
        "low_confidence_requests",
    ]
    return (
        day.sort("requests", descending=True)
        .group_by("billing_route", maintain_order=True)
        .agg([pl.col(c).sum() for c in sums] + [pl.col("top_reasons").first()])
        .sort("requests", "billing_route", descending=[True, False])
    )


@dataclass
class ReportData:
    """All frames of one report. ``tz`` is the display zone, ``bucket`` the errors/latency granularity."""

    tz: str
    bucket: Bucket
    generated_at: datetime
    since: datetime | None
    until: datetime | None
    by: str | None
    plan: str | int
    meta: dict[str, Any]
    checks: list[dict[str, Any]]
    windows: pl.DataFrame
    active: dict[str, Any] | None
    weekly: pl.DataFrame
    billing_day: pl.DataFrame
    billing_totals: pl.DataFrame
    fallback_events: pl.DataFrame
    fallback_summary: pl.DataFrame
    retries: int
    models_daily: pl.DataFrame
    errors: pl.DataFrame
    latency: pl.DataFrame
    top: dict[str, pl.DataFrame] = field(default_factory=dict)


def gather(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    tz: str = "UTC",
    by: str | None = None,
    plan: str | int = "p90",
    now: datetime | None = None,
    top_n: int = 20,
) -> ReportData:
    """Every frame of the report, for requests in [since, until). ``now`` fixes 'generated at', the active
    window and the P90 history (default: the current time)."""
    check_tz(con, tz)
    lo, hi = _utc(since), _utc(until)
    when = _utc(now) or datetime.now(UTC)
    meta = report_meta(con, since=lo, until=hi)
    bucket = pick_bucket(meta["first_at"], meta["last_at"])
    rng: dict[str, Any] = {"since": lo, "until": hi}
    roll = rollup.current(con)  # the hourly rollup, checked against request_log
    win = windows.windows(con, by=by, since=lo, until=hi, plan=plan, now=when, rollup=roll)
    reuse = by is None and lo is None and hi is None
    active = (
        windows.active_window(con, now=when, plan=plan, frame=win if reuse else None) if by is None else None
    )
    cube = billing.billing_cube(con, since=lo, until=hi, tz=tz, rollup=roll)  # classify every request once
    day = billing.billing_summary(con, by="day", since=lo, until=hi, tz=tz, cube=cube)
    tops = {dim: top(con, dim, n=top_n, **rng) for dim in TOP_DIMENSIONS}
    tops["tag"] = top_tags(con, n=top_n, **rng)
    return ReportData(
        tz=tz,
        bucket=bucket,
        generated_at=when,
        since=lo,
        until=hi,
        by=by,
        plan=plan,
        meta=meta,
        checks=checks.check(con, cube if lo is None and hi is None else None),
        windows=win,
        active=active,
        weekly=windows.weekly(con, since=lo, until=hi, tz=tz, now=when, rollup=roll),
        billing_day=day,
        billing_totals=billing_totals(day),
        fallback_events=fallbacks.fallback_events(con, **rng),
        fallback_summary=fallbacks.fallback_summary(con, **rng),
        retries=fallbacks.retries(con, **rng).height,
        models_daily=models_daily(con, tz=tz, **rng),
        errors=errors_over_time(con, tz=tz, bucket=bucket, **rng),
        latency=latency(con, tz=tz, bucket=bucket, **rng),
        top=tops,
    )
