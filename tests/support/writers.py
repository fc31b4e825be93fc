"""Row builders and log writers for the live-ingest tests: LiteLLM-shaped records written the way a proxy and
logrotate do (appends split across write calls, rename-and-create, copytruncate, truncate, gzip)."""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE_TIME = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def spend_row(request_id: str, n: int = 0, model_group: str = "claude-sonnet-4-5-20250929") -> str:
    """One LiteLLM_SpendLogs row as a JSON line (request_id first, like LiteLLM writes it), newline included."""
    start = BASE_TIME + timedelta(seconds=n)
    end = start + timedelta(milliseconds=850)
    metadata = {
        "user_api_key": "hashed-key-0001",
        "user_api_key_alias": "team-a",
        "user_api_key_user_id": "default_user_id",
        "litellm_call_id": f"call-{request_id}",
        "additional_usage_values": {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024},
        "attempted_fallbacks": 0,
        "attempted_retries": 0,
    }
    row = {
        "request_id": request_id,
        "call_type": "anthropic_messages",
        "api_key": "hashed-key-0001",
        "spend": 0.0012,
        "total_tokens": 1100 + n % 7,
        "prompt_tokens": 1060,
        "completion_tokens": 40 + n % 7,
        "startTime": start.isoformat(),
        "endTime": end.isoformat(),
        "completionStartTime": end.isoformat(),
        "model": f"anthropic/{model_group}",
        "model_id": "deployment-1",
        "model_group": model_group,
        "custom_llm_provider": "anthropic",
        "api_base": "https://api.anthropic.com",
        "user": "default_user_id",
        "metadata": json.dumps(metadata),
        "request_tags": "[]",
        "status": "success",
        "session_id": "",
        "litellm_call_id": f"call-{request_id}",
    }
    return json.dumps(row) + "\n"


def callback_row(call_id: str, n: int = 0) -> str:
    """One StandardLoggingPayload (logging-callback event) as a JSON line."""
    start = (BASE_TIME + timedelta(seconds=n)).timestamp()
    row = {
        "id": f"msg_{call_id}",
        "litellm_call_id": call_id,
        "trace_id": f"trace-{call_id}",
        "call_type": "anthropic_messages",
        "status": "success",
        "custom_llm_provider": "anthropic",
        "startTime": start,
        "endTime": start + 0.85,
        "completionStartTime": start + 0.85,
        "model": "anthropic/claude-haiku-4-5-20251001",
        "model_id": "deployment-2",
        "model_group": "claude-haiku-4-5-20251001",
        "api_base": "https://api.anthropic.com",
        "prompt_tokens": 200,
        "completion_tokens": 13,
        "total_tokens": 213,
        "response_cost": 0.0003,
        "metadata": {"user_api_key_hash": "hashed-key-0001", "user_api_key_alias": "team-a"},
        "hidden_params": {"additional_headers": {}},
    }
    return json.dumps(row) + "\n"


def proxy_line(n: int, message: str = "POST /v1/messages HTTP/1.1 200") -> str:
    """One proxy JSON log line (json_logs: true); timestamps are local time without an offset."""
    ts = (BASE_TIME + timedelta(seconds=n)).replace(tzinfo=None).isoformat()
    rec = {
        "message": f"{message} #{n}",
        "level": "INFO",
        "timestamp": ts,
        "component": "uvicorn.access",
        "logger": "h11_impl.py:473",
    }
    return json.dumps(rec) + "\n"


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def write_in_pieces(path: Path, data: bytes, rng: random.Random, max_pieces: int = 4) -> None:
    """Append ``data`` with several write calls split at random byte positions (lines cut in the middle)."""
    cuts = (
        sorted(rng.sample(range(1, len(data)), min(max_pieces - 1, len(data) - 1))) if len(data) > 1 else []
    )
    with path.open("ab", buffering=0) as f:
        prev = 0
        for c in [*cuts, len(data)]:
            f.write(data[prev:c])
            prev = c


def rotate_rename(path: Path, rotated: Path) -> None:
    """logrotate's default: rename the file away; the writer then creates a new one at the old name."""
    os.rename(path, rotated)
    path.touch()


def rotate_copytruncate(path: Path, rotated: Path) -> None:
    """logrotate's copytruncate: copy, then truncate in place (the writer does not append in between)."""
    shutil.copyfile(path, rotated)
    with path.open("r+b") as f:
        f.truncate(0)


def gzip_file(path: Path) -> Path:
    """What `gzip FILE` does: write FILE.gz, then remove FILE."""
    target = path.with_name(path.name + ".gz")
    with path.open("rb") as src, gzip.open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    return target


def ids(prefix: str, numbers: Iterable[int]) -> list[str]:
    return [f"{prefix}-{i:06d}" for i in numbers]


# ---------------------------------------------------------------- the watcher as a real process, and reading its DB


class WatcherProcess:
    """`python -m analyzer ingest --watch --db DB PATHS` as a subprocess; stderr goes to a file (appended)."""

    def __init__(self, db: Path, paths: list[Path], log: Path, extra: list[str] | None = None) -> None:
        self.db, self.paths, self.log, self.extra = db, paths, log, extra or []
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    def start(self, timeout: float = 60) -> WatcherProcess:
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        cmd = [
            sys.executable,
            "-m",
            "analyzer",
            "ingest",
            "--watch",
            "--db",
            str(self.db),
            *self.extra,
            *map(str, self.paths),
        ]
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "TZ": "UTC"}
            )
        self.wait_for_log("caught up", timeout)
        return self

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")[self._log_start :] if self.log.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return True
            if self.proc is not None and self.proc.poll() is not None:
                return text in self.stderr()
            time.sleep(0.02)
        return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -999

    def stop(self) -> int | None:
        if self.alive():
            return self.signal(signal.SIGTERM)
        return self.proc.returncode if self.proc else None


def query(db: Path, sql: str, params: list[object] | None = None) -> list[tuple[Any, ...]] | None:
    """Rows of a read-only query, or None if the database cannot be opened (yet)."""
    from analyzer.db import connect
    from analyzer.errors import UserError

    try:
        con = connect(db, read_only=True)
    except UserError:
        return None
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def wait_for_query(
    db: Path, sql: str, expected: object, timeout: float = 60, params: list[object] | None = None
) -> object:
    """Poll a read-only query until it returns ``expected`` (or the timeout passes); returns the last result."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = query(db, sql, params)
        if last == expected:
            return last
        time.sleep(0.05)
    return last
