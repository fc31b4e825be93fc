"""Reading spend logs straight from LiteLLM's PostgreSQL database, against a real server.

The cluster (tests/support/pg.py) runs on 127.0.0.1 with password auth; the schema is LiteLLM's own migrations
(litellm-proxy-extras). The reader role may only SELECT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analyzer.db import connect
from analyzer.errors import UserError
from analyzer.ingest import ingest_file
from analyzer.sources.postgres import (
    PostgresError,
    _connect,
    _parse_dsn,
    ingest_postgres,
    redact_dsn,
    watch_postgres,
)
from tests.support import pg
from tests.support.ccusage import require_or_skip

REPO = Path(__file__).resolve().parent.parent
SPEND_JSONL = REPO / "sample_logs" / "spend_logs.jsonl"
WAIT_S = 30.0

pytestmark = pytest.mark.needs_postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[pg.PgCluster]:
    ok, why = pg.available()
    require_or_skip("postgres", ok, why)
    yield from pg.make_cluster()


def _sample_records() -> list[dict[str, Any]]:
    """The captured spend rows, timestamps cut to milliseconds as LiteLLM's timestamp(3) columns keep them."""
    out = []
    for line in SPEND_JSONL.read_text().splitlines():
        rec = json.loads(line)
        for k in ("startTime", "endTime", "completionStartTime"):
            if rec.get(k):
                d = datetime.fromisoformat(rec[k]).astimezone(UTC)
                rec[k] = d.replace(microsecond=d.microsecond // 1000 * 1000).isoformat()
        out.append(rec)
    return out


@pytest.fixture()
def loaded(cluster: pg.PgCluster) -> tuple[str, list[dict[str, Any]]]:
    """A fresh LiteLLM database holding the 35 captured spend rows; returns (dsn, records)."""
    db = cluster.new_database()
    recs = _sample_records()
    with cluster.admin(db) as con:
        assert pg.insert_spend_rows(con, recs) == 35
    return cluster.dsn(db), recs


def _row(rec: dict[str, Any], request_id: str, start: datetime) -> dict[str, Any]:
    r = dict(rec)
    r["request_id"] = request_id
    r["litellm_call_id"] = f"call-{request_id}"
    r["startTime"] = start.isoformat()
    r["endTime"] = (start + timedelta(seconds=1)).isoformat()
    r["completionStartTime"] = r["endTime"]
    return r


def _ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("select request_id from request_log order by request_id").fetchall()]


# ---------------------------------------------------------------- same rows as a JSONL export


def test_postgres_rows_normalise_exactly_like_the_jsonl_export(
    loaded: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    dsn, recs = loaded
    export = tmp_path / "spend.jsonl"
    export.write_text("".join(json.dumps(r) + "\n" for r in recs))
    from_pg = connect(":memory:")
    from_file = connect(":memory:")
    s = ingest_postgres(from_pg, dsn)
    f = ingest_file(from_file, export)
    assert (s.rows_added, s.quarantined, s.lines) == (35, 0, 35)
    assert (f.rows_added, f.quarantined) == (35, 0)
    q = "select * exclude (source_id, source_line, ingested_at, raw), raw from request_log order by request_id"
    a, b = from_pg.execute(q).fetchall(), from_file.execute(q).fetchall()
    assert len(a) == len(b) == 35
    for ra, rb in zip(a, b, strict=True):
        assert ra[:-1] == rb[:-1]
        assert json.loads(ra[-1]) == json.loads(rb[-1])  # jsonb orders keys its own way; same content
    # a few exact values, so the comparison above is not between two empty or two broken stores
    row = from_pg.execute(
        "select started_at, input_tokens, cache_creation_tokens, cache_read_tokens, output_tokens, status, user_agent "
        "from request_log where request_id = 'msg_fake_0002'"
    ).fetchall()
    assert row == [
        (
            datetime(2026, 11, 27, 10, 28, 48, 592000, tzinfo=UTC),
            36,
            1024,
            21504,
            30,
            "success",
            "claude-cli/2.0.14 (external, cli)",
        )
    ]
    statuses = from_pg.execute("select status, count(*) from request_log group by 1 order by 1").fetchall()
    assert (
        statuses
        == from_file.execute("select status, count(*) from request_log group by 1 order by 1").fetchall()
    )


def test_source_is_recorded_without_the_password(
    loaded: tuple[str, list[dict[str, Any]]], cluster: pg.PgCluster, tmp_path: Path
) -> None:
    dsn, _ = loaded
    db = tmp_path / "store.duckdb"
    con = connect(db)
    s = ingest_postgres(con, dsn)
    dbname = dsn.rsplit("/", 1)[1]
    expected = f"postgresql://{pg.READER_ROLE}@127.0.0.1:{cluster.port}/{dbname}"
    assert s.path == expected
    assert con.execute("select path, format, rows_added, lines_read from sources").fetchall() == [
        (expected, "spend-postgres", 35, 35)
    ]
    assert con.execute("select dsn, table_name, rows_read from postgres_watermarks").fetchall() == [
        (expected, "LiteLLM_SpendLogs", 35)
    ]
    con.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("store.duckdb"))
    assert pg.READER_PASSWORD.encode() not in stored
    assert expected.encode() in stored


def test_session_is_read_only_with_a_statement_timeout(loaded: tuple[str, list[dict[str, Any]]]) -> None:
    dsn, _ = loaded
    conn = _connect(_parse_dsn(dsn), 12_345)
    try:
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("show statement_timeout").fetchone() == ("12345ms",)
        assert conn.execute("show TimeZone").fetchone() == ("UTC",)
    finally:
        conn.close()


# ---------------------------------------------------------------- incremental reads


def test_incremental_reads_with_look_back(
    loaded: tuple[str, list[dict[str, Any]]], cluster: pg.PgCluster
) -> None:
    dsn, recs = loaded
    con = connect(":memory:")
    # 5 batches through the server-side cursor
    assert ingest_postgres(con, dsn, batch_size=8).rows_added == 35
    newest = max(datetime.fromisoformat(r["startTime"]) for r in recs)
    wm = con.execute("select last_start_time, last_request_id from postgres_watermarks").fetchall()
    assert wm == [
        (newest, max((r for r in recs), key=lambda r: (r["startTime"], r["request_id"]))["request_id"])
    ]
    dbname = dsn.rsplit("/", 1)[1]
    with cluster.admin(dbname) as pgc:
        pg.insert_spend_rows(
            pgc,
            [
                _row(recs[1], "late_new_1", newest + timedelta(seconds=30)),
                _row(recs[1], "late_new_2", newest + timedelta(seconds=31)),
                _row(
                    recs[1], "late_in_lookback", newest - timedelta(minutes=5)
                ),  # committed late, started earlier
                _row(
                    recs[1], "late_too_old", newest - timedelta(minutes=20)
                ),  # older than the 10-minute look-back
            ],
        )
    s = ingest_postgres(con, dsn, batch_size=8)
    assert s.rows_added == 3
    # the look-back lists ids only; the one late row is fetched by key, the stored ones are not fetched again
    assert (s.lines, s.duplicates) == (3, 0)
    assert s.note == "1 rows committed late (within the 600 s look-back)"
    assert set(_ids(con)) - {r["request_id"] for r in recs} == {
        "late_new_1",
        "late_new_2",
        "late_in_lookback",
    }
    assert con.execute("select last_start_time, last_request_id from postgres_watermarks").fetchall() == [
        (newest + timedelta(seconds=31), "late_new_2")
    ]
    again = ingest_postgres(con, dsn)
    assert (again.rows_added, again.lines, again.note) == (0, 0, "already up to date")
    assert ingest_postgres(con, dsn, lookback_s=0).lines == 0  # no look-back: strictly after (startTime, id)
    assert con.execute("select count(*) from request_log").fetchall() == [(38,)]


def test_statement_timeout_in_the_fetch_thread_is_a_one_line_error(cluster: pg.PgCluster) -> None:
    """The batches are fetched in a thread; a timeout there ends the ingest with the same error, thread joined."""
    db = cluster.new_database(with_schema=False)
    with cluster.admin(db) as c:
        c.execute('create table slow_rows (request_id text primary key, "startTime" timestamp(3) not null)')
        c.execute(
            "insert into slow_rows values ('a', '2026-11-02 09:00:00'), ('b', '2026-11-02 09:00:01'), "
            "('c', '2026-11-02 09:00:02')"
        )
        # every row takes 0.3 s to render: the first FETCH overruns a 200 ms statement timeout
        c.execute(
            'create view "LiteLLM_SpendLogs" as select s.request_id, s."startTime" from slow_rows s '
            "cross join lateral (select pg_sleep(0.3)) z"
        )
        c.execute(f'grant select on "LiteLLM_SpendLogs" to {pg.READER_ROLE}')
    dsn = cluster.dsn(db)
    con = connect(":memory:")
    with pytest.raises(PostgresError) as err:
        ingest_postgres(con, dsn, batch_size=2, statement_timeout_ms=200)
    assert err.value.kind == "unreachable"
    assert str(err.value).startswith(
        f"postgres at {redact_dsn(dsn)}: statement timeout while reading LiteLLM_SpendLogs ("
    )
    assert pg.READER_PASSWORD not in str(err.value)
    assert [t.name for t in threading.enumerate() if t.name == "ccstats-pg-fetch"] == []
    assert con.execute("select count(*) from request_log").fetchall() == [(0,)]
    assert con.execute("select last_start_time, rows_read, polls from postgres_watermarks").fetchall() == [
        (None, 0, 1)
    ]


def test_watch_delivers_each_row_exactly_once(
    loaded: tuple[str, list[dict[str, Any]]], cluster: pg.PgCluster, tmp_path: Path
) -> None:
    dsn, recs = loaded
    dbname = dsn.rsplit("/", 1)[1]
    db = tmp_path / "watch.duckdb"
    connect(db).close()
    stop = threading.Event()
    polls: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            watch_postgres(
                db,
                dsn,
                interval=0.05,
                stop_event=stop,
                batch_size=7,
                on_poll=lambda s: polls.append(s.rows_added),
            )
        except BaseException as exc:  # surfaced by the assertions below
            errors.append(exc)

    def count() -> int:
        with _Open(db) as c:
            return int(c.execute("select count(*) from request_log").fetchall()[0][0])

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        _wait_for(lambda: count() == 35)
        newest = max(datetime.fromisoformat(r["startTime"]) for r in recs)
        expected = {r["request_id"] for r in recs}
        for i in range(4):
            batch = [
                _row(recs[2], f"w{i}_new", newest + timedelta(seconds=10 + i)),
                # committed now, started earlier: inside the look-back
                _row(recs[2], f"w{i}_earlier", newest - timedelta(seconds=60 * (i + 1))),
            ]
            with cluster.admin(dbname) as pgc:
                pg.insert_spend_rows(pgc, batch)
            expected |= {b["request_id"] for b in batch}
            n = len(expected)
            _wait_for(lambda: count() == n)  # noqa: B023 (called right here)
            time.sleep(0.2)  # a few more polls check the look-back window again
    finally:
        stop.set()
        t.join(WAIT_S)
    assert not t.is_alive() and errors == []
    con = connect(db)
    assert set(_ids(con)) == expected and len(expected) == 43
    assert sum(polls) == 43  # each row was added by exactly one poll, however often it was re-read
    assert con.execute("select rows_added from sources").fetchall() == [(43,)]
    assert con.execute("select count(*) from quarantine").fetchall() == [(0,)]
    # the initial read plus one poll per round at least (how many more depends on machine load)
    assert con.execute("select rows_read, polls >= 5 from postgres_watermarks").fetchall() == [(43, True)]
    con.close()


class _Open:
    """A short connection to a store the watcher thread also opens (same process: same DuckDB instance)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con = connect(self.path)
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


def _wait_for(cond: Any, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_watch_stops_cleanly_on_sigterm(loaded: tuple[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    dsn, _ = loaded
    db = tmp_path / "sig.duckdb"
    code = (
        "import sys; from analyzer.sources.postgres import watch_postgres; "
        "watch_postgres(sys.argv[1], sys.argv[2], interval=0.1)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db), dsn],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:

        def arrived() -> bool:
            if not db.exists():
                return False
            try:
                c = connect(db, read_only=True, wait_s=0.5)
            except UserError:
                return False
            try:
                return c.execute("select count(*) from request_log").fetchall() == [(35,)]
            except duckdb.Error:
                return False
            finally:
                c.close()

        _wait_for(arrived)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT_S) == 0
        assert proc.stderr is not None
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- errors: one line, no password


def test_unreachable_server(cluster: pg.PgCluster) -> None:
    port = pg.free_port()
    dsn = cluster.dsn("litellm", port=port)
    with pytest.raises(UserError) as e:
        ingest_postgres(connect(":memory:"), dsn)
    msg = str(e.value)
    assert msg.startswith(f"postgres unreachable at postgresql://{pg.READER_ROLE}@127.0.0.1:{port}/litellm (")
    assert "refused" in msg.lower()
    assert "\n" not in msg and pg.READER_PASSWORD not in msg
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_bad_password(cluster: pg.PgCluster) -> None:
    db = cluster.new_database()
    wrong = "Wr0ng-Passw0rd-zz9"
    with pytest.raises(PostgresError) as e:
        ingest_postgres(connect(":memory:"), cluster.dsn(db, password=wrong))
    assert str(e.value) == (
        f"postgres at postgresql://{pg.READER_ROLE}@127.0.0.1:{cluster.port}/{db}: authentication failed "
        f'(password authentication failed for user "{pg.READER_ROLE}")'
    )
    assert e.value.kind == "auth" and e.value.__cause__ is None


def test_missing_table(cluster: pg.PgCluster) -> None:
    db = cluster.new_database(with_schema=False)
    with pytest.raises(PostgresError) as e:
        ingest_postgres(connect(":memory:"), cluster.dsn(db))
    assert str(e.value) == (
        f'postgres at postgresql://{pg.READER_ROLE}@127.0.0.1:{cluster.port}/{db}: table "LiteLLM_SpendLogs" not '
        "found (is this LiteLLM's database, and has the proxy run its migrations?)"
    )
    assert e.value.kind == "schema"


def test_watch_backs_off_while_unreachable(
    cluster: pg.PgCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = pg.free_port()
    dsn = cluster.dsn("litellm", port=port)
    stop = threading.Event()
    t = threading.Thread(
        target=watch_postgres,
        args=(tmp_path / "w.duckdb", dsn),
        kwargs={"interval": 0.05, "stop_event": stop, "backoff_start_s": 0.05, "backoff_max_s": 0.2},
        daemon=True,
    )
    t.start()
    seen: list[str] = []

    def five_messages() -> bool:
        seen.extend(capsys.readouterr().err.splitlines())
        return len(seen) >= 5

    try:
        _wait_for(five_messages)
    finally:
        stop.set()
        t.join(WAIT_S)
    assert not t.is_alive()
    prefix = f"ccstats: postgres unreachable at postgresql://{pg.READER_ROLE}@127.0.0.1:{port}/litellm ("
    assert all(line.startswith(prefix) for line in seen)
    assert [line.rsplit("; ", 1)[1] for line in seen[:5]] == [
        "retrying in 0.05 s",
        "retrying in 0.1 s",
        "retrying in 0.2 s",
        "retrying in 0.2 s",
        "retrying in 0.2 s",
    ]
    assert not any(pg.READER_PASSWORD in line for line in seen)


def test_watch_gives_up_on_refused_credentials(cluster: pg.PgCluster, tmp_path: Path) -> None:
    db = cluster.new_database()
    with pytest.raises(PostgresError) as e:
        watch_postgres(
            tmp_path / "w.duckdb",
            cluster.dsn(db, password="nope-nope"),
            interval=0.05,
            stop_event=threading.Event(),
        )
    assert e.value.kind == "auth" and "nope-nope" not in str(e.value)


# ---------------------------------------------------------------- DSN redaction (no server)


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://u:s3cret@db.example:6543/litellm", "postgresql://u@db.example:6543/litellm"),
        ("postgres://u:s3cret@db.example/litellm?sslmode=require", "postgresql://u@db.example:5432/litellm"),
        ("postgresql://u@db.example/litellm?password=s3cret", "postgresql://u@db.example:5432/litellm"),
        (
            "postgresql://u%40corp:p%3Aw@pg.example:5433/lite%20llm",
            "postgresql://u%40corp@pg.example:5433/lite%20llm",
        ),
        ("postgresql://u:s3cret@[::1]:5433/x", "postgresql://u@[::1]:5433/x"),
        ("postgresql://u:s3cret@host:notaport:x/db", "postgresql://u@host:notaport:x/db"),
    ],
)
def test_redact_dsn(dsn: str, expected: str) -> None:
    assert redact_dsn(dsn) == expected


# ---------------------------------------------------------------- the command line


def test_cli_ingests_a_postgres_source(loaded: tuple[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    import subprocess
    import sys

    dsn, _ = loaded
    db = tmp_path / "cli.duckdb"
    r = subprocess.run(
        [sys.executable, "-m", "analyzer", "ingest", "--db", str(db), "--json", dsn],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    [src] = json.loads(r.stdout)["sources"]
    assert (src["format"], src["rows_added"], src["quarantined"]) == ("spend-postgres", 35, 0)
    password = dsn.split(":")[2].split("@")[0]
    assert password not in r.stdout + r.stderr
    bad = dsn.replace(password, "wrong-password")
    r = subprocess.run(
        [sys.executable, "-m", "analyzer", "ingest", "--db", str(db), bad],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("ccstats: error: ")
    assert "wrong-password" not in r.stderr and "Traceback" not in r.stderr
