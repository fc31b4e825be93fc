"""Fallback events and retries, from the documented ``fallback_events`` view (analyzer/sql/views_fallbacks.sql).

Kinds: ``litellm_router``, ``litellm_cooldown``, ``cc_model_switch``, ``cc_overload_chain`` (the view's header
defines each precisely). Retries on one model group are not fallbacks; :func:`retries` lists them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from .db import sql

KINDS = ("litellm_router", "litellm_cooldown", "cc_model_switch", "cc_overload_chain")


def _params(since: datetime | None, until: datetime | None) -> dict[str, Any]:
    return {"since": since, "until": until}


def frame(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run ``analyzer/sql/<name>.sql`` with bind parameters and return a polars DataFrame."""
    out = pl.from_arrow(con.sql(sql(name), params=params or {}).to_arrow_table())
    assert isinstance(out, pl.DataFrame)
    return out


def fallback_events(
    con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, until: datetime | None = None
) -> pl.DataFrame:
    """One row per request that fell back, started in [since, until), oldest first.

    Columns: request_id, at, kind, from_model, to_model, trigger, evidence, key_hash, user_id, session_id, status.
    """
    return frame(con, "fallbacks_select", _params(since, until))


def fallback_summary(
    con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, until: datetime | None = None
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
    return frame(con, "fallbacks_retries", _params(since, until))
