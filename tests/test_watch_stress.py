"""Exactly once under fire: writers, rotations, truncation and SIGKILLs against a live watcher subprocess.

Three writers append 10,500 spend-log records (unique request_ids) with lines cut across write calls; files are
rotated by rename-and-create and by copytruncate, some rotated files are gzipped, some files are truncated in
place, and the watcher is killed with SIGKILL at random moments and restarted. After a final one-shot catch-up the
store must hold exactly the request_ids written, once each, with nothing in quarantine. Seeded: reproducible.

Truncation loses what the reader has not read yet, by definition; so before truncating, the writer waits until
the watcher has stored everything in the file (the expected set stays exact). copytruncate copies first, and the
writer does not append between the copy and the truncate.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

from tests.support.writers import (
    WatcherProcess,
    gzip_file,
    query,
    rotate_copytruncate,
    rotate_rename,
    spend_row,
    write_in_pieces,
)

SEED = 20261127
RECORDS = 10_500
WRITERS = 3


class Writer:
    def __init__(self, path: Path, rng: random.Random) -> None:
        self.path, self.rng = path, rng
        self.pending = b""  # the start of a line written later (a line cut across two turns)
        self.life: list[str] = []  # request_ids in the current life of the file (since creation/truncation)
        self.rotations = 0
        self.path.touch()

    def write(self, rows: list[tuple[str, str]]) -> None:
        data = self.pending + "".join(r for _, r in rows).encode()
        cut = len(data) - self.rng.randrange(0, 300) if self.rng.random() < 0.5 else len(data)
        cut = max(cut, 1)
        write_in_pieces(self.path, data[:cut], self.rng)
        self.pending = data[cut:]
        self.life.extend(rid for rid, _ in rows)

    def flush(self) -> None:
        if self.pending:
            write_in_pieces(self.path, self.pending, self.rng)
            self.pending = b""

    def rotated_name(self, tag: str) -> Path:
        self.rotations += 1
        return self.path.with_name(f"{self.path.name}.{tag}{self.rotations}")


def _wait_stored(db: Path, ids: list[str], timeout: float = 60) -> bool:
    if not ids:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = query(db, "select count(*) from request_log where request_id in (select unnest(?))", [ids])
        if got == [(len(ids),)]:
            return True
        time.sleep(0.05)
    return False


def test_exactly_once_under_rotation_truncation_and_kill9(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    logs = tmp_path / "logs"
    logs.mkdir()
    db = tmp_path / "store.duckdb"
    watcher = WatcherProcess(db, [logs], tmp_path / "watch.err")
    writers = [Writer(logs / f"w{i}.jsonl", rng) for i in range(WRITERS)]
    written: list[str] = []
    kills = renames = copytruncates = truncates = gzips = 0
    rotated: list[Path] = []
    watcher.start()
    n = 0
    try:
        while n < RECORDS:
            w = rng.choice(writers)
            batch = [
                (f"st-{i:06d}", spend_row(f"st-{i:06d}", i))
                for i in range(n, min(n + rng.randint(1, 40), RECORDS))
            ]
            n += len(batch)
            w.write(batch)
            written.extend(rid for rid, _ in batch)
            roll = rng.random()
            if roll < 0.02:  # rename-and-create
                w.flush()
                dest = w.rotated_name("r")
                rotate_rename(w.path, dest)
                rotated.append(dest)
                w.life = []
                renames += 1
            elif roll < 0.04:  # copytruncate
                w.flush()
                dest = w.rotated_name("c")
                rotate_copytruncate(w.path, dest)
                rotated.append(dest)
                w.life = []
                copytruncates += 1
            elif roll < 0.055:  # truncate in place, once the watcher has stored the file's records
                w.flush()
                if not watcher.alive():
                    watcher.start()
                assert _wait_stored(db, w.life), "watcher did not catch up before a truncation"
                with w.path.open("r+b") as f:
                    f.truncate(0)
                w.life = []
                truncates += 1
            elif roll < 0.07 and rotated:  # gzip a rotated file, as logrotate's compress does
                p = rotated.pop(int(roll * 1e6) % len(rotated))
                gzip_file(p)
                gzips += 1
            # draw every random number on every step, so the sequence does not depend on timing
            kill_roll, restart_roll, kill_after, pause = (
                rng.random(),
                rng.random(),
                rng.uniform(0, 0.3),
                rng.uniform(0, 0.004),
            )
            if watcher.alive() and kill_roll < 0.02:
                time.sleep(kill_after)  # let it get busy, then kill it at a random moment
                watcher.proc.kill()  # type: ignore[union-attr]
                watcher.proc.wait()  # type: ignore[union-attr]
                kills += 1
            elif not watcher.alive() and restart_roll < 0.1:
                watcher.start()
            time.sleep(pause)
        for w in writers:
            w.flush()
        if not watcher.alive():
            watcher.start()
    finally:
        rc = watcher.stop()
    assert rc == 0, watcher.log.read_text()[-3000:]
    print(
        f"kills={kills} renames={renames} copytruncates={copytruncates} truncates={truncates} gzips={gzips}"
    )
    assert kills >= 3 and renames >= 2 and copytruncates >= 2 and truncates >= 2 and gzips >= 1, (
        kills,
        renames,
        copytruncates,
        truncates,
        gzips,
    )
    # the final catch-up run (one-shot), as after a crash with nothing left running
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", "ingest", "--json", "--db", str(db), str(logs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert not [s for s in json.loads(done.stdout)["sources"] if s["error"]]
    assert "Traceback" not in watcher.log.read_text()
    assert len(written) == len(set(written)) == RECORDS
    got = query(db, "select request_id from request_log order by request_id") or []
    assert [r[0] for r in got] == sorted(written)
    assert query(db, "select count(*), count(distinct request_id) from request_log") == [(RECORDS, RECORDS)]
    assert query(db, "select count(*) from quarantine") == [(0,)]
