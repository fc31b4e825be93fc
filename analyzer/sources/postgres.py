"""Spend logs straight from LiteLLM's PostgreSQL database (``ccstats ingest postgresql://user:pw@host/db``).

* Incremental: a watermark per source (``postgres_watermarks``: "startTime" and request_id of the newest row
  read). Rows committed late (a slow transaction, the proxy's batched spend writer) are caught by a look-back:
  the ids of rows that started within ``lookback_s`` before the watermark are listed (index-only, no row
  bodies), and those not stored yet are fetched by key; then the rows after the watermark are read. Natural
  keys (request_id) make any re-read harmless.
* Cheap for the server: one read-only transaction (``default_transaction_read_only`` and ``SET TRANSACTION
  READ ONLY``), a ``statement_timeout``, a SERVER-SIDE cursor fetched in batches, ordered by ("startTime",
  request_id) so LiteLLM's "startTime" indexes serve the range scan. A thread fetches and redacts the next
  batch while DuckDB writes the current one (at most one batch waits), so the server's rendering and DuckDB's
  parsing run on separate cores.
* The same parser as the file sources: PostgreSQL renders each row as the JSON object a JSONL export holds
  (JSON columns as objects; timestamp(3)-without-time-zone columns, which hold UTC, as ISO with ``+00:00``).
  The lines are redacted and go through :func:`analyzer.ingest.write_batch`; rows and the new watermark of a
  batch commit in one DuckDB transaction.
* The password never leaves this module: the source is recorded as ``postgresql://user@host:port/db``, and
  every error message is scrubbed of it.

This module stays light to import (psycopg is imported on first use).
"""

from __future__ import annotations

import hashlib
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any
from urllib.parse import quote

import duckdb
import pyarrow as pa

from ..errors import UserError
from ..ingest import SourceSummary, after_ingest, write_batch
from ..redact import redact_text
from . import SPEND

SPEND_TABLE = "LiteLLM_SpendLogs"
FORMAT = "spend-postgres"
DEFAULT_BATCH_SIZE = 1000  # ~15 MB of LiteLLM rows (each carries a ~9 KB price-map entry): like a file chunk
DEFAULT_LOOKBACK_S = 600.0
DEFAULT_STATEMENT_TIMEOUT_MS = 60_000
CONNECT_TIMEOUT_S = 10
MAX_HOLD_S = 1.0  # watch: release the DuckDB file at least this often during a long catch-up
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 60.0
_FINGERPRINT_LEN = 2**31 - 1  # longer than any file head: file-source lookups never match this source
_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_dsn(source: str) -> bool:
    """True when a command-line source names a PostgreSQL server rather than a file."""
    return source.startswith(_SCHEMES)


class PostgresError(UserError):
    """A PostgreSQL source cannot be read: one line, password-free. ``kind``: unreachable | auth | schema | dsn."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# ---------------------------------------------------------------- DSN handling


@dataclass(frozen=True)
class _Dsn:
    raw: str
    params: dict[str, str]
    redacted: str

    @property
    def password(self) -> str | None:
        return self.params.get("password") or None


def _parse_dsn(dsn: str) -> _Dsn:
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except Exception as exc:  # psycopg.ProgrammingError: its text may quote the DSN, password included
        raise PostgresError(f"{_redact_unparsed(dsn)}: not a valid PostgreSQL URL", "dsn") from exc
    return _Dsn(dsn, params, _redacted_from(params))


def _redacted_from(params: dict[str, str]) -> str:
    user = params.get("user") or os.environ.get("PGUSER") or ""
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    db = params.get("dbname") or os.environ.get("PGDATABASE") or user
    auth = f"{quote(user, safe='')}@" if user else ""
    hostpart = host if "," not in host and not host.startswith("/") else quote(host, safe="")
    if ":" in hostpart and not hostpart.startswith("["):  # IPv6 literal
        hostpart = f"[{hostpart}]"
    return f"postgresql://{auth}{hostpart}:{port}/{quote(db, safe='')}"


def _redact_unparsed(dsn: str) -> str:
    """Best effort for a DSN that does not parse: drop everything between ``user:`` and ``@``, and the query."""
    head = dsn.split("?", 1)[0]
    scheme, sep, rest = head.partition("://")
    if not sep:
        return "postgresql://…"
    if "@" in rest:
        userinfo, _, hostpart = rest.rpartition("@")
        rest = f"{userinfo.split(':', 1)[0]}@{hostpart}"
    return f"{scheme}://{rest}"


def redact_dsn(dsn: str) -> str:
    """``postgresql://user@host:port/db``: the DSN without its password (nor any other parameter)."""
    try:
        return _parse_dsn(dsn).redacted
    except PostgresError:
        return _redact_unparsed(dsn)


def _scrub(text: str, d: _Dsn) -> str:
    """One line of a driver message, without the password or the raw DSN."""
    if d.raw:
        text = text.replace(d.raw, d.redacted)
    pw = d.password
    if pw:
        text = text.replace(pw, "***").replace(quote(pw, safe=""), "***")
    text = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return redact_text(text)


# ---------------------------------------------------------------- connecting


def _classify(exc: Exception, d: _Dsn) -> PostgresError:
    state = getattr(exc, "sqlstate", None)
    msg = _scrub(str(exc), d)
    # libpq: 'connection failed: connection to server at "h", port p failed: FATAL:  reason'
    reason = msg.rsplit("failed:", 1)[-1].strip() if "failed:" in msg else msg
    reason = reason.removeprefix("FATAL:").strip()
    if (
        state in ("28P01", "28000")
        or "password authentication failed" in msg
        or "no password supplied" in msg
    ):
        return PostgresError(f"postgres at {d.redacted}: authentication failed ({reason})", "auth")
    if state == "3D000":
        return PostgresError(f"postgres at {d.redacted}: {reason}", "schema")
    return PostgresError(f"postgres unreachable at {d.redacted} ({reason})", "unreachable")


def _connect(d: _Dsn, statement_timeout_ms: int) -> Any:
    import psycopg

    options = d.params.get("options", "")
    options = (
        f"{options} -c default_transaction_read_only=on -c statement_timeout={int(statement_timeout_ms)} "
        "-c TimeZone=UTC"
    ).strip()
    kwargs: dict[str, Any] = {"options": options, "autocommit": False}
    if "connect_timeout" not in d.params:
        kwargs["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in d.params:
        kwargs["application_name"] = "ccstats"
    try:
        return psycopg.connect(d.raw, **kwargs)
    except psycopg.Error as exc:
        raise _classify(exc, d) from None


@dataclass
class _Columns:
    names: list[str]
    timestamps: set[str]  # timestamp without time zone: UTC wall-clock values


def _spend_columns(pg: Any, d: _Dsn, table: str) -> _Columns:
    import psycopg

    try:
        with pg.cursor() as cur:
            cur.execute(
                "select to_regclass(%s)::oid, has_table_privilege(to_regclass(%s), 'select')",
                [_quoted(table), _quoted(table)],
            )
            oid, can_read = cur.fetchone() or (None, None)
            if oid is None:
                raise PostgresError(
                    f'postgres at {d.redacted}: table "{table}" not found (is this LiteLLM\'s database, and has the '
                    "proxy run its migrations?)",
                    "schema",
                )
            if not can_read:
                raise PostgresError(
                    f'postgres at {d.redacted}: user may not read table "{table}" (grant select on it)',
                    "schema",
                )
            cur.execute(
                "select attname, format_type(atttypid, atttypmod) from pg_attribute "
                "where attrelid = %s and attnum > 0 and not attisdropped order by attnum",
                [oid],
            )
            rows = cur.fetchall()
        pg.rollback()
    except psycopg.Error as exc:
        raise _classify(exc, d) from None
    names = [r[0] for r in rows]
    missing = {"request_id", "startTime"} - set(names)
    if missing:
        raise PostgresError(
            f'postgres at {d.redacted}: table "{table}" has no column {sorted(missing)[0]}', "schema"
        )
    return _Columns(names, {n for n, t in rows if t.startswith("timestamp") and "with time zone" not in t})


def _quoted(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


def _select(cols: _Columns, table: str, where: str) -> Any:
    """The read: every column, rendered by PostgreSQL as one JSON object per row, in ("startTime", request_id)
    order. UTC wall-clock timestamps become timestamptz (rendered ``...+00:00`` as the session is in UTC).

    ``where``: ``all`` (first read), ``after`` (strictly after the watermark: the range scan on LiteLLM's
    ("startTime", request_id) index) or ``ids`` (late rows of the look-back window, by primary key)."""
    from psycopg import sql

    fields = []
    for c in cols.names:
        ident = sql.Identifier(c)
        if c in cols.timestamps:
            fields.append(sql.SQL("(s.{} at time zone 'UTC') as {}").format(ident, ident))
        else:
            fields.append(sql.SQL("s.{}").format(ident))
    cond = {
        "all": "true",
        "after": '(s."startTime", s.request_id) > (%(wm)s, %(rid)s)',
        "ids": "s.request_id = any(%(ids)s)",
    }[where]
    return sql.SQL(
        'select s."startTime", s.request_id, row_to_json(x)::text from {} s cross join lateral (select {}) x '
        'where {} order by s."startTime", s.request_id'
    ).format(sql.Identifier(table), sql.SQL(", ").join(fields), sql.SQL(cond))  # type: ignore[arg-type]


def _lookback_ids(table: str) -> Any:
    """Ids in the look-back window up to the watermark: an index-only scan, no row bodies."""
    from psycopg import sql

    return sql.SQL(
        'select request_id from {} where "startTime" >= %(since)s and ("startTime", request_id) <= (%(wm)s, %(rid)s)'
    ).format(sql.Identifier(table))


def _unknown_ids(con: duckdb.DuckDBPyConnection, ids: list[str], since: datetime) -> list[str]:
    """The ids not yet stored from a spend log (a row stored only from callbacks is still replaced by it)."""
    if not ids:
        return []
    con.register("_pg_lookback_ids", pa.table({"request_id": pa.array(ids, pa.string())}))
    try:
        rows = con.execute(
            "select request_id from _pg_lookback_ids where request_id not in (select request_id from request_log "
            "where origin = 'spend_log' and started_at >= ?)",
            [since.replace(tzinfo=UTC) - timedelta(minutes=1)],  # margin: an export may carry microseconds
        ).fetchall()
    finally:
        con.unregister("_pg_lookback_ids")
    return [r[0] for r in rows]


# ---------------------------------------------------------------- state in DuckDB


@dataclass
class _State:
    source_id: int
    last_start: datetime | None  # naive UTC (as "startTime" is stored)
    last_request_id: str | None
    rows_read: int


def _state(con: duckdb.DuckDBPyConnection, d: _Dsn, table: str) -> _State:
    rows = con.execute(
        "select source_id, last_start_time, last_request_id, rows_read from postgres_watermarks "
        "where dsn = ? and table_name = ?",
        [d.redacted, table],
    ).fetchall()
    if rows:
        row = rows[0]
        start = row[1].astimezone(UTC).replace(tzinfo=None) if row[1] is not None else None
        return _State(int(row[0]), start, row[2], int(row[3]))
    con.execute("begin transaction")
    try:
        sid = int(con.execute("select nextval('source_ids')").fetchall()[0][0])
        fp = "postgres:" + hashlib.sha256(f"{d.redacted}/{table}".encode()).hexdigest()
        con.execute(
            "insert into sources (source_id, path, fingerprint, fingerprint_len, compressed, format, first_ingest, "
            "last_ingest) values (?, ?, ?, ?, false, ?, now(), now())",
            [sid, d.redacted, fp, _FINGERPRINT_LEN, FORMAT],
        )
        con.execute(
            "insert into postgres_watermarks (source_id, dsn, table_name) values (?, ?, ?)",
            [sid, d.redacted, table],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return _State(sid, None, None, 0)


# ---------------------------------------------------------------- reading


def _batch_table(lines: list[str], first_line_no: int) -> pa.Table:
    text = "\n".join(lines)
    clean = redact_text(text)
    if clean is not text:
        lines = clean.split("\n")  # replacements hold no newline; row_to_json escapes the ones in values
    return pa.table(
        {
            "line_no": pa.array(range(first_line_no, first_line_no + len(lines)), pa.int64()),
            "line": pa.array(lines, pa.large_string()),
        }
    )


@dataclass
class _Fetched:
    """One batch of the main read, prepared off the writer's thread: redacted lines as Arrow, and its last key."""

    table: pa.Table
    rows: int
    last: tuple[Any, str]


class _Prefetch:
    """Fetch (and redact) the next batch in a thread while the caller writes the current one into DuckDB.

    PostgreSQL renders rows on its own core while DuckDB parses the previous batch on ours; at most one batch
    waits in the queue. Leaving the ``with`` block stops the thread and waits for it (at most the fetch in
    flight), so the cursor and connection are idle again when the caller closes or rolls them back. An error
    in the thread (a psycopg error, a statement timeout) is raised in the caller's thread."""

    def __init__(self, cur: Any, batch_size: int, first_line_no: int) -> None:
        self._cur = cur
        self._size = batch_size
        self._line_no = first_line_no
        self._q: queue.Queue[_Fetched | BaseException | None] = queue.Queue(maxsize=1)
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ccstats-pg-fetch", daemon=True)

    def __enter__(self) -> Iterator[_Fetched]:
        self._thread.start()
        return self._batches()

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        self._thread.join()

    def _put(self, item: _Fetched | BaseException | None) -> bool:
        while not self._halt.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self._halt.is_set():
                rows = self._cur.fetchmany(self._size)
                if not rows:
                    break
                item = _Fetched(_batch_table([r[2] for r in rows], self._line_no), len(rows), rows[-1][:2])
                self._line_no += len(rows)
                if not self._put(item) or len(rows) < self._size:
                    return
            self._put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            self._put(exc)

    def _batches(self) -> Iterator[_Fetched]:
        while True:
            item = self._q.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.rows < self._size:
                return


def _read(
    pg: Any,
    con: duckdb.DuckDBPyConnection,
    d: _Dsn,
    table: str,
    summary: SourceSummary,
    *,
    batch_size: int,
    lookback_s: float,
    max_hold_s: float | None,
    stop: threading.Event | None,
) -> bool:
    """Read new rows into ``con``; returns True when it stopped early (hold time or stop) with rows left.

    First the look-back window: the ids of rows up to the watermark that started within ``lookback_s`` before it
    are listed (index-only) and the ones not stored yet (committed late) are fetched by primary key; then the
    rows strictly after the watermark, in batches through a server-side cursor."""
    import psycopg

    cols = _spend_columns(pg, d, table)
    st = _state(con, d, table)
    wm: tuple[datetime, str] | None = (st.last_start, st.last_request_id or "") if st.last_start else None
    line_no = st.rows_read
    started = time.monotonic()

    def store(rows: list[tuple[Any, ...]], advance: bool) -> None:
        batch = _batch_table([r[2] for r in rows], line_no + 1)
        store_batch(batch, len(rows), (rows[-1][0], rows[-1][1]) if advance else None)

    def store_batch(batch: pa.Table, n: int, last: tuple[Any, str] | None) -> None:
        """Write one batch; ``last``: the key of its last row, the new watermark (None: keep the watermark)."""
        nonlocal wm, line_no
        # Rows come in PostgreSQL's ("startTime", request_id) order (its collation orders the ids).
        new_wm = last if last is not None else wm
        con.execute("begin transaction")
        try:
            added, dups, bad, skipped = write_batch(con, SPEND, batch, st.source_id, d.redacted)
            con.execute(
                "update postgres_watermarks set last_start_time = ?, last_request_id = ?, "
                "rows_read = rows_read + ?, last_poll = now() where source_id = ?",
                [new_wm[0] if new_wm else None, new_wm[1] if new_wm else None, n, st.source_id],
            )
            con.execute(
                "update sources set lines_read = lines_read + ?, size_bytes = size_bytes + ?, "
                "offset_bytes = offset_bytes + ?, rows_added = rows_added + ?, duplicates = duplicates + ?, "
                "quarantined = quarantined + ?, skipped_lines = skipped_lines + ?, last_ingest = now() "
                "where source_id = ?",
                [n, batch.nbytes, batch.nbytes, added, dups, bad, skipped, st.source_id],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        wm = new_wm
        line_no += n
        summary.count((added, dups, bad, skipped), n, batch.nbytes)

    try:
        pg.execute("set transaction read only")
        if wm is not None and lookback_s > 0:
            since = wm[0] - timedelta(seconds=lookback_s)
            with pg.cursor() as cur:
                cur.execute(_lookback_ids(table), {"since": since, "wm": wm[0], "rid": wm[1]})
                window = [r[0] for r in cur.fetchall()]
            late = _unknown_ids(con, window, since)
            if late:
                summary.note = f"{len(late):,} rows committed late (within the {lookback_s:g} s look-back)"
            for i in range(0, len(late), batch_size):
                with pg.cursor() as cur:
                    cur.execute(_select(cols, table, "ids"), {"ids": late[i : i + batch_size]})
                    store(cur.fetchall(), advance=False)
        params: dict[str, Any] = {} if wm is None else {"wm": wm[0], "rid": wm[1]}
        with pg.cursor(name="ccstats_spend_logs", scrollable=False, withhold=False) as cur:
            cur.itersize = batch_size
            cur.execute(_select(cols, table, "all" if wm is None else "after"), params)
            with _Prefetch(cur, batch_size, line_no + 1) as batches:
                for b in batches:
                    store_batch(b.table, b.rows, b.last)
                    if b.rows < batch_size:
                        break
                    if (stop is not None and stop.is_set()) or (
                        max_hold_s is not None and time.monotonic() - started > max_hold_s
                    ):
                        return True
        return False
    except psycopg.errors.QueryCanceled as exc:
        raise PostgresError(
            f"postgres at {d.redacted}: statement timeout while reading {table} ({_scrub(str(exc), d)})",
            "unreachable",
        ) from None
    except psycopg.Error as exc:
        raise _classify(exc, d) from None
    finally:
        try:
            pg.rollback()  # end the read-only transaction (and its snapshot)
        except psycopg.Error:
            pass
        con.execute(
            "update postgres_watermarks set polls = polls + 1, last_poll = now() where source_id = ?",
            [st.source_id],
        )


@contextmanager
def _pg_connection(d: _Dsn, statement_timeout_ms: int) -> Iterator[Any]:
    pg = _connect(d, statement_timeout_ms)
    try:
        yield pg
    finally:
        pg.close()


def ingest_postgres(
    con: duckdb.DuckDBPyConnection,
    dsn: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lookback_s: float = DEFAULT_LOOKBACK_S,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    table: str = SPEND_TABLE,
) -> SourceSummary:
    """Read LiteLLM_SpendLogs rows newer than this source's watermark (minus ``lookback_s``) into ``con``.

    Raises :class:`PostgresError` (a UserError: one password-free line) when the server is unreachable, the
    credentials are refused, or the table is missing. The caller runs ``after_ingest(con)`` afterwards."""
    d = _parse_dsn(dsn)
    summary = SourceSummary(d.redacted, format=FORMAT)
    with _pg_connection(d, statement_timeout_ms) as pg:
        _read(
            pg,
            con,
            d,
            table,
            summary,
            batch_size=batch_size,
            lookback_s=lookback_s,
            max_hold_s=None,
            stop=None,
        )
    if not summary.rows_added and not summary.note:
        summary.note = "already up to date"
    return summary


# ---------------------------------------------------------------- watching


def _say(text: str) -> None:
    print(f"ccstats: {text}", file=sys.stderr, flush=True)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def watch_postgres(
    db_path: str | os.PathLike[str] | None,
    dsn: str,
    *,
    interval: float = 5.0,
    stop_event: threading.Event | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lookback_s: float = DEFAULT_LOOKBACK_S,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    backoff_start_s: float = BACKOFF_START_S,
    backoff_max_s: float = BACKOFF_MAX_S,
    on_poll: Callable[[SourceSummary], None] | None = None,
) -> None:
    """Poll LiteLLM's database every ``interval`` seconds until ``stop_event`` is set or SIGINT/SIGTERM arrives.

    The DuckDB file is opened only while rows are written (readers can open it between polls). When PostgreSQL
    is unreachable (or the table is not there yet) it says so on stderr and retries with exponential backoff;
    refused credentials end the watch with a PostgresError, since retrying cannot fix them."""
    from ..db import connect

    d = _parse_dsn(dsn)
    stop = stop_event or threading.Event()
    pg: Any = None
    backoff = backoff_start_s
    with _stop_on_signals(stop):
        try:
            while not stop.is_set():
                wait = interval
                try:
                    if pg is None or pg.closed:
                        pg = _connect(d, statement_timeout_ms)
                    summary = SourceSummary(d.redacted, format=FORMAT)
                    con = connect(db_path)
                    try:
                        more = _read(
                            pg,
                            con,
                            d,
                            SPEND_TABLE,
                            summary,
                            batch_size=batch_size,
                            lookback_s=lookback_s,
                            max_hold_s=MAX_HOLD_S,
                            stop=stop,
                        )
                        if summary.rows_added:
                            after_ingest(con)
                    finally:
                        con.close()
                    if on_poll is not None:
                        on_poll(summary)
                    backoff = backoff_start_s
                    if more:
                        wait = 0.05  # let readers in, then go on catching up
                except PostgresError as exc:
                    if exc.kind in ("auth", "dsn"):
                        raise
                    if pg is not None:
                        pg.close()
                        pg = None
                    _say(f"{exc}; retrying in {backoff:g} s")
                    wait = backoff
                    backoff = min(backoff * 2, backoff_max_s)
                except UserError as exc:  # the DuckDB file is busy: try again next round
                    _say(f"{exc}; retrying in {backoff:g} s")
                    wait = backoff
                    backoff = min(backoff * 2, backoff_max_s)
                stop.wait(wait)
        finally:
            if pg is not None:
                pg.close()
