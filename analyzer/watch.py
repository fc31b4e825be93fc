"""Live ingest (`ccstats ingest --watch`): catch up, then follow LiteLLM log files and folders.

* Catch-up first: every file under the given files/folders/globs is read from its stored offset.
* Then file-system events (watchdog: inotify, or polling with ``poll=True``) mark files dirty; after a short
  debounce the watcher opens the database, ingests the dirty files from their stored offsets, runs
  ``after_ingest`` and closes the database again. DuckDB lets no other process open a file while one holds it for
  writing, so holding the connection only for these short batches is what lets `ccstats report`, `ccstats status`
  and notebooks read at the same time (they open read-only and retry while a batch runs).
* Exactly once comes from ingest.py: rows and the new offset commit in one transaction per chunk, a file is known
  by a fingerprint of its first bytes (rename and gzip rotation keep it), a file shorter than its stored offset was
  truncated and is read again from the start, and an unterminated trailing line waits for its newline.
* A safety rescan (stat only, no database) every few seconds catches events the OS dropped.
* SIGINT/SIGTERM: the chunk being stored commits (or a second signal rolls it back), the database is closed, and
  the command exits 0.

``measure_lag`` runs the watcher as a subprocess and measures append-to-queryable lag (used by ``make bench``).
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

import duckdb

from .db import connect, default_db_path
from .errors import UserError
from .ingest import IngestOptions, SourceSummary, after_ingest, ingest_file, load_litellm_config

DEBOUNCE_S = 0.05  # collect the events of one burst of writes into one batch
MIN_GAP_S = 0.1  # the database stays free at least this long between batches, for readers
MAX_HOLD_S = 1.0  # during a long catch-up, release the database at least this often
RESCAN_S = 5.0  # safety rescan (stat only) for events the OS dropped
GZ_SETTLE_S = 10.0  # a fresh X.gz is left alone while X still exists (gzip still running), up to this long
CONNECT_WAIT_S = 1.0  # one attempt to open the database for writing; retried until stopped
RATE_WINDOW_S = 10.0

_IGNORED_EVENTS = {"opened", "closed_no_write", "attrib"}


class _Stop(BaseException):
    """Raised from the per-chunk progress hook (after a chunk committed) when a stop was requested."""


def _abs(p: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(p))))


def _is_gzip(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(2) == b"\x1f\x8b"
    except OSError:
        return False


# ---------------------------------------------------------------- what to follow


class Targets:
    """The files, folders and globs given on the command line, and the rotated files that left them."""

    def __init__(self, paths: Iterable[str], exclude: Path) -> None:
        self.raw = list(paths)
        self.dirs: list[Path] = []
        self.files: set[Path] = set()
        self.globs: list[str] = []
        self.roots: dict[Path, bool] = {}  # folder to watch -> recursive
        self.extra: set[Path] = set()  # a followed file renamed away (rotation): its tail is still read
        self.errors: list[str] = []
        self._exclude = str(exclude)
        for raw in self.raw:
            if any(c in raw for c in "*?["):
                pattern = str(_abs(raw))
                self.globs.append(pattern)
                parts = Path(pattern).parts
                fixed = next(i for i, part in enumerate(parts) if any(c in part for c in "*?["))
                root = Path(*parts[:fixed]) if fixed else Path("/")
                self._add_root(root, recursive=fixed < len(parts) - 1 or "**" in pattern)
                continue
            p = _abs(raw)
            if p.is_dir():
                self.dirs.append(p)
                self._add_root(p, recursive=True)
            elif p.parent.is_dir():
                self.files.add(p)  # may not exist yet: followed once it appears
                self._add_root(p.parent, recursive=False)
            else:
                self.errors.append(f"{p}: no such file or folder")

    def _add_root(self, root: Path, recursive: bool) -> None:
        if not root.is_dir():
            self.errors.append(f"{root}: no such folder")
            return
        self.roots[root] = self.roots.get(root, False) or recursive

    def excluded(self, p: Path) -> bool:
        s = str(p)
        return s == self._exclude or s.startswith(self._exclude + ".")  # the database, its .wal and .tmp

    def matches(self, p: Path) -> bool:
        if self.excluded(p):
            return False
        if p in self.files or p in self.extra:
            return True
        for d in self.dirs:
            if p.is_relative_to(d) and not any(part.startswith(".") for part in p.relative_to(d).parts):
                return True
        return any(fnmatch.fnmatchcase(str(p), g) for g in self.globs)

    def scan(self) -> list[Path]:
        """Every regular file followed now."""
        found: list[Path] = []
        for d in self.dirs:
            try:
                found.extend(
                    q
                    for q in d.rglob("*")
                    if not any(part.startswith(".") for part in q.relative_to(d).parts)
                )
            except OSError:
                pass
        for g in self.globs:
            found.extend(Path(m) for m in glob.glob(g, recursive=True))
        found.extend(self.files)
        found.extend(self.extra)
        out: list[Path] = []
        seen: set[Path] = set()
        for p in found:
            p = _abs(p)
            if p in seen or self.excluded(p):
                continue
            seen.add(p)
            if p.is_file():
                out.append(p)
        self.extra = {p for p in self.extra if p.exists()}
        return out


# ---------------------------------------------------------------- events


class DirtySet:
    """Files changed since the last batch, each with the time of its first event (for the lag figure)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[Path, float] = {}
        self.wake = threading.Event()

    def mark(self, path: Path, at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        with self._lock:
            prev = self._items.get(path)
            self._items[path] = at if prev is None else min(prev, at)
        self.wake.set()

    def take(self) -> dict[Path, float]:
        with self._lock:
            items, self._items = self._items, {}
            self.wake.clear()
        return items

    def clear_wake_if_empty(self) -> None:
        with self._lock:
            if not self._items:
                self.wake.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def _make_handler(targets: Targets, dirty: DirtySet, rescan_soon: threading.Event) -> Any:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            kind = event.event_type
            if kind in _IGNORED_EVENTS:
                return
            if event.is_directory:
                if kind in ("created", "moved"):
                    rescan_soon.set()  # a folder arrived with files in it
                    dirty.wake.set()
                return
            src = _abs(os.fsdecode(event.src_path))
            if kind == "moved":
                dest = _abs(os.fsdecode(event.dest_path))
                if targets.matches(src) and not targets.matches(dest):
                    targets.extra.add(dest)  # rotated out of a followed name: finish reading its tail
                if targets.matches(dest):
                    dirty.mark(dest)
                targets.extra.discard(src)
                return
            if kind == "deleted":
                gz = src.with_name(src.name + ".gz")
                if targets.matches(src) and gz.exists():  # `gzip X` done: X.gz is complete now
                    if not targets.matches(gz):
                        targets.extra.add(gz)
                    dirty.mark(gz)
                targets.extra.discard(src)
                return
            if targets.matches(src):  # created, modified, closed (after writing)
                dirty.mark(src)

    return Handler()


# ---------------------------------------------------------------- status output


@dataclass
class WatchStats:
    files_followed: int = 0
    rows_added: int = 0
    duplicates: int = 0
    quarantined: int = 0
    batches: int = 0
    last_lag_s: float | None = None
    last_batch_at: float | None = None
    recent: deque[tuple[float, int]] = field(default_factory=deque)

    def add_rows(self, n: int) -> None:
        now = time.monotonic()
        self.recent.append((now, n))
        while self.recent and self.recent[0][0] < now - RATE_WINDOW_S:
            self.recent.popleft()

    def rate(self) -> float:
        now = time.monotonic()
        while self.recent and self.recent[0][0] < now - RATE_WINDOW_S:
            self.recent.popleft()
        return sum(n for _, n in self.recent) / RATE_WINDOW_S

    def line(self) -> str:
        lag = f"{self.last_lag_s:.2f} s" if self.last_lag_s is not None else "-"
        return (
            f"watching {self.files_followed:,} files · {self.rate():,.1f} records/s · lag {lag} · "
            f"{self.rows_added:,} added · {self.quarantined:,} quarantined"
        )


class _Status:
    """A live line on a terminal; otherwise one concise line per batch on stderr."""

    def __init__(self, stats: WatchStats) -> None:
        self.stats = stats
        self.tty = sys.stderr.isatty()
        self._live: Any = None
        self._console: Any = None
        if self.tty:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)

    def start_live(self) -> None:
        if self.tty and self._live is None:
            from rich.live import Live
            from rich.text import Text

            self._live = Live(
                Text(self.stats.line()), console=self._console, refresh_per_second=2, transient=False
            )
            self._live.start()

    def refresh(self) -> None:
        if self._live is not None:
            from rich.text import Text

            self._live.update(Text(self.stats.line()))

    def message(self, text: str) -> None:
        if self._console is not None:
            self._console.print(text, markup=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def batch(self, results: list[tuple[Path, SourceSummary]], lag: float | None) -> None:
        if self._live is not None:
            self.refresh()
            return
        if not results:
            return
        added = sum(s.rows_added for _, s in results)
        dups = sum(s.duplicates for _, s in results)
        bad = sum(s.quarantined for _, s in results)
        names = ", ".join(f"{p.name} +{s.rows_added}" for p, s in results[:4])
        more = f", +{len(results) - 4} more" if len(results) > 4 else ""
        lag_txt = f", lag {lag:.2f} s" if lag is not None else ""
        self.message(
            f"ccstats watch: +{added} rows, {dups} duplicates, {bad} quarantined{lag_txt} [{names}{more}]"
        )

    def close(self) -> None:
        if self._live is not None:
            self.refresh()
            self._live.stop()
            self._live = None


# ---------------------------------------------------------------- the watcher


class Watcher:
    def __init__(
        self,
        db_path: Path,
        paths: Sequence[str],
        opts: IngestOptions,
        *,
        poll: bool = False,
        interval: float = 1.0,
        litellm_config: str | None = None,
    ) -> None:
        self.db_path = _abs(db_path)
        self.targets = Targets(paths, self.db_path)
        self.opts = replace(opts, final=False, progress=self._progress)
        self.user_progress = opts.progress
        self.poll = poll
        self.interval = max(interval, 0.05)
        self.litellm_config = litellm_config
        self._config_mtime: float | None = None
        self._config_due = False
        self.dirty = DirtySet()
        self.stats = WatchStats()
        self.status = _Status(self.stats)
        self._stop = threading.Event()
        self._rescan_soon = threading.Event()
        self._seen: dict[Path, tuple[int, int, int]] = {}  # path -> (inode, size, mtime_ns) when last read
        self._errors: dict[Path, str] = {}
        self._last_close = 0.0
        self._signals = 0

    # -- stopping

    def request_stop(self) -> None:
        self._stop.set()
        self.dirty.wake.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        self.request_stop()
        if self._signals > 1:
            raise KeyboardInterrupt  # second signal: abandon the chunk in progress (it rolls back)

    def _progress(self, label: str, total: int) -> Callable[[int], None]:
        inner = self.user_progress(label, total) if self.user_progress else None

        def advance(n: int) -> None:  # called after each committed chunk
            if inner:
                inner(n)
            if self._stop.is_set():
                raise _Stop

        return advance

    # -- database

    def _connect(self) -> duckdb.DuckDBPyConnection | None:
        """Open for writing; wait (in short attempts) while a reader holds the file. None when stopping."""
        wait = max(0.0, MIN_GAP_S - (time.monotonic() - self._last_close))
        if wait and self._stop.wait(wait):
            return None
        warned = False
        while not self._stop.is_set():
            try:
                con = connect(self.db_path, wait_s=CONNECT_WAIT_S)
            except UserError as exc:
                if "busy" not in str(exc):
                    raise
                if not warned:
                    self.status.message("ccstats watch: database busy (a reader holds it); waiting")
                    warned = True
                continue
            self._load_config(con)
            return con
        return None

    def _close(self, con: duckdb.DuckDBPyConnection, rows_added: int) -> None:
        try:
            if rows_added:
                after_ingest(con)
        finally:
            con.close()
            self._last_close = time.monotonic()

    def _load_config(self, con: duckdb.DuckDBPyConnection) -> None:
        if not self.litellm_config:
            return
        try:
            mtime = os.stat(self.litellm_config).st_mtime
        except OSError:
            return
        if mtime != self._config_mtime:
            n = load_litellm_config(con, self.litellm_config)
            self._config_mtime = mtime
            self.status.message(f"ccstats watch: read {n} deployments from {self.litellm_config}")

    # -- scanning

    def _rescan(self) -> int:
        files = self.targets.scan()
        for p in files:
            try:
                st = os.stat(p)
            except OSError:
                continue
            if self._seen.get(p) != (st.st_ino, st.st_size, st.st_mtime_ns):
                self.dirty.mark(p)
        live = set(files)
        for p in list(self._seen):
            if p not in live:
                del self._seen[p]
        self.stats.files_followed = len(live)
        if self.litellm_config:
            try:
                if os.stat(self.litellm_config).st_mtime != self._config_mtime:
                    self.dirty.wake.set()
                    self._config_due = True
            except OSError:
                pass
        return len(files)

    def _deferred(self, p: Path) -> bool:
        """X.gz written while X still exists: gzip is probably still running; read it when X is gone."""
        if not p.name.endswith(".gz") or not _is_gzip(p):
            return False
        stem = p.with_name(p.name[:-3])
        try:
            return stem.exists() and time.time() - p.stat().st_mtime < GZ_SETTLE_S
        except OSError:
            return False

    # -- batches

    def _batch(self, items: dict[Path, float], catch_up: bool = False) -> None:
        todo: list[tuple[float, Path, float]] = []
        for p, at in items.items():
            if self.targets.excluded(p):
                continue
            try:
                st = os.stat(p)
            except OSError:
                continue  # gone (deleted or renamed): its new name has its own event
            if self._deferred(p):
                self.dirty.mark(p, at)
                continue
            todo.append((st.st_mtime, p, at))
        if not todo:
            return
        todo.sort()  # oldest first: a rotated file's tail before the new file at its old name
        con = self._connect()
        if con is None:
            return
        results: list[tuple[Path, SourceSummary]] = []
        lags: list[float] = []
        opened = time.monotonic()
        held_rows = 0
        try:
            for i, (_, p, at) in enumerate(todo):
                if self._stop.is_set():
                    break
                if i and time.monotonic() - opened > MAX_HOLD_S:  # let readers in during a long catch-up
                    self._close(con, held_rows)
                    held_rows = 0
                    con = self._connect()
                    if con is None:
                        return
                    opened = time.monotonic()
                try:
                    st = os.stat(p)
                    self._seen[p] = (st.st_ino, st.st_size, st.st_mtime_ns)
                    summary = ingest_file(con, p, self.opts)
                except _Stop:
                    break
                except (UserError, duckdb.Error, OSError) as exc:
                    summary = SourceSummary(str(p), error=str(exc))
                done = time.monotonic()
                held_rows += summary.rows_added
                self._record(p, summary)
                results.append((p, summary))
                if summary.bytes_read and not catch_up:
                    lags.append(done - at)
        finally:
            if con is not None:
                self._close(con, held_rows)
        lag = max(lags) if lags else None
        self.stats.batches += 1
        self.stats.last_batch_at = time.monotonic()
        if lag is not None:
            self.stats.last_lag_s = lag
        if not catch_up:
            self.status.batch(results, lag)

    def _record(self, p: Path, s: SourceSummary) -> None:
        self.stats.rows_added += s.rows_added
        self.stats.duplicates += s.duplicates
        self.stats.quarantined += s.quarantined
        if s.rows_added:
            self.stats.add_rows(s.rows_added)
        if s.error:
            if self._errors.get(p) != s.error:  # once per path and message, not at every event
                self.status.message(f"ccstats watch: error: {p}: {s.error}")
            self._errors[p] = s.error
        else:
            self._errors.pop(p, None)

    # -- main loop

    def run(self) -> None:
        for e in self.targets.errors:
            self.status.message(f"ccstats: error: {e}")
        if not self.targets.roots:
            raise UserError("nothing to watch: " + "; ".join(self.targets.errors or ["no paths given"]))
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        observer = self._observer()
        observer.start()  # before the catch-up, so nothing written meanwhile is missed
        try:
            started = time.monotonic()
            files = self._rescan()
            self._batch(self.dirty.take(), catch_up=True)
            mode = f"polling every {self.interval:g} s" if self.poll else "inotify"
            self.status.message(
                f"ccstats watch: caught up {files} files (+{self.stats.rows_added:,} rows) in "
                f"{time.monotonic() - started:.1f} s; watching {len(self.targets.roots)} folders ({mode}); "
                f"database {self.db_path}"
            )
            self.status.start_live()
            self._loop()
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            observer.stop()
            observer.join(timeout=5)
            self.status.close()
            for s, h in old.items():
                signal.signal(s, h)
        self.status.message(f"ccstats watch: stopped ({self.stats.rows_added:,} rows added)")

    def _observer(self) -> Any:
        if self.poll:
            from watchdog.observers.polling import PollingObserver

            observer: Any = PollingObserver(timeout=self.interval)
        else:
            from watchdog.observers import Observer

            observer = Observer()
        handler = _make_handler(self.targets, self.dirty, self._rescan_soon)
        for root, recursive in self.targets.roots.items():
            observer.schedule(handler, str(root), recursive=recursive)
        return observer

    def _loop(self) -> None:
        next_rescan = time.monotonic() + RESCAN_S
        while not self._stop.is_set():
            self.dirty.wake.wait(timeout=min(0.5, max(0.0, next_rescan - time.monotonic())))
            if self._stop.is_set():
                break
            now = time.monotonic()
            if now >= next_rescan or self._rescan_soon.is_set():
                self._rescan_soon.clear()
                self._rescan()
                next_rescan = now + RESCAN_S
            if self._config_due:
                self._config_due = False
                con = self._connect()
                if con is not None:
                    self._close(con, 0)
            if len(self.dirty):
                if self._stop.wait(DEBOUNCE_S):
                    break
                self._batch(self.dirty.take())
            else:
                self.dirty.clear_wake_if_empty()
            self.status.refresh()


def watch(
    db_path: str | os.PathLike[str] | None,
    paths: Sequence[str],
    opts: IngestOptions,
    *,
    poll: bool = False,
    interval: float = 1.0,
    litellm_config: str | None = None,
) -> None:
    """Catch up on ``paths`` (files, folders, globs), then follow them until SIGINT/SIGTERM."""
    target = Path(db_path) if db_path else default_db_path()
    Watcher(target, paths, opts, poll=poll, interval=interval, litellm_config=litellm_config).run()


# ---------------------------------------------------------------- lag measurement (make bench)


def _bench_row(request_id: str, n: int) -> str:
    start = f"2026-11-27T10:{(n // 60) % 60:02d}:{n % 60:02d}.000000+00:00"
    meta = json.dumps({"user_api_key": "bench-key", "litellm_call_id": f"call-{request_id}"})
    return (
        json.dumps(
            {
                "request_id": request_id,
                "call_type": "anthropic_messages",
                "api_key": "bench-key",
                "spend": 0.001,
                "total_tokens": 120,
                "prompt_tokens": 100,
                "completion_tokens": 20,
                "startTime": start,
                "endTime": start,
                "model": "anthropic/claude-sonnet-4-5-20250929",
                "model_group": "claude-sonnet-4-5-20250929",
                "custom_llm_provider": "anthropic",
                "metadata": meta,
                "status": "success",
            }
        )
        + "\n"
    )


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[k]


def measure_lag(
    db_path: str | os.PathLike[str] | None = None,
    rate_per_s: float = 100.0,
    seconds: float = 10.0,
    *,
    poll: bool = False,
    poll_every_s: float = 0.05,
) -> dict[str, float | int]:
    """Append-to-queryable lag of a watcher subprocess on a temp folder, at ``rate_per_s`` spend-log records
    per second for ``seconds``. A reader polls the database read-only (as `ccstats report` would) for each
    request_id. Returns records, seen, p50_s, p95_s, max_s (seconds)."""
    import subprocess
    import tempfile
    import uuid

    token = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="ccstats-lag-") as tmp:
        logs = Path(tmp) / "logs"
        logs.mkdir()
        db = _abs(db_path) if db_path else Path(tmp) / "lag.duckdb"
        err_path = Path(tmp) / "watch.err"
        cmd = [sys.executable, "-m", "analyzer", "ingest", "--watch", "--db", str(db), str(logs)]
        if poll:
            cmd.append("--poll")
        with err_path.open("wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 60
            while b"caught up" not in err_path.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "watcher did not start: " + err_path.read_text(errors="replace")[-2000:]
                    )
                time.sleep(0.05)
            n = max(1, int(rate_per_s * seconds))
            appended: dict[str, float] = {}
            log = logs / "spend.jsonl"

            def write() -> None:
                t0 = time.monotonic()
                with log.open("ab", buffering=0) as f:
                    for i in range(n):
                        delay = t0 + i / rate_per_s - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                        rid = f"lag-{token}-{i:07d}"
                        f.write(_bench_row(rid, i).encode())
                        appended[rid] = time.monotonic()

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            seen: dict[str, float] = {}
            deadline = time.monotonic() + seconds + 60
            while len(seen) < n and time.monotonic() < deadline:
                time.sleep(poll_every_s)
                try:
                    con = connect(db, read_only=True, wait_s=0.5)
                except UserError:
                    continue
                try:
                    rows = con.execute(
                        "select request_id from request_log where starts_with(request_id, ?)",
                        [f"lag-{token}-"],
                    ).fetchall()
                finally:
                    con.close()
                now = time.monotonic()
                for (rid,) in rows:
                    seen.setdefault(rid, now)
            writer.join(timeout=seconds + 60)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        lags = [seen[r] - appended[r] for r in seen if r in appended]
        return {
            "records": n,
            "seen": len(seen),
            "rate_per_s": rate_per_s,
            "p50_s": _percentile(lags, 0.5),
            "p95_s": _percentile(lags, 0.95),
            "max_s": max(lags) if lags else float("nan"),
            "watcher_exit_code": proc.returncode,
        }


if __name__ == "__main__":  # python -m analyzer.watch: print a lag measurement
    print(json.dumps(measure_lag(), indent=2))
