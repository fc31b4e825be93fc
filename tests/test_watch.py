"""Live ingest (`ccstats ingest --watch`): real watcher subprocesses, real inotify events, real files.

Every wait is bounded and polls the database read-only (as a user's `ccstats report` would); the assertions are
on exact rows, offsets and sources, never on timings.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.writers import (
    WatcherProcess,
    append,
    callback_row,
    gzip_file,
    proxy_line,
    query,
    rotate_copytruncate,
    rotate_rename,
    spend_row,
    wait_for_query,
)

IDS_SQL = "select request_id from request_log where origin = 'spend_log' order by request_id"


def rows(*request_ids: str) -> list[tuple[str]]:
    return [(r,) for r in sorted(request_ids)]


@pytest.fixture()
def setup(tmp_path: Path) -> Iterator[tuple[Path, Path, WatcherProcess]]:
    logs = tmp_path / "logs"
    logs.mkdir()
    db = tmp_path / "store.duckdb"
    w = WatcherProcess(db, [logs], tmp_path / "watch.err")
    try:
        yield logs, db, w
    finally:
        w.stop()


def _started(w: WatcherProcess) -> WatcherProcess:
    assert w.start().alive(), w.stderr()
    return w


def test_partial_line_waits_for_its_newline(setup: tuple[Path, Path, WatcherProcess]) -> None:
    logs, db, w = setup
    _started(w)
    f = logs / "spend.jsonl"
    r1, r2, r3 = spend_row("p-1", 1), spend_row("p-2", 2), spend_row("p-3", 3)
    append(f, r1 + r2 + r3[:40])
    assert wait_for_query(db, IDS_SQL, rows("p-1", "p-2")) == rows("p-1", "p-2")
    # the incomplete third line is not consumed: the stored offset ends after line 2
    assert query(db, "select offset_bytes, lines_read from sources") == [(len((r1 + r2).encode()), 2)]
    append(f, r3[40:])
    assert wait_for_query(db, IDS_SQL, rows("p-1", "p-2", "p-3")) == rows("p-1", "p-2", "p-3")
    assert query(db, "select offset_bytes, lines_read, duplicates from sources") == [(f.stat().st_size, 3, 0)]
    assert query(db, "select count(*) from quarantine") == [(0,)]
    assert w.stop() == 0


def test_rename_and_create_rotation(setup: tuple[Path, Path, WatcherProcess]) -> None:
    logs, db, w = setup
    _started(w)
    f = logs / "spend.jsonl"
    append(f, "".join(spend_row(f"a-{i}", i) for i in range(3)))
    assert wait_for_query(db, IDS_SQL, rows("a-0", "a-1", "a-2")) == rows("a-0", "a-1", "a-2")
    append(f, spend_row("a-3", 3) + spend_row("a-4", 4))  # tail the rotation may take away before it is read
    rotate_rename(f, logs / "spend.jsonl.1")
    append(f, spend_row("b-0", 10) + spend_row("b-1", 11))
    want = rows("a-0", "a-1", "a-2", "a-3", "a-4", "b-0", "b-1")
    assert wait_for_query(db, IDS_SQL, want) == want
    # the rotated file continued its source (by fingerprint): two sources, nothing read twice
    assert query(db, "select count(*), sum(duplicates), sum(lines_read) from sources") == [(2, 0, 7)]
    assert query(db, "select count(*) from quarantine") == [(0,)]


def test_copytruncate_rotation(setup: tuple[Path, Path, WatcherProcess]) -> None:
    logs, db, w = setup
    _started(w)
    f = logs / "spend.jsonl"
    append(f, "".join(spend_row(f"a-{i}", i) for i in range(3)))
    assert wait_for_query(db, IDS_SQL, rows("a-0", "a-1", "a-2")) == rows("a-0", "a-1", "a-2")
    append(f, spend_row("a-3", 3) + spend_row("a-4", 4))
    rotate_copytruncate(f, logs / "spend.jsonl.1")
    new = spend_row("b-0", 10) + spend_row("b-1", 11)
    append(f, new)
    want = rows("a-0", "a-1", "a-2", "a-3", "a-4", "b-0", "b-1")
    assert wait_for_query(db, IDS_SQL, want) == want
    # the truncated file was read again from its start, as a new source
    assert query(
        db,
        "select offset_bytes, lines_read from sources where path = ? order by source_id desc limit 1",
        [str(f)],
    ) == [(len(new.encode()), 2)]
    assert query(db, "select count(*) from quarantine") == [(0,)]


def test_delete_and_recreate(setup: tuple[Path, Path, WatcherProcess]) -> None:
    logs, db, w = setup
    _started(w)
    f = logs / "spend.jsonl"
    append(f, "".join(spend_row(f"a-{i}", i) for i in range(3)))
    assert wait_for_query(db, IDS_SQL, rows("a-0", "a-1", "a-2")) == rows("a-0", "a-1", "a-2")
    f.unlink()
    append(f, spend_row("b-0", 10))  # shorter than the old file: must not be taken for its continuation
    want = rows("a-0", "a-1", "a-2", "b-0")
    assert wait_for_query(db, IDS_SQL, want) == want
    assert query(db, "select count(*), sum(duplicates) from sources") == [(2, 0)]
    assert query(db, "select count(*) from quarantine") == [(0,)]


def test_gzipped_rotated_file_is_not_read_twice(setup: tuple[Path, Path, WatcherProcess]) -> None:
    logs, db, w = setup
    _started(w)
    f = logs / "spend.jsonl"
    append(f, "".join(spend_row(f"a-{i}", i) for i in range(3)))
    assert wait_for_query(db, IDS_SQL, rows("a-0", "a-1", "a-2")) == rows("a-0", "a-1", "a-2")
    rotate_rename(f, logs / "spend.jsonl.1")
    append(f, spend_row("b-0", 10))
    want = rows("a-0", "a-1", "a-2", "b-0")
    assert wait_for_query(db, IDS_SQL, want) == want
    gz = gzip_file(logs / "spend.jsonl.1")
    assert w.wait_for_log(f"{gz.name} +0"), w.stderr()  # the watcher looked at the .gz and added nothing
    assert query(db, IDS_SQL) == want
    # the .gz continued the rotated file's source: still two sources, no line read twice
    assert query(db, "select count(*), sum(duplicates), sum(lines_read) from sources") == [(2, 0, 4)]


def test_new_files_of_other_formats_are_followed(setup: tuple[Path, Path, WatcherProcess]) -> None:
    logs, db, w = setup
    append(logs / "spend.jsonl", spend_row("a-0", 0))
    _started(w)
    assert query(db, IDS_SQL) == rows("a-0")  # caught up before following
    sub = logs / "proxy"
    sub.mkdir()
    append(logs / "callbacks.jsonl", "".join(callback_row(f"call-{i}", i) for i in range(3)))
    append(
        sub / "proxy_stdout.log",
        "INFO:     Started server process [1]\n" + "".join(proxy_line(i) for i in range(4)),
    )
    assert wait_for_query(db, "select count(*) from callback_events", [(3,)]) == [(3,)]
    assert wait_for_query(db, "select count(*) from proxy_events", [(4,)]) == [(4,)]
    assert query(db, "select format from sources order by format") == [
        ("callback-lines",),
        ("proxy-lines",),
        ("spend-lines",),
    ]
    assert query(db, "select count(*) from quarantine") == [(0,)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_with_a_consistent_store(
    setup: tuple[Path, Path, WatcherProcess], sig: int
) -> None:
    logs, db, w = setup
    _started(w)
    f = logs / "spend.jsonl"
    written: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 5000:
            append(f, spend_row(f"s-{i:05d}", i))
            written.append(f"s-{i:05d}")
            i += 1
            time.sleep(0.002)

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert wait_for_query(db, "select count(*) >= 50 from request_log", [(True,)]) == [(True,)]
        rc = w.signal(sig)  # while the writer is still appending
    finally:
        stop.set()
        t.join()
    assert rc == 0, w.stderr()
    assert "Traceback" not in w.stderr() and "stopped" in w.stderr()
    # rows and offset agree exactly: the complete lines before the stored offset are the stored rows
    got = {r[0] for r in query(db, IDS_SQL) or []}
    ((offset,),) = query(db, "select offset_bytes from sources") or [(None,)]
    data = f.read_bytes()
    assert offset is not None and data[offset - 1 : offset] == b"\n"
    assert {json.loads(line)["request_id"] for line in data[:offset].splitlines()} == got
    # a one-shot run afterwards reads exactly the rest
    subprocess.run(
        [sys.executable, "-m", "analyzer", "ingest", "--db", str(db), str(logs)],
        check=True,
        capture_output=True,
    )
    assert query(db, IDS_SQL) == rows(*written)
    assert query(db, "select sum(duplicates) from sources") == [(0,)]


def test_readers_while_the_watcher_writes(setup: tuple[Path, Path, WatcherProcess]) -> None:
    logs, db, w = setup
    _started(w)
    f = logs / "spend.jsonl"
    n = 300

    def write() -> None:
        for i in range(n):
            append(f, spend_row(f"r-{i:04d}", i))
            time.sleep(0.01)

    t = threading.Thread(target=write)
    t.start()
    reader = ["report", "--json"] if importlib.util.find_spec("analyzer.report_cli") else ["status", "--json"]
    outs: list[subprocess.CompletedProcess[str]] = []
    try:
        while t.is_alive() or not outs:
            p = subprocess.run(
                [sys.executable, "-m", "analyzer", *reader, "--db", str(db)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            outs.append(p)
    finally:
        t.join()
    assert [p.returncode for p in outs] == [0] * len(outs), [p.stderr for p in outs]
    assert all(isinstance(json.loads(p.stdout), dict) for p in outs)
    want = rows(*(f"r-{i:04d}" for i in range(n)))
    assert wait_for_query(db, IDS_SQL, want) == want
    assert w.alive(), w.stderr()
    assert "error" not in w.stderr()
