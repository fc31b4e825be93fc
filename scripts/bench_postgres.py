"""Rows per second for `ccstats ingest postgresql://...` on a PostgreSQL with LiteLLM's real schema.

    .venv/bin/python scripts/bench_postgres.py -n 100000              # throwaway cluster, timed ingest, gone
    .venv/bin/python scripts/bench_postgres.py -n 1000000 --keep /work/pgbench --port 55432 --load-only
    export CCSTATS_PG_DSN=postgresql://...                             # the line it prints; then `make bench`
    .venv/bin/python scripts/bench_postgres.py --stop /work/pgbench   # shut the kept server down

Starts a cluster on 127.0.0.1 (Debian's postgresql binaries; as root the server runs as the `postgres` user),
applies LiteLLM's own migrations (the litellm-proxy-extras package), streams N generated spend rows
(analyzer.synth, the same shapes as `make bench`) in with COPY (no intermediate JSONL file), then times a cold `ccstats ingest` of the table into a fresh DuckDB file. `make bench` measures the same
thing on any server given as CCSTATS_PG_DSN.

``--keep DIR`` leaves the loaded server running in DIR (data dir DIR/data, port from ``--port``, 127.0.0.1 only)
and prints the DSN; run again with the same DIR to restart it without reloading. ``--lz4`` stores the JSON
columns with lz4 TOAST compression (a storage setting, not a schema change) instead of pglz.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analyzer import synth  # noqa: E402
from tests.support import pg  # noqa: E402

# JSON columns that a spend-log export carries as JSON strings; the table stores them as jsonb.
JSON_COLUMNS = ("metadata", "request_tags", "messages", "response", "proxy_server_request")
KEEP_DB = "litellm"


def load(cluster: pg.PgCluster, db: str, n: int, seed: int, *, lz4: bool = False) -> int:
    """Generate ``n`` spend rows and COPY them straight into the spend table (no staging, no JSONL file).

    Each record's fields go into the columns of the same name as text (JSON-string fields into the jsonb columns,
    ISO timestamps into LiteLLM's timestamp(3) columns, as the generator writes them in UTC);
    created_at/updated_at, NOT NULL, get the start time."""
    from psycopg import sql

    with cluster.admin(db) as con:
        if lz4:
            for c in JSON_COLUMNS:
                con.execute(f'alter table "{pg.SPEND_TABLE}" alter column "{c}" set compression lz4')
        types = pg.spend_columns(con).types
        reqs = synth.generate_requests(n, seed)
        first = next(reqs, None)
        if first is not None:
            # The columns: the first record's fields that the table has (every generated row has the same keys).
            cols = [k for k in json.loads(synth.spend_row_text(first)) if k in types]
            copy_sql = sql.SQL("copy {} ({}, created_at, updated_at) from stdin").format(
                sql.Identifier(pg.SPEND_TABLE), sql.SQL(", ").join(map(sql.Identifier, cols))
            )
            with con.cursor() as cur, cur.copy(copy_sql) as copy:
                for i, req in enumerate(itertools.chain([first], reqs)):
                    rec = json.loads(synth.spend_row_text(req))
                    copy.write_row([_text(rec.get(c), types[c]) for c in cols] + [rec["startTime"]] * 2)
                    if i % 20_000 == 0:
                        print(f"  {i:,} rows loaded", file=sys.stderr, end="\r", flush=True)
        con.execute(f'vacuum analyze "{pg.SPEND_TABLE}"')
        return int(con.execute(f'select count(*) from "{pg.SPEND_TABLE}"').fetchone()[0])


def _text(v: object, typ: str) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and typ == "integer":
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def table_bytes(cluster: pg.PgCluster, db: str) -> int:
    with cluster.admin(db) as con:
        return int(con.execute(f"select pg_total_relation_size('\"{pg.SPEND_TABLE}\"')").fetchone()[0])


def timed_ingest(dsn: str, store: Path) -> dict[str, object]:
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "analyzer", "ingest", "--db", str(store), "--json", dsn],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    seconds = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(r.stderr.strip() or f"ccstats ingest exited {r.returncode}")
    sources = json.loads(r.stdout)["sources"]
    added = sum(s["rows_added"] for s in sources)
    read = sum(s.get("bytes_read") or 0 for s in sources)
    return {
        "added": added,
        "seconds": round(seconds, 1),
        "rows_per_s": round(added / seconds),
        "mb_per_s": round(read / 1e6 / seconds, 1) if read else None,
    }


# ---------------------------------------------------------------- a kept cluster


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _pg_ctl(cluster: pg.PgCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_postgres([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.datadir), *args]),
        capture_output=True,
        text=True,
        timeout=pg.START_TIMEOUT_S + 30,
        cwd="/",
    )


def _running(cluster: pg.PgCluster) -> bool:
    return _pg_ctl(cluster, "status").returncode == 0


def _start_on(cluster: pg.PgCluster, port: int) -> None:
    cluster.port = port
    opts = (
        f"-p {port} -k {cluster.root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c TimeZone=UTC -c max_wal_size=1GB"
    )
    r = _pg_ctl(cluster, "-l", str(cluster.root / "server.log"), "-o", opts, "-w", "-t", "60", "start")
    if r.returncode:
        raise SystemExit(f"postgres did not start on port {port}: {(r.stdout + r.stderr).strip()}")
    (cluster.root / "port").write_text(f"{port}\n")


def keep(root: Path, port: int, n: int, seed: int, *, lz4: bool) -> pg.PgCluster:
    """The cluster in ``root``: created and loaded when new, (re)started when stopped."""
    bindir = pg.find_bindir()
    assert bindir is not None
    cluster = pg.PgCluster(bindir, root)
    if (cluster.datadir / "PG_VERSION").exists():
        if _running(cluster):
            cluster.port = int((root / "port").read_text())
        else:
            _start_on(cluster, port)
        print(f"server in {root} is running on 127.0.0.1:{cluster.port} (not reloaded)", file=sys.stderr)
        return cluster
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} exists and is not a cluster made by this script: pick an empty directory")
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    os.chmod(root, 0o700)
    cluster.init()
    _start_on(cluster, port)
    cluster.setup_litellm_template()
    with cluster.admin() as con:
        con.execute(f"create database {KEEP_DB} template {pg.TEMPLATE_DB}")
    t0 = time.perf_counter()
    rows = load(cluster, KEEP_DB, n, seed, lz4=lz4)
    print(
        f"loaded {rows:,} rows into PostgreSQL in {time.perf_counter() - t0:.0f} s; "
        f"table {table_bytes(cluster, KEEP_DB) / 1e9:.2f} GB",
        file=sys.stderr,
    )
    return cluster


def stop(root: Path) -> int:
    bindir = pg.find_bindir()
    assert bindir is not None
    cluster = pg.PgCluster(bindir, root)
    if not (cluster.datadir / "PG_VERSION").exists():
        print(f"no cluster in {root}", file=sys.stderr)
        return 1
    r = _pg_ctl(cluster, "-m", "fast", "-w", "stop")
    print((r.stdout + r.stderr).strip(), file=sys.stderr)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="spend rows to load (default 100,000)")
    ap.add_argument("--seed", type=int, default=20261102)
    ap.add_argument("--keep", type=Path, metavar="DIR", help="leave the loaded server running in DIR")
    ap.add_argument("--port", type=int, default=55432, help="port of the kept server (default 55432)")
    ap.add_argument("--stop", type=Path, metavar="DIR", help="shut down the server kept in DIR, and exit")
    ap.add_argument("--load-only", action="store_true", help="with --keep: no timed ingest")
    ap.add_argument("--lz4", action="store_true", help="lz4 TOAST compression for the JSON columns")
    a = ap.parse_args()
    if a.stop:
        return stop(a.stop.resolve())
    ok, why = pg.available()
    if not ok:
        print(f"no PostgreSQL here: {why}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="ccstats-pgbench-"))
    try:
        if a.keep:
            root = a.keep.resolve()
            cluster = keep(root, a.port, a.n, a.seed, lz4=a.lz4)
            dsn = cluster.dsn(KEEP_DB)
            print(f"export CCSTATS_PG_DSN='{dsn}'")
            print(f"stop it with: {sys.executable} {Path(__file__).resolve()} --stop {root}", file=sys.stderr)
            if not a.load_only:
                print(json.dumps(timed_ingest(dsn, work / "pg.duckdb")))
            return 0
        gen = iter(pg.make_cluster())
        cluster = next(gen)
        try:
            db = cluster.new_database()
            t0 = time.perf_counter()
            rows = load(cluster, db, a.n, a.seed, lz4=a.lz4)
            size = table_bytes(cluster, db)
            print(
                f"loaded {rows:,} rows into PostgreSQL in {time.perf_counter() - t0:.0f} s", file=sys.stderr
            )
            res = {"rows": rows, "table_bytes": size, "bytes_per_row": round(size / max(rows, 1))}
            res.update(timed_ingest(cluster.dsn(db), work / "pg.duckdb"))
            print(json.dumps(res))
            return 0
        finally:
            try:
                next(gen)
            except StopIteration:
                pass
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
