"""Opening the DuckDB store, applying migrations, and loading named SQL files.

DuckDB lets one process hold a database file for writing, and no other process may open it meanwhile, not even
read-only. So writers (ingest, the watcher) hold a connection only for one short batch, and readers open
read-only and retry for a few seconds while a writer holds the lock (see README, "Concurrency").
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from .errors import UserError

if TYPE_CHECKING:
    import polars as pl

DEFAULT_LOCK_WAIT_S = 15.0
# Writers (ingest, the watcher) cap DuckDB's memory so a million-row ingest stays under 1 GB of RSS; DuckDB
# spills to <db>.tmp beyond it. CCSTATS_MEMORY_LIMIT overrides (any DuckDB size, e.g. "2GB").
WRITER_MEMORY_LIMIT = "700MB"
_SQL_DIR = Path(__file__).parent / "sql"


def default_db_path() -> Path:
    env = os.environ.get("CCSTATS_DB")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("CCSTATS_HOME")
    if home:
        return Path(home).expanduser() / "ccstats.duckdb"
    import platformdirs

    return Path(platformdirs.user_data_dir("ccstats", appauthor=False)) / "ccstats.duckdb"


def local_timezone_name() -> str:
    """IANA name of this machine's zone (for proxy log timestamps), UTC if unknown."""
    tz = os.environ.get("TZ")
    if tz and "/" in tz or tz == "UTC":
        return tz  # type: ignore[return-value]
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            return link.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    return "UTC"


@cache
def sql(name: str) -> str:
    """The text of ``analyzer/sql/<name>.sql``."""
    return (_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


# Ordered, named schema steps; each runs once, in a transaction, and is recorded in _ccstats_migrations.
MIGRATIONS: list[str] = [
    "m001_schema",
    "m002_postgres",
    "m003_transcripts",
    "m004_pending_merges",
    "m005_pending_transcripts",
    "m006_window_bounds_state",
    "m007_hop_models_json",
    "m008_usage_rollup",
    "m009_drop_call_id_indexes",
    "m010_request_log_without_primary_key",
    "m011_transcript_entries_without_primary_key",
]
# Views are replaced whenever their text changes: the step name carries a hash of views.sql.


def _view_files() -> list[str]:
    """views.sql first, then views_*.sql in name order (later files may use earlier views)."""
    names = sorted(p.stem for p in _SQL_DIR.glob("views_*.sql"))
    return ["views", *names]


def _views_step() -> tuple[str, str]:
    text = "\n;\n".join(sql(name) for name in _view_files())
    return "views_" + hashlib.sha256(text.encode()).hexdigest()[:12], text


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() or "Conflicting" in text or "being used by another process" in text


def _configure(con: duckdb.DuckDBPyConnection) -> None:
    # UTC everywhere (conversion happens only for display); DuckDB's own progress bar would write to stdout,
    # in the middle of `--json` output.
    con.execute("set TimeZone = 'UTC'")
    try:
        con.execute("set enable_progress_bar = false")
    except (
        duckdb.Error
    ):  # under Jupyter without ipywidgets DuckDB refuses the setting (it is off there anyway)
        pass


def _open(path: Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    delay = 0.02
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            _configure(con)
            return con
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                if _is_lock_error(exc):
                    raise UserError(
                        f"database {path} is busy (another ccstats process is writing); try again"
                    ) from exc
                raise UserError(f"cannot open database {path}: {exc}") from exc
        except duckdb.Error as exc:
            raise UserError(f"cannot open database {path}: {exc}") from exc
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _pending_steps(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The migration and views steps this version has that the store has not applied."""
    done = {r[0] for r in con.execute("select name from _ccstats_migrations").fetchall()}
    return [name for name in [*MIGRATIONS, _views_step()[0]] if name not in done]


def _upgrade(path: Path, wait_s: float) -> None:
    """Migrate the store and refresh what is derived from its requests (as an ingest would)."""
    from .ingest import after_ingest  # the ingest module is only needed for this rare step

    con = connect(path, wait_s=wait_s)
    try:
        after_ingest(con)
    finally:
        con.close()


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migration steps; returns the names applied."""
    con.execute(
        "create table if not exists _ccstats_migrations (name varchar primary key, applied_at timestamptz)"
    )
    done = {r[0] for r in con.execute("select name from _ccstats_migrations").fetchall()}
    applied = []
    steps = [(name, sql(name)) for name in MIGRATIONS] + [_views_step()]
    _say_when_slow(con, [name for name in MIGRATIONS if name not in done])
    for name, text in steps:
        if name in done:
            continue
        con.execute("begin transaction")
        try:
            con.execute(text)
            con.execute("insert into _ccstats_migrations values (?, now())", [name])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.append(name)
        if name.startswith("views_"):
            # the views step recreates the derived tables empty: rebuild them from the stored requests
            from .fallbacks import refresh_fallback_events

            refresh_fallback_events(con, full=True)
    return applied


#: migrations that rewrite a whole table: the time they take grows with the store
_TABLE_REBUILDS = {
    "m007_hop_models_json",
    "m010_request_log_without_primary_key",
    "m011_transcript_entries_without_primary_key",
}


def _say_when_slow(con: duckdb.DuckDBPyConnection, pending: list[str]) -> None:
    """One line on stderr before a migration rewrites a table of a store that holds requests, so a long pause at
    the first start of a new version is explained (about 15 s for a million requests)."""
    if not _TABLE_REBUILDS.intersection(pending) or pending[0] == MIGRATIONS[0]:
        return  # nothing slow, or a new store
    n = con.execute("select count(*) from request_log").fetchall()[0][0]  # type: ignore[index]
    if n >= 100_000:
        print(
            f"ccstats: upgrading the store for this version ({n:,} requests, once; this takes a while)",
            file=sys.stderr,
        )


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    wait_s: float = DEFAULT_LOCK_WAIT_S,
) -> duckdb.DuckDBPyConnection:
    """Open the store. Writable connections create the file and apply migrations first.

    ``path=":memory:"`` gives an in-memory store (tests, notebooks on a copy).
    """
    if path is None:
        path = default_db_path()
    if str(path) == ":memory:":
        con = duckdb.connect(":memory:")
        _configure(con)
        migrate(con)
        return con
    p = Path(path).expanduser()
    if read_only:
        if not p.exists():
            raise UserError(f"no database at {p}; run `ccstats ingest` first (or pass --db)")
        con = _open(p, True, wait_s)
        if not con.execute(
            "select count(*) from duckdb_tables() where table_name = '_ccstats_migrations'"
        ).fetchall()[0][0]:  # type: ignore[index]
            con.close()
            raise UserError(f"{p} is not a ccstats database")
        if _pending_steps(con):
            # Written by an older ccstats: its views and macros differ from what this version's queries use.
            # Upgrade once with a short writable connection, then read as asked.
            con.close()
            try:
                _upgrade(p, wait_s)
            except UserError as exc:
                raise UserError(
                    f"{p} was written by an older ccstats and could not be upgraded ({exc}); "
                    "run `ccstats ingest` once with write access to upgrade it"
                ) from exc
            con = _open(p, True, wait_s)
        return con
    p.parent.mkdir(parents=True, exist_ok=True)
    con = _open(p, False, wait_s)
    limit = os.environ.get("CCSTATS_MEMORY_LIMIT", WRITER_MEMORY_LIMIT)
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, re.IGNORECASE):
        con.close()
        raise UserError(f"CCSTATS_MEMORY_LIMIT: expected a size such as 700MB or 2GB, got {limit!r}")
    con.execute(f"set memory_limit = '{limit}'")
    # DuckDB checkpoints whenever the WAL passes 16 MB, rewriting the table's indexes each time: at a million
    # rows that made every few chunks pay for the whole index. Checkpoint less often; closing always does.
    con.execute("set checkpoint_threshold = '256MB'")
    migrate(con)
    return con


def to_frame(rel: duckdb.DuckDBPyRelation) -> pl.DataFrame:
    """A relation's rows as a polars DataFrame, over the Arrow C stream interface: no pyarrow import (about 0.2 s
    of a report's start-up)."""
    import polars as pl

    return pl.DataFrame(rel)


def frame_of(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Run a query with bind parameters and return a polars DataFrame."""
    return to_frame(con.sql(query, params=params or {}))


def frame(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run ``analyzer/sql/<name>.sql`` with bind parameters and return a polars DataFrame."""
    return frame_of(con, sql(name), params)


class _ArrowStream:
    """A polars DataFrame as DuckDB sees any Arrow C stream: registering the frame itself would convert it with
    pyarrow. Each scan asks for a new stream."""

    def __init__(self, df: pl.DataFrame) -> None:
        self.df = df

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.df.__arrow_c_stream__(requested_schema)


def register_frame(con: duckdb.DuckDBPyConnection, name: str, df: pl.DataFrame) -> None:
    """Expose a polars DataFrame to SQL on ``con`` as ``name`` (until ``con.unregister(name)``)."""
    con.register(name, _ArrowStream(df))


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to the same store, configured as :func:`connect` does, for a second thread (a DuckDB
    connection must not be used by two threads at once). Temp tables and registered relations are its own."""
    cur = con.cursor()
    _configure(cur)
    return cur


@contextmanager
def connection(
    path: str | os.PathLike[str] | None = None, **kw: object
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, **kw)  # type: ignore[arg-type]
    try:
        yield con
    finally:
        con.close()
