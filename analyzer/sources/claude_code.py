"""Claude Code's own transcripts as a second source, so windows count traffic that bypassed LiteLLM too.

Claude Code writes one JSONL file per session under ``<config>/projects/<project>/<session>.jsonl``; every
assistant line carries the Anthropic message id, the request id and the usage of that response. Those files go
through the same chunked ingest as LiteLLM logs (kind ``transcript``, normaliser
``analyzer/sql/normalize_transcript.sql``) into ``transcript_entries``, de-duplicated as ccusage 20.0.24 does:

* key = (message id, request id) -- across sessions and projects (a resumed session repeats earlier lines);
* of several copies the one with the most tokens (input + output + cache creation + cache read) wins, with its
  timestamp; on equal tokens the copy first in (file path, line) order, as ccusage's sorted file walk does;
* lines without the exact bytes ``"usage":{`` are skipped (plus the null/version/empty-id rules, see the SQL).

``merge_transcripts.sql`` then (once per file, or once per ingest run: the chunks only record their keys in
``pending_transcripts``) makes each response one ``request_log`` row: a LiteLLM row it matches (message
id = LiteLLM request_id, or same session + time + tokens) gets ``seen_in_transcript = true``; an unmatched
entry becomes an ``origin = 'claude_code'`` row (route ``direct``, provider ``anthropic``, billing unknown) with
``seen_in_litellm = false``. A LiteLLM row that arrives later replaces it. API error lines become failure rows;
"Claude AI usage limit reached|<epoch>" gives ``rl_5h_reset`` (the official reset, shown by
:func:`analyzer.windows.active_window`) and ``transcript_entries.limit_reset_at``.

Light to import (ingest path): polars is imported only by :func:`source_split`.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ..db import sql, to_frame

if TYPE_CHECKING:
    import polars as pl

#: source categories of :func:`source_split`
SOURCES = ("litellm_only", "both", "direct_only")


def claude_code_dirs(explicit: str | None) -> list[Path]:
    """Claude Code config folders to read: ``explicit`` if given; else ``$CLAUDE_CONFIG_DIR`` (comma-separated
    list allowed, as ccusage); else those of ``~/.config/claude`` and ``~/.claude`` that exist (both may)."""
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    if env:
        return [Path(p.strip()).expanduser() for p in env.split(",") if p.strip()]
    home = Path.home()
    return [p for p in (home / ".config" / "claude", home / ".claude") if p.is_dir()]


def claude_code_paths(explicit: str | None) -> list[str]:
    """The ``projects`` folders to ingest for ``--claude-code [DIR]``: ``<dir>/projects`` when it exists, else
    ``<dir>`` itself when it was named explicitly (a projects folder, or one project)."""
    out: list[str] = []
    for d in claude_code_dirs(explicit):
        if (d / "projects").is_dir():
            out.append(str(d / "projects"))
        elif explicit:
            out.append(str(d))
    return out


# ---------------------------------------------------------------------------------------- ingest hooks


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    return int(con.execute(query).fetchall()[0][0])  # type: ignore[index]


def _unordered_count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """:func:`_count` of an insert whose row order means nothing (every reader of the table orders its rows):
    without keeping the order DuckDB inserts on all its threads (0.43 s down to 0.34 s for 330k entries)."""
    keep = con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("set preserve_insertion_order = false")
    try:
        return _count(con, query)
    finally:
        con.execute(f"set preserve_insertion_order = {bool(keep)}")


def store_transcript_batch(con: duckdb.DuckDBPyConnection, fresh: bool | None = None) -> int:
    """Upsert the good rows of the temp table ``norm`` (normalize_transcript output) into transcript_entries and
    record their (session, message id) keys in ``pending_transcripts``; the merge into request_log runs later
    (:func:`merge_pending_transcripts`). Returns the number of new entries. Runs in the caller's transaction.
    ``fresh``: whether no key of the batch is stored yet, when the caller knows (else it is looked up).

    When nothing could match or displace the batch's entries (:func:`_direct_ok`, e.g. every cold ingest of
    transcripts alone), their request_log rows are written here instead, as the merge would write them."""
    good = "select * exclude (line_no, _reason, _excerpt) from norm where _reason is null"
    best = good
    if _count(con, "select count(*) - count(distinct entry_key) from norm where _reason is null"):
        # Copies of one response in the batch (a resumed session repeats lines): the best copy of each such key.
        # Ranking only those keys' rows: a window over the whole batch took 3x the insert.
        con.execute(
            "create or replace temp table _cc_copies as select entry_key from norm where _reason is null "
            "group by entry_key having count(*) > 1"
        )
        best = (
            f"{good} and entry_key not in (select entry_key from _cc_copies) union all by name "
            f"({good} and entry_key in (select entry_key from _cc_copies) qualify row_number() over "
            "(partition by entry_key order by total_tokens desc, source_path, source_line) = 1)"
        )
    if fresh is None:
        fresh = not _count(
            con,
            "select count(*) from transcript_entries "
            "where entry_key in (select entry_key from norm where _reason is null)",
        )
    con.execute(f"create or replace temp view _cc_new as {best}")  # a view: norm stays as it is
    if fresh:
        # No copy stored yet (the common case, and every cold ingest): a plain insert, several times cheaper than
        # the upsert below. DuckDB answers an insert with the number of rows it inserted.
        direct = _direct_ok(con)
        added = _unordered_count(
            con, "insert into transcript_entries by name select * exclude (entry_key) from _cc_new"
        )
        if direct:
            shared = _count(con, "select count(message_id) - count(distinct message_id) from _cc_new")
            con.execute(_direct_rows_sql(shared_ids=bool(shared)))
            return added
    else:
        # Some keys are stored (m011 dropped the table's key, so no ON CONFLICT): a stored copy that loses to the
        # batch's is deleted, then the batch's copies of keys no longer stored are inserted.
        added = _count(
            con,
            "select count(*) from _cc_new where entry_key not in (select entry_key from transcript_entries)",
        )
        con.execute(
            "delete from transcript_entries t using _cc_new n where t.entry_key = n.entry_key "
            "and (n.total_tokens > t.total_tokens or (n.total_tokens = t.total_tokens "
            "and (n.source_path, n.source_line) < (t.source_path, t.source_line)))"
        )
        con.execute(
            "insert into transcript_entries by name select * exclude (entry_key) from _cc_new "
            "where entry_key not in (select entry_key from transcript_entries)"
        )
    con.execute(
        "insert into pending_transcripts select distinct session_id, message_id from norm "
        "where _reason is null and (session_id is not null or message_id is not null)"
    )
    return added


def _direct_ok(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the merge would turn the new entries of ``_cc_new`` (keys not stored yet; called before they are
    inserted) into transcript-only rows exactly as they are, so they can be written now without it: no LiteLLM
    request is stored or waiting in pending_call_merges (nothing to match), no stored entry shares a message id
    (which decides which entry's row takes the message id), no stored request has an entry key of the batch as its
    id, and no message id has the form of an entry key (only crafted input)."""
    return bool(
        con.execute(
            "select not exists (select 1 from request_log where origin <> 'claude_code') "
            "and not exists (select 1 from pending_call_merges) "
            "and not exists (select 1 from _cc_new where contains(message_id, chr(31)) "
            "    or starts_with(message_id, 'uuid:') or starts_with(message_id, 'line:')) "
            "and not exists (select 1 from transcript_entries where message_id in "
            "    (select message_id from _cc_new where message_id is not null)) "
            "and not exists (select 1 from request_log where request_id in "
            "    (select entry_key from _cc_new where message_id is null))"
        ).fetchall()[0][0]
    )


@functools.cache
def _direct_rows_sql(*, shared_ids: bool) -> str:
    """The request_log rows of the entries in ``_cc_new`` (see :func:`_direct_ok`), as merge_transcripts.sql
    writes transcript-only rows: the first entry key of a message id keeps the message id as request_id.
    ``shared_ids``: whether some message id has more than one entry in ``_cc_new``; when none has, every entry
    is its message id's first and the lookup is an empty relation (0.6 s instead of 0.7 s for 330k entries)."""
    first_keys = (
        "(select message_id, min(entry_key) as first_key from _cc_new where message_id is not null "
        "group by message_id)"
        if shared_ids
        else "(select null::varchar as message_id, null::varchar as first_key where false)"
    )
    return (
        "insert into request_log by name select * exclude (_entry_key) from ("
        + sql("transcript_request_rows")
        + f" from _cc_new e left join {first_keys} f on f.message_id = e.message_id)"
    )


@functools.cache
def _merge_sql() -> str:
    return sql("merge_transcripts").replace("{transcript_request_rows}", sql("transcript_request_rows"))


def drop_direct_rows(con: duckdb.DuckDBPyConnection, id_column: str) -> None:
    """Before LiteLLM rows (temp table ``norm``, ids in ``id_column``) are stored: remove the transcript-only rows
    with the same request id, which those rows replace (the merge after the insert sets the flags)."""
    if id_column not in ("request_id", "event_id"):
        raise ValueError(f"unexpected id column {id_column!r}")
    con.execute(
        "delete from request_log where origin = 'claude_code' and request_id in "
        f"(select {id_column} from norm where _reason is null)"
    )


def has_transcripts(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select 1 from transcript_entries limit 1").fetchall())


def merge_after_litellm(con: duckdb.DuckDBPyConnection, id_column: str) -> None:
    """After LiteLLM rows (temp table ``norm``) are stored: record their sessions and ids in
    ``pending_transcripts``, so the transcript entries there are re-matched. Nothing to do (and no cost) while no
    transcript was ever ingested."""
    if id_column not in ("request_id", "event_id"):
        raise ValueError(f"unexpected id column {id_column!r}")
    if not has_transcripts(con):
        return
    con.execute(
        "insert into pending_transcripts "
        f"select distinct nullif(session_id, '') as session_id, {id_column} as message_id from norm "
        f"where _reason is null and (nullif(session_id, '') is not null or {id_column} is not null)"
    )


#: sessions matched per transaction (a session's entries and LiteLLM rows are matched together)
MERGE_BATCH_SESSIONS = 2_000
#: pending ids without a session (LiteLLM rows without x-claude-code-session-id) matched per transaction
MERGE_BATCH_IDS = 50_000


def merge_pending_transcripts(
    con: duckdb.DuckDBPyConnection, sessions: int | None = None, ids: int | None = None
) -> bool:
    """Run ``merge_transcripts.sql`` for one batch of ``pending_transcripts``: the keys of at most ``sessions``
    sessions, else (no session left) at most ``ids`` keys without a session. Inside the caller's transaction.
    Returns whether there was anything to merge."""
    sessions = MERGE_BATCH_SESSIONS if sessions is None else sessions
    ids = MERGE_BATCH_IDS if ids is None else ids
    con.execute(
        "create or replace temp table _cc_batch as select distinct session_id from pending_transcripts "
        f"where session_id is not null order by session_id limit {int(sessions)}"
    )
    if _count(con, "select count(*) from _cc_batch"):
        con.execute(
            "create or replace temp table _cc_affected as select distinct session_id, message_id "
            "from pending_transcripts where session_id in (select session_id from _cc_batch)"
        )
        done = "session_id in (select session_id from _cc_batch)"
    else:
        con.execute(
            "create or replace temp table _cc_affected as select distinct session_id, message_id "
            "from pending_transcripts where session_id is null and message_id is not null "
            f"order by message_id limit {int(ids)}"
        )
        if not _count(con, "select count(*) from _cc_affected"):
            con.execute("delete from pending_transcripts")  # only rows without any key (none are recorded)
            return False
        done = "session_id is null and message_id in (select message_id from _cc_affected)"
    con.execute(_merge_sql())
    con.execute(f"delete from pending_transcripts where {done}")
    return True


# ---------------------------------------------------------------------------------------- analysis


def limit_resets(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """ "Usage limit reached" messages Claude Code logged, oldest first: dicts with logged_at, reset_at (the
    official reset Anthropic announced, UTC), session_id, project."""
    rows = con.execute(
        "select started_at, limit_reset_at, session_id, project from transcript_entries "
        "where limit_reset_at is not null order by started_at, entry_key"
    ).fetchall()
    return [{"logged_at": _utc(a), "reset_at": _utc(b), "session_id": s, "project": p} for a, b, s, p in rows]


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def _arg_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def source_split(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    by: str = "window",
) -> pl.DataFrame:
    """Requests and tokens "through LiteLLM" against "direct", per 5-hour window or UTC day.

    ``source``: ``litellm_only`` (LiteLLM logs only), ``both`` (LiteLLM and a Claude Code transcript: one
    request), ``direct_only`` (transcript only: traffic that did not go through LiteLLM). Only successful
    requests are counted. ``by='window'``: the default windows (:func:`analyzer.windows.windows`, all traffic);
    ``by='day'``: UTC calendar days. ``since``/``until`` select periods overlapping [since, until).

    Columns: period_start, period_end, source, requests, input_tokens, output_tokens, cache_creation_tokens,
    cache_read_tokens, total_tokens; one row per period and source (all three, zeros included), in time order.
    """
    import polars as pl

    if by not in ("window", "day"):
        raise ValueError(f"by must be 'window' or 'day', got {by!r}")
    df = to_frame(con.sql(sql("transcripts_source_split")))
    df = df.with_columns(pl.col("started_at").dt.convert_time_zone("UTC"))
    if by == "day":
        df = df.with_columns(pl.col("started_at").dt.truncate("1d").alias("period_start"))
        df = df.with_columns((pl.col("period_start") + pl.duration(days=1)).alias("period_end"))
    else:
        from ..windows import windows

        w = (
            windows(con)
            .filter(~pl.col("is_gap"))
            .select(
                pl.col("window_start").alias("period_start"),
                pl.col("window_end").alias("period_end"),
                pl.col("first_request"),
            )
        )
        df = (
            df.sort("started_at")
            .join_asof(
                w.sort("first_request"), left_on="started_at", right_on="first_request", strategy="backward"
            )
            .drop("first_request")
        )
    tokens = ["input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens"]
    periods = df.select("period_start", "period_end").unique()
    grid = periods.join(pl.DataFrame({"source": list(SOURCES)}), how="cross")
    agg = df.group_by("period_start", "source").agg(
        pl.len().cast(pl.Int64).alias("requests"), *[pl.col(c).sum().cast(pl.Int64) for c in tokens]
    )
    out = grid.join(agg, on=["period_start", "source"], how="left").with_columns(
        [pl.col(c).fill_null(0) for c in ["requests", *tokens]]
    )
    out = out.with_columns(pl.sum_horizontal(tokens).cast(pl.Int64).alias("total_tokens"))
    lo, hi = _arg_utc(since), _arg_utc(until)
    if lo is not None:
        out = out.filter(pl.col("period_end") > lo)
    if hi is not None:
        out = out.filter(pl.col("period_start") < hi)
    order = {s: i for i, s in enumerate(SOURCES)}
    out = out.with_columns(pl.col("source").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
    return out.sort("period_start", "_o").select(
        "period_start", "period_end", "source", "requests", *tokens, "total_tokens"
    )
