"""Fallback events and retries, from the documented ``fallback_events`` view (analyzer/sql/views_fallbacks.sql).

Kinds: ``litellm_router``, ``litellm_cooldown``, ``cc_model_switch``, ``cc_overload_chain`` (the view's header
defines each precisely). Retries on one model group are not fallbacks; :func:`retries` lists them.

The per-request work behind the view is done at ingest: :func:`refresh_fallback_events` (run by
``analyzer.ingest.after_ingest``) recomputes the stored events of the requests, call ids and sessions that changed
since the last refresh, so a report reads a few thousand stored rows instead of running window functions over every
request. This module is imported on the ingest path: polars is imported only by the functions returning frames.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from .db import frame, frame_of, sql

if TYPE_CHECKING:
    import polars as pl

_REFRESH_STEPS = (
    "fallbacks_scope",
    "fallbacks_refresh_litellm",
    "fallbacks_refresh_cc",
    "fallbacks_refresh_failures",
)
_SCOPE_TABLES = (
    "_fb_new_cb",
    "_fb_orphans",
    "_fb_req_scope",
    "_fb_calls",
    "_fb_hop_calls",
    "_fb_sessions",
    "_fb_flagged",
    "_fb_sess_scope",
)

KINDS = ("litellm_router", "litellm_cooldown", "cc_model_switch", "cc_overload_chain")


#: How far before a request its callback hops may be logged as starting. A hop starts after its call; a day covers
#: any clock or time-zone skew between two logs. Lookups of a request's hops read callback_events only from that
#: far before the request on, so DuckDB skips older row groups (a filter on random call ids lets it skip none).
HOP_SKEW = "interval 1 day"


def hops_since(param: str) -> str:
    """SQL condition on callback_events.started_at for hops of requests started at or after ``$param``."""
    return f"started_at >= ${param} - {HOP_SKEW}"


def _params(since: datetime | None, until: datetime | None) -> dict[str, Any]:
    return {"since": since, "until": until}


def fallback_events(
    con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, until: datetime | None = None
) -> pl.DataFrame:
    """One row per request that fell back, started in [since, until), oldest first.

    Columns: request_id, at, kind, from_model, to_model, trigger, evidence, key_hash, user_id, session_id, status.
    """
    return frame(con, "fallbacks_select", _params(since, until))


def recent_fallback_events(
    con: duckdb.DuckDBPyConnection,
    *,
    n: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pl.DataFrame:
    """The last ``n`` rows of :func:`fallback_events` (same columns, oldest first); :func:`fallback_summary`
    counts all of them."""
    return frame(con, "fallbacks_recent", {**_params(since, until), "n": n})


def fallback_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pl.DataFrame:
    """Fallback events counted by kind and from_model -> to_model.

    Columns: kind, from_model, to_model, events, rescued (final status success), first_at, last_at, top_trigger.
    """
    return frame(con, "fallbacks_summary", _params(since, until))


def retries(
    con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, until: datetime | None = None
) -> pl.DataFrame:
    """Requests retried on the same model group (attempted_retries > 0, or callback hops repeating a group).

    Columns: request_id, at, model_requested, model_group, status, attempted_retries, max_retries, hops,
    failed_hops, hop_models, failed_hop_errors, evidence, key_hash, key_alias, user_id, session_id.
    """
    hop_since = "true" if since is None else hops_since("since")
    return frame_of(con, sql("fallbacks_retries").format(hop_since=hop_since), _params(since, until))


def recent_retries(
    con: duckdb.DuckDBPyConnection,
    *,
    n: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[pl.DataFrame, int]:
    """The last ``n`` rows of :func:`retries` (same columns, oldest first) and how many there are in all. Only
    the requests from the ``n``-th most recent on are read (ties at that time included, then cut to ``n``)."""
    total, from_at = con.execute(
        sql("fallbacks_retries_cutoff"), {**_params(since, until), "n": n}
    ).fetchall()[0]
    if not total:
        return retries(con, since=since, until=until).head(0), 0
    start = from_at if since is None or from_at > since else since
    df = retries(con, since=start, until=until)
    return df.tail(n), int(total)


def _ingest_state(con: duckdb.DuckDBPyConnection) -> tuple[datetime | None, int]:
    """The latest ingested_at of request_log and callback_events, and the number of requests."""
    new_wm, n_req = con.execute(
        "select greatest((select max(ingested_at) from request_log), (select max(ingested_at) from callback_events)),"
        " (select count(*) from request_log)"
    ).fetchall()[0]
    return new_wm, int(n_req)


def _up_to_date(wm: datetime | None, seen: int | None, new_wm: datetime | None, n_req: int) -> bool:
    """Nothing ingested after the watermark ``wm`` and the request count unchanged (nothing deleted)."""
    return wm is not None and (new_wm is None or new_wm <= wm) and n_req == seen


def refreshed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stored events and failed rows are up to date: no row ingested and none deleted since the last
    :func:`refresh_fallback_events` (false after an ingest that stopped before its refresh)."""
    state = con.execute("select watermark, requests from fallback_refresh_state").fetchall()
    if not state:
        return False
    wm, seen = state[0]
    return _up_to_date(wm, seen, *_ingest_state(con))


def refresh_fallback_events(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, int]:
    """Bring the stored fallback events (behind the ``fallback_events`` view) and failed rows (``failed_requests``,
    ``failed_callbacks``, read by the failure checks) up to date; needs a writable
    connection. Incremental by default: only requests ingested since the last refresh (``ingested_at`` after the
    stored watermark), the call ids they or new callback events belong to, and the sessions of all of those are
    recomputed; stored events whose request is gone are dropped (looked for only when rows were deleted). Returns
    at once when nothing was ingested. ``full=True`` (or no watermark yet) recomputes everything. One transaction.

    Returns counts: requests (LiteLLM kinds recomputed for), sessions (Claude Code kinds recomputed for), and
    litellm_events / cc_events (stored rows after the refresh; -1 when nothing was done).
    """
    state = con.execute("select watermark, requests from fallback_refresh_state").fetchall()
    wm, seen = state[0] if state and not full else (None, None)
    new_wm, n_req = _ingest_state(con)
    if _up_to_date(wm, seen, new_wm, n_req):
        return {"requests": 0, "sessions": 0, "litellm_events": -1, "cc_events": -1}
    params: dict[str, Any] = {"wm": wm if wm is not None else datetime.min.replace(tzinfo=UTC)}
    if wm is not None:
        fresh = con.execute("select count(*) from request_log where ingested_at > $wm", params).fetchall()[0][
            0
        ]
        params["orphans"] = n_req < seen + fresh  # some stored requests were deleted (or replaced)
    else:
        params["orphans"] = (
            False  # everything stored is deleted below, so no stored row can have lost its request
        )
    con.execute("begin transaction")
    try:
        if wm is None:
            con.execute("delete from fallback_litellm_events")
            con.execute("delete from fallback_cc_events")
            con.execute("delete from failed_requests")
            con.execute("delete from failed_callbacks")
        for step in _REFRESH_STEPS:
            for statement in con.extract_statements(sql(step)):
                con.execute(statement, {k: params[k] for k in statement.named_parameters})
        counts = con.execute(
            "select (select count(*) from _fb_req_scope), (select count(*) from _fb_sessions), "
            "(select count(*) from fallback_litellm_events), (select count(*) from fallback_cc_events)"
        ).fetchall()[0]
        con.execute("delete from fallback_refresh_state")
        con.execute("insert into fallback_refresh_state values (?, ?, now(), ?)", [new_wm, n_req, wm is None])
        for name in _SCOPE_TABLES:
            con.execute(f"drop table if exists temp.{name}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return dict(zip(("requests", "sessions", "litellm_events", "cc_events"), counts, strict=True))
