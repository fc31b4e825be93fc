"""A throwaway PostgreSQL cluster for tests: real server, real LiteLLM schema, real password auth.

* Binaries: ``$CCSTATS_PG_BINDIR`` (CI exports it), else the newest ``/usr/lib/postgresql/*/bin``, else ``initdb``
  on PATH. :func:`find_bindir` returns None when there is none (tests then ``require_or_skip``).
* PostgreSQL refuses to run as root: when we are root, initdb/pg_ctl run as the ``postgres`` OS user
  (``runuser -u postgres --``) in a temp dir owned by it.
* The server listens on 127.0.0.1 only, on a free non-default port. The superuser connects through the unix
  socket in the data dir (trust); TCP needs a password (scram-sha-256), so bad-credential tests are real.
* The schema is LiteLLM's own: every ``migration.sql`` shipped by the ``litellm-proxy-extras`` package, applied in
  directory-name order, into a template database; each test gets a fresh copy (``create database .. template``).
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEND_TABLE = "LiteLLM_SpendLogs"
READER_ROLE = "ccstats_reader"
READER_PASSWORD = "rd-Pw-7f3c9a1e-secret"  # only ever in this throwaway cluster
TEMPLATE_DB = "litellm_template"
START_TIMEOUT_S = 60


def find_bindir() -> Path | None:
    env = os.environ.get("CCSTATS_PG_BINDIR")
    candidates = [Path(env)] if env else []
    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    ]
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(which).parent)
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    return None


def _version_key(p: str) -> tuple[int, str]:
    part = Path(p).parent.name
    return (int(part), p) if part.isdigit() else (0, p)


def migrations_dir() -> Path | None:
    """LiteLLM's migrations, from the installed litellm-proxy-extras package."""
    try:
        import litellm_proxy_extras  # type: ignore[import-untyped]
    except ImportError:
        return None
    d = Path(litellm_proxy_extras.__file__).parent / "migrations"
    return d if d.is_dir() else None


def litellm_migrations() -> list[Path]:
    d = migrations_dir()
    if d is None:
        return []
    return sorted(
        (p / "migration.sql" for p in d.iterdir() if (p / "migration.sql").is_file()),
        key=lambda p: p.parent.name,
    )


def available() -> tuple[bool, str]:
    if find_bindir() is None:
        return False, "PostgreSQL binaries not found (set CCSTATS_PG_BINDIR or install postgresql)"
    if not litellm_migrations():
        return (
            False,
            "litellm-proxy-extras (LiteLLM's migrations) is not installed: pip install litellm-proxy-extras",
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False, "running as root and there is no `postgres` OS user to run the server as"
        if shutil.which("runuser") is None:
            return False, "running as root and `runuser` is missing"
    return True, ""


def free_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port != 5432:
            return port
    raise RuntimeError("no free port")


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int = 0
    _dbs: int = field(default=0, repr=False)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(
            cmd, check=check, capture_output=True, text=True, timeout=START_TIMEOUT_S, cwd="/"
        )

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self) -> None:
        last = ""
        for _ in range(3):
            self.port = free_port()
            opts = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c TimeZone=UTC"
            )
            r = self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.root / "server.log"),
                "-o",
                opts,
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
                check=False,
            )
            if r.returncode == 0:
                return
            last = r.stdout + r.stderr + self.log_tail()
        raise RuntimeError(f"postgres did not start: {last}")

    def stop(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False
        )

    def log_tail(self, n: int = 4000) -> str:
        try:
            return (self.root / "server.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # ------------------------------------------------------------ connections

    def admin(self, dbname: str = "postgres") -> Any:
        """Superuser connection (unix socket, trust), autocommit."""
        import psycopg

        return psycopg.connect(
            host=str(self.root), port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def dsn(
        self,
        dbname: str,
        *,
        user: str = READER_ROLE,
        password: str | None = READER_PASSWORD,
        port: int | None = None,
    ) -> str:
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{port or self.port}/{dbname}"

    def setup_litellm_template(self) -> None:
        """Apply LiteLLM's migrations (directory-name order) into the template DB; create the reader role."""
        with self.admin() as con:
            con.execute(f"create role {READER_ROLE} login password '{READER_PASSWORD}'")
            con.execute(f"create database {TEMPLATE_DB}")
        with self.admin(TEMPLATE_DB) as con:
            for path in litellm_migrations():
                con.execute(path.read_text(encoding="utf-8"))  # type: ignore[call-overload]
            con.execute(f"grant select on all tables in schema public to {READER_ROLE}")

    def new_database(self, *, with_schema: bool = True) -> str:
        self._dbs += 1
        name = f"litellm_{self._dbs}"
        with self.admin() as con:
            if with_schema:
                con.execute(f"create database {name} template {TEMPLATE_DB}")
            else:
                con.execute(f"create database {name}")
                con.execute(f"grant connect on database {name} to {READER_ROLE}")
        return name


@dataclass
class _Cols:
    names: list[str]
    types: dict[str, str]


def spend_columns(con: Any) -> _Cols:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = 'public' "
        "and table_name = %s order by ordinal_position",
        [SPEND_TABLE],
    ).fetchall()
    return _Cols([r[0] for r in rows], {r[0]: r[1] for r in rows})


def insert_spend_rows(con: Any, records: Iterable[Mapping[str, Any]]) -> int:
    """Insert spend-log records (as in a JSONL export) into LiteLLM_SpendLogs, field by field.

    JSON-string fields go into jsonb columns parsed; ISO timestamps with an offset are stored as the UTC
    wall-clock time (the columns are timestamp(3) without time zone, which LiteLLM fills with UTC)."""
    from psycopg import sql
    from psycopg.types.json import Jsonb

    cols = spend_columns(con)
    n = 0
    for rec in records:
        names: list[str] = []
        values: list[Any] = []
        for k, v in rec.items():
            if k not in cols.types:
                continue
            t = cols.types[k]
            if t == "jsonb":
                v = Jsonb(json.loads(v) if isinstance(v, str) else v)
            elif t.startswith("timestamp") and isinstance(v, str):
                v = _utc_naive(v)
            elif t == "integer" and isinstance(v, float):
                v = int(v)
            names.append(k)
            values.append(v)
        q = sql.SQL("insert into {} ({}) values ({})").format(
            sql.Identifier(SPEND_TABLE),
            sql.SQL(", ").join(sql.Identifier(c) for c in names),
            sql.SQL(", ").join(sql.Placeholder() for _ in names),
        )
        con.execute(q, values)
        n += 1
    return n


def _utc_naive(text: str) -> Any:
    from datetime import UTC, datetime

    d = datetime.fromisoformat(text)
    if d.tzinfo is not None:
        d = d.astimezone(UTC).replace(tzinfo=None)
    return d


def copy_generated_rows(con: Any, n: int, *, start: Any, step_ms: int = 7, prefix: str = "gen") -> None:
    """COPY ``n`` synthetic success rows (realistic metadata) into LiteLLM_SpendLogs, fast."""
    from datetime import timedelta

    meta = {
        "user_api_key": "hash-of-key",
        "user_api_key_alias": "dev",
        "user_agent": "claude-cli/2.0.14 (external, cli)",
        "additional_usage_values": {
            "cache_creation_input_tokens": 512,
            "cache_read_input_tokens": 20480,
            "prompt_tokens_details": {"text_tokens": 32, "cached_tokens": 20480, "cache_write_tokens": 512},
        },
        "used_client_oauth_token": True,
        "attempted_fallbacks": 0,
        "attempted_retries": 0,
        "max_retries": 1,
    }
    meta_text = json.dumps(meta)
    with con.cursor() as cur:
        with cur.copy(
            'copy "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens, '
            'completion_tokens, "startTime", "endTime", model, model_group, custom_llm_provider, metadata, '
            "request_tags, status, session_id) from stdin"
        ) as cp:
            for i in range(n):
                t = start + timedelta(milliseconds=i * step_ms)
                cp.write_row(
                    (
                        f"{prefix}_{i:08d}",
                        "anthropic_messages",
                        "hash-of-key",
                        0.0123,
                        21051,
                        21024,
                        27,
                        t,
                        t + timedelta(milliseconds=900),
                        "anthropic/claude-sonnet-4-5-20250929",
                        "claude-sonnet-4-5-20250929",
                        "anthropic",
                        meta_text,
                        '["User-Agent: claude-cli"]',
                        "success",
                        f"sess-{i % 97}",
                    )
                )


def make_cluster() -> Iterator[PgCluster]:
    """Start a cluster with the LiteLLM template database; stop and remove it afterwards."""
    bindir = find_bindir()
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="ccstats-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    os.chmod(root, 0o700)
    cluster = PgCluster(bindir, root)
    try:
        cluster.init()
        cluster.start()
        cluster.setup_litellm_template()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
