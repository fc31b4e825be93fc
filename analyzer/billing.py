"""Who paid: per-request billing routes, totals per day / 5-hour window / key / user / model, and API leaks.

The route of each request comes from the documented ``requests`` view (billing_route, billing_evidence,
billing_confidence; billing-and-fallbacks.md section 7). LiteLLM's ``spend`` is an API-list-price figure for every
request, so the totals split it: ``api_billed_spend_usd`` is what pay-per-use accounts (api, cloud,
subscription_overage) were billed, ``subscription_value_usd`` is the API-price value the subscription covered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import duckdb
import polars as pl

from .db import frame, frame_of, register_frame, sql
from .errors import UserError

By = Literal["day", "window", "key", "user", "model"]
BY_VALUES: tuple[str, ...] = ("day", "window", "key", "user", "model")
PAY_PER_USE_ROUTES = ("api", "cloud", "subscription_overage")


def _params(since: datetime | None, until: datetime | None) -> dict[str, Any]:
    return {"since": since, "until": until}


def billing_requests(
    con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, until: datetime | None = None
) -> pl.DataFrame:
    """One row per request started in [since, until): route, evidence, confidence, tokens, spend.

    Columns: request_id, started_at, status, route, model_requested, model_group, key_hash, key_alias, user_id,
    session_id, billing_route, billing_evidence, billing_confidence, pay_per_use, used_client_oauth_token,
    input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, spend_usd.
    """
    return frame(con, "billing_requests", _params(since, until))


def _window_frame(
    con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None
) -> pl.DataFrame:
    try:
        from .windows import windows  # type: ignore[attr-defined]
    except ImportError as exc:
        raise UserError("billing by 5-hour window needs analyzer.windows, which this build lacks") from exc
    w = windows(con)
    if not isinstance(w, pl.DataFrame) or not {"window_start", "window_end"} <= set(w.columns):
        raise UserError("analyzer.windows.windows() did not return window_start/window_end")
    w = w.select("window_start", "window_end")
    register_frame(con, "billing_windows", w)
    try:
        out = _summary(con, "billing_rows_window", _params(since, until))
    finally:
        con.unregister("billing_windows")
    return out.rename({"grp": "window_start", "grp_end": "window_end"})


def _summary(con: duckdb.DuckDBPyConnection, rows: str, params: dict[str, Any]) -> pl.DataFrame:
    """billing_summary.sql over the grouped request rows of ``analyzer/sql/<rows>.sql``."""
    text = sql("billing_summary").format(rows=sql(rows))
    return frame_of(con, text, params)


def billing_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    by: By = "day",
    since: datetime | None = None,
    until: datetime | None = None,
    tz: str = "UTC",
    cube: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Totals per group and billing_route, for requests started in [since, until).

    The first column is named after ``by``: ``day`` (a date in zone ``tz``), ``key`` ("alias (hash prefix)"),
    ``user``, ``model`` (served group); ``window`` gives ``window_start``/``window_end`` (from analyzer.windows).
    Then: billing_route, requests, successes, failures, input_tokens, output_tokens, cache_creation_tokens,
    cache_read_tokens, total_tokens, spend_usd (LiteLLM logged, API list price), api_billed_spend_usd,
    subscription_value_usd, unknown_requests, low_confidence_requests, top_reasons (the three commonest
    billing_evidence texts with counts). ``cube``: a :func:`billing_cube` of the same range and zone, used for
    ``by`` day and key instead of classifying the requests again.
    """
    if by not in BY_VALUES:
        raise UserError(f"billing by {by!r}: choose one of {', '.join(BY_VALUES)}")
    if cube is not None and by in ("day", "key"):
        out = _from_cube(con, cube, "billing_summary_cube", {"by": by}).rename({"grp": by})
        return out.with_columns(pl.col("day").str.to_date("%Y-%m-%d")) if by == "day" else out
    if by == "window":
        return _window_frame(con, since, until)
    if by == "day":
        _check_tz(con, tz)
    params = {**_params(since, until), "by": by, "tz": tz}
    out = _summary(con, "billing_rows_by", params).drop("grp_end").rename({"grp": by})
    if by == "day":
        out = out.with_columns(pl.col("day").str.to_date("%Y-%m-%d"))
    return out


def _check_tz(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    try:
        con.execute("select timezone(?, timestamptz '2000-01-01 00:00:00+00')", [tz]).fetchall()
    except duckdb.Error as exc:
        raise UserError(f"unknown time zone {tz!r}") from exc


def api_leaks(
    con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, until: datetime | None = None
) -> pl.DataFrame:
    """Every request billed to a pay-per-use account (billing_route api, subscription_overage or cloud).

    Columns: started_at, request_id, key_alias, key_hash, user_id, session_id, route, model_requested, model_group,
    provider, status, billing_route, billing_evidence, billing_confidence, total_tokens, spend_usd.
    """
    return frame(con, "billing_leaks", _params(since, until))


#: the query that lists every pay-per-use request (what the bounded forms below summarise)
API_LEAKS_QUERY = "select * from requests where billing_route in ('api', 'cloud', 'subscription_overage')"
CUBE_RELATION = "_ccstats_billing_cube"


def billing_cube(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: str = "UTC",
    rollup: str | None = None,
) -> pl.DataFrame:
    """One pass of the billing classification over the requests started in [since, until): counts and sums per
    day (in ``tz``, 'YYYY-MM-DD'), key_alias, key_hash, billing_route, billing_evidence, billing_confidence and
    status (columns requests, the token sums, total_tokens, spend_usd, first_at, last_at). The ``cube=`` argument
    of :func:`billing_summary`, :func:`api_leaks_by_key_day`, :func:`recent_api_leaks` and
    ``analyzer.checks.check`` takes it, so a report classifies every request once. ``rollup``: a relation from
    :func:`analyzer.rollup.current`, summed instead of the requests when there is no range (the same result; an
    hour that spans two days in ``tz`` is placed request by request)."""
    _check_tz(con, tz)
    if rollup is not None and since is None and until is None:
        from . import rollup as rollups

        raw, split = rollups.split_hours(con, rollup, rollups.DAY_KEY, {"tz": tz})
        query = sql("billing_cube_rollup").format(rollup=rollup, raw=raw)
        return frame_of(con, query, {"tz": tz, **split})
    return frame(con, "billing_cube", {**_params(since, until), "tz": tz})


def _from_cube(
    con: duckdb.DuckDBPyConnection, cube: pl.DataFrame, name: str, params: dict[str, Any]
) -> pl.DataFrame:
    register_frame(con, CUBE_RELATION, cube)
    try:
        return frame(con, name, params)
    finally:
        con.unregister(CUBE_RELATION)


def api_leaks_by_key_day(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: str = "UTC",
    cube: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Requests billed to a pay-per-use account, per calendar day (in ``tz``), key and route: the bounded form of
    :func:`api_leaks`. Columns: day, key_alias, key_hash, billing_route, requests, successes, total_tokens,
    spend_usd, first_at, last_at, top_evidence. ``cube``: a :func:`billing_cube` of the same range and zone."""
    if cube is None:
        cube = billing_cube(con, since=since, until=until, tz=tz)
    return _from_cube(con, cube, "billing_leaks_by_key_day", {})


def recent_api_leaks(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    n: int = 100,
    cube: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The ``n`` most recent requests of :func:`api_leaks` (same columns), oldest first. With a :func:`billing_cube`
    of the same range, only the latest days holding ``n`` of them are read."""
    start = None
    if cube is not None and cube.height:
        days = (
            cube.filter(pl.col("billing_route").is_in(PAY_PER_USE_ROUTES))
            .group_by("day")
            .agg(pl.col("requests").sum(), pl.col("first_at").min())
            .sort("day", descending=True)
        )
        enough = days.filter(pl.col("requests").cum_sum() >= n)
        if enough.height:
            start = enough["first_at"][0]
    return frame(con, "billing_leaks_recent", {**_params(since, until), "n": n, "from": start})
