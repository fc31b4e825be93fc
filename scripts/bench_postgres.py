"""Rows per second for `ccstats ingest postgresql://...` on a throwaway PostgreSQL with LiteLLM's real schema.

    .venv/bin/python scripts/bench_postgres.py -n 1000000

Starts a cluster on 127.0.0.1 (Debian's postgresql binaries; as root the server runs as the `postgres` user),
applies LiteLLM's own migrations (the litellm-proxy-extras package), loads N generated spend rows
(analyzer.synth, the same shapes as `make bench`) with COPY, then times a cold `ccstats ingest` of the table
into a fresh DuckDB file. `make bench` measures the same thing on any server given as CCSTATS_PG_DSN.
"""

from __future__ import annotations

import argparse
import json
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


def load(cluster: pg.PgCluster, db: str, path: Path) -> int:
    # JSON-string columns become jsonb; created_at/updated_at are NOT NULL with defaults populate_record skips.
    cast = ", ".join(f"'{c}', (doc->>'{c}')::jsonb" for c in JSON_COLUMNS)
    cast += ", 'created_at', doc->'startTime', 'updated_at', doc->'startTime'"
    with cluster.admin(db) as con:
        con.execute("create unlogged table staging (doc jsonb)")
        with (
            con.cursor() as cur,
            cur.copy(
                "copy staging (doc) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')"
            ) as copy,
            path.open("rb") as f,
        ):
            while chunk := f.read(8 << 20):
                copy.write(chunk)
        con.execute(
            f'insert into "{pg.SPEND_TABLE}" select (jsonb_populate_record(null::"{pg.SPEND_TABLE}", '
            f"doc || jsonb_build_object({cast}))).* from staging"
        )
        con.execute("drop table staging")
        con.execute(f'analyze "{pg.SPEND_TABLE}"')
        return con.execute(f'select count(*) from "{pg.SPEND_TABLE}"').fetchone()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="spend rows to load (default 100,000)")
    ap.add_argument("--seed", type=int, default=20261102)
    a = ap.parse_args()
    ok, why = pg.available()
    if not ok:
        print(f"no PostgreSQL here: {why}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="ccstats-pgbench-"))
    gen = iter(pg.make_cluster())
    cluster = next(gen)
    try:
        db = cluster.new_database()
        spend = work / "spend.jsonl"
        t0 = time.perf_counter()
        synth.write_spend_jsonl(spend, a.n, a.seed)
        rows = load(cluster, db, spend)
        spend.unlink()
        print(f"loaded {rows:,} rows into PostgreSQL in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        store = work / "pg.duckdb"
        t0 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "analyzer", "ingest", "--db", str(store), "--json", cluster.dsn(db)],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        seconds = time.perf_counter() - t0
        if r.returncode:
            print(r.stderr, file=sys.stderr)
            return r.returncode
        added = sum(s["rows_added"] for s in json.loads(r.stdout)["sources"])
        print(
            json.dumps(
                {
                    "rows": rows,
                    "added": added,
                    "seconds": round(seconds, 1),
                    "rows_per_s": round(added / seconds),
                }
            )
        )
        return 0
    finally:
        try:
            next(gen)
        except StopIteration:
            pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
