"""Transcript files new to the store, read whole by DuckDB (ingest._bulk_store): offsets, line counts, pending
tails, quarantine, redaction and the files it leaves to the chunked path, then incremental ingests that continue
from the stored offsets. Each case is checked exactly, and against the chunked path (BULK_BYTES = 0)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analyzer import connect, ingest_paths
from analyzer import ingest as ingest_mod
from analyzer.ingest import IngestOptions

TIMES = {"ingested_at", "first_ingest", "last_ingest", "quarantined_at"}
TABLES = ("request_log", "transcript_entries", "quarantine", "sources")
SECRET = "sk-ant-api03-" + "Z" * 40


def _line(n: int, session: str, *, msg: str | None = None, extra: str = "") -> str:
    return json.dumps(
        {
            "type": "assistant",
            "sessionId": session,
            "requestId": f"req_{msg or f'msg_bulk_{n}'}",
            "uuid": f"00000000-0000-4000-8000-{n:012d}",
            "timestamp": f"2026-11-27T10:{n % 60:02d}:00.000Z",
            "version": "2.0.1",
            "cwd": "/work/bulk" + extra,
            "message": {
                "id": msg or f"msg_bulk_{n}",
                "model": "claude-sonnet-4-5-20250929",
                "usage": {"input_tokens": 10 + n, "output_tokens": 2, "cache_read_input_tokens": 0},
            },
        },
        separators=(",", ":"),
    )


def _folder(root: Path) -> Path:
    p = root / "projects" / "-work-bulk"
    p.mkdir(parents=True)
    (p / "a.jsonl").write_text(_line(1, "s-a") + "\n" + _line(2, "s-a") + "\n")
    # complete last record without its newline: read now (one-shot ingest), offset = the file's size
    (p / "b.jsonl").write_text(_line(3, "s-b") + "\n" + _line(4, "s-b"))
    # a writer mid-line: the partial line waits
    (p / "c.jsonl").write_text(_line(5, "s-c") + "\n" + _line(6, "s-c")[:50])
    # a malformed line (line 2) after a line holding a credential (redacted before it is stored)
    (p / "d.jsonl").write_text(
        _line(7, "s-d", extra=f" Bearer {SECRET}")
        + "\n"
        + '{"usage":{"input_tokens": 3, broken\n'
        + _line(8, "s-d")
        + "\n"
    )
    # not UTF-8: left to the chunked path, which quarantines the bad line only
    (p / "e.jsonl").write_bytes(
        _line(9, "s-e").encode() + b"\n" + b'{"usage":{"x":"\xff"}}\n' + _line(10, "s-e").encode() + b"\n"
    )
    # a line with a NUL byte: chunked path too
    (p / "f.jsonl").write_bytes(_line(11, "s-f").encode() + b"\n" + b'{"usage":{"x":"\x00"}}\n')
    # the same response as a.jsonl line 1, more tokens in a later file: a duplicate there, the copy here wins
    (p / "g.jsonl").write_text(_line(12, "s-g", msg="msg_bulk_1") + "\n")
    return p


def _table(con: Any, table: str) -> list[tuple[Any, ...]]:
    cols = [r[0] for r in con.execute(f"describe {table}").fetchall() if r[0] not in TIMES]
    return [tuple(r) for r in con.execute(f"select {', '.join(cols)} from {table} order by all").fetchall()]


def _ingest(db: Path, root: Path, **opts: Any) -> dict[str, dict[str, object]]:
    con = connect(db)
    try:
        summaries, errors = ingest_paths(con, [str(root / "projects")], IngestOptions(**opts))
    finally:
        con.close()
    assert errors == []
    return {Path(s.path).name: s.as_dict() for s in summaries}


def _tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = connect(db, read_only=True)
    try:
        return {t: _table(con, t) for t in TABLES}
    finally:
        con.close()


def _both(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch, **opts: Any
) -> dict[str, dict[str, object]]:
    """Ingest into the bulk store and the chunked one; both must agree on summaries and every table."""
    out = {}
    for name, bulk in (("bulk", ingest_mod.BULK_BYTES), ("chunked", 0)):
        with monkeypatch.context() as m:
            m.setattr(ingest_mod, "BULK_BYTES", bulk)
            out[name] = _ingest(tmp_path / f"{name}.duckdb", root, **opts)
    assert out["bulk"] == out["chunked"]
    assert _tables(tmp_path / "bulk.duckdb") == _tables(tmp_path / "chunked.duckdb")
    return out["bulk"]


def _q(db: Path, q: str) -> list[tuple[Any, ...]]:
    con = connect(db, read_only=True)
    try:
        return [tuple(r) for r in con.execute(q).fetchall()]
    finally:
        con.close()


def test_cold_bulk_then_appends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "claude"
    p = _folder(root)
    db = tmp_path / "bulk.duckdb"
    first = _both(tmp_path, root, monkeypatch)
    sizes = {f.name: f.stat().st_size for f in p.iterdir()}
    got = {
        k: (
            v["rows_added"],
            v["duplicates"],
            v["quarantined"],
            v["lines"],
            v["bytes_read"],
            v["pending_tail"],
        )
        for k, v in first.items()
    }
    c_tail = len(_line(6, "s-c")[:50])
    assert got == {
        "a.jsonl": (2, 0, 0, 2, sizes["a.jsonl"], False),
        "b.jsonl": (2, 0, 0, 2, sizes["b.jsonl"] + 1, False),  # + the newline the reader adds
        "c.jsonl": (1, 0, 0, 1, sizes["c.jsonl"] - c_tail, True),
        "d.jsonl": (2, 0, 1, 3, sizes["d.jsonl"], False),
        "e.jsonl": (2, 0, 1, 3, sizes["e.jsonl"], False),
        "f.jsonl": (1, 0, 1, 2, sizes["f.jsonl"], False),
        "g.jsonl": (0, 1, 0, 1, sizes["g.jsonl"], False),
    }
    assert _q(db, "select path, offset_bytes, lines_read from sources order by path") == [
        (str(p / n), sizes[n] - (c_tail if n == "c.jsonl" else 0), got[n][3]) for n in sorted(got)
    ]
    d_line1 = len(_line(7, "s-d", extra=f" Bearer {SECRET}")) + 1
    e_line1 = len(_line(9, "s-e")) + 1
    f_line1 = len(_line(11, "s-f")) + 1
    assert _q(db, "select path, line_no, byte_offset, reason from quarantine order by path") == [
        (str(p / "d.jsonl"), 2, d_line1, "malformed JSON"),
        (str(p / "e.jsonl"), 2, e_line1, "invalid UTF-8 at byte 15"),
        (str(p / "f.jsonl"), 2, f_line1, "NUL byte in line"),
    ]
    assert _q(db, "select count(*), count(distinct entry_key) from transcript_entries") == [(10, 10)]
    assert _q(
        db, "select source_path, input_tokens from transcript_entries where message_id = 'msg_bulk_1'"
    ) == [(str(p / "g.jsonl"), 22)]
    # the credential never reaches the store, in no table
    for t in TABLES:
        assert SECRET not in str(_table_all(db, t))
    assert _q(db, "select cwd from transcript_entries where session_id = 's-d' order by source_line")[0][
        0
    ].startswith("/work/bulk Bearer [REDACTED:anthropic-api:")

    # appends: the partial line completed, one more line in a; a new file; nothing else re-read
    with (p / "c.jsonl").open("a") as f:
        f.write(_line(6, "s-c")[50:] + "\n")
    with (p / "a.jsonl").open("a") as f:
        f.write(_line(13, "s-a") + "\n")
    (p / "h.jsonl").write_text(_line(14, "s-h") + "\n")
    second = _both(tmp_path, root, monkeypatch)
    got2 = {
        k: (v["rows_added"], v["lines"], v["bytes_read"], v["pending_tail"], v["note"])
        for k, v in second.items()
    }
    assert got2["a.jsonl"] == (1, 1, len(_line(13, "s-a")) + 1, False, "")
    assert got2["c.jsonl"] == (1, 1, len(_line(6, "s-c")) + 1, False, "")  # the whole line, from its start
    assert got2["h.jsonl"] == (1, 1, len(_line(14, "s-h")) + 1, False, "")
    for n in ("b.jsonl", "d.jsonl", "e.jsonl", "f.jsonl", "g.jsonl"):
        assert got2[n] == (0, 0, 0, False, "already up to date")
    assert _q(db, "select count(*), count(distinct entry_key) from transcript_entries") == [(13, 13)]
    assert _q(db, "select count(*) from request_log where origin = 'claude_code'") == [(13,)]
    assert _q(db, "select lines_read, offset_bytes from sources where path like '%/a.jsonl'") == [
        (3, (p / "a.jsonl").stat().st_size)
    ]
    assert _q(db, "select lines_read, offset_bytes from sources where path like '%/c.jsonl'") == [
        (2, (p / "c.jsonl").stat().st_size)
    ]


def _table_all(db: Path, table: str) -> list[tuple[Any, ...]]:
    return _q(db, f"select * from {table}")


def test_unterminated_complete_line_waits_while_watching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """final=False (the watcher): even a complete last record waits for its newline, then is read once."""
    root = tmp_path / "claude"
    p = root / "projects" / "-work-bulk"
    p.mkdir(parents=True)
    (p / "w.jsonl").write_text(_line(1, "s-w") + "\n" + _line(2, "s-w"))
    (p / "only.jsonl").write_text(_line(3, "s-o"))  # no complete line at all
    first = _both(tmp_path, root, monkeypatch, final=False)
    assert (first["w.jsonl"]["rows_added"], first["w.jsonl"]["lines"], first["w.jsonl"]["pending_tail"]) == (
        1,
        1,
        True,
    )
    assert (
        first["only.jsonl"]["rows_added"],
        first["only.jsonl"]["pending_tail"],
        first["only.jsonl"]["note"],
    ) == (
        0,
        True,
        "already up to date",
    )
    db = tmp_path / "bulk.duckdb"
    assert _q(db, "select path, offset_bytes, lines_read from sources order by path") == [
        (str(p / "only.jsonl"), 0, 0),
        (str(p / "w.jsonl"), len(_line(1, "s-w")) + 1, 1),
    ]
    for f in ("w.jsonl", "only.jsonl"):
        with (p / f).open("a") as fh:
            fh.write("\n")
    second = _both(tmp_path, root, monkeypatch, final=False)
    assert (second["w.jsonl"]["rows_added"], second["w.jsonl"]["lines"]) == (1, 1)
    assert (second["only.jsonl"]["rows_added"], second["only.jsonl"]["lines"]) == (1, 1)
    assert _q(db, "select count(*), count(distinct entry_key) from transcript_entries") == [(3, 3)]


def test_bulk_read_keeps_no_credential_in_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's bulk read keeps no text of a file that may hold a credential (the scratch tables could spill to
    disk): Python reads such a file itself and redacts it first. A file that only looks suspect ("task-1")
    is stored unchanged, and both kinds match the chunked path."""
    root = tmp_path / "claude"
    p = root / "projects" / "-work-bulk"
    p.mkdir(parents=True)
    (p / "secret.jsonl").write_text(_line(1, "s-1", extra=f" x-api-key: {SECRET}") + "\n")
    (p / "task.jsonl").write_text(_line(2, "s-2", extra=" task-1234") + "\n")
    (p / "plain.jsonl").write_text(_line(3, "s-3") + "\n")
    seen: list[list[tuple[Any, ...]]] = []
    scratch: list[str] = []  # every value of every table of the scratch database, as the store begins
    real = ingest_mod._bulk_store_tx

    def spy(con: Any, files: list[Any], prepared: str, *args: Any) -> Any:
        seen.append(
            [
                (files[pos].path.name, suspect)
                for pos, suspect in con.execute(
                    f"select pos, suspect from {prepared}_files order by pos"
                ).fetchall()
            ]
        )
        for (table,) in con.execute(
            "select table_name from duckdb_tables() where database_name = ?", [ingest_mod.SCRATCH]
        ).fetchall():
            scratch.append(str(con.execute(f"select * from {ingest_mod.SCRATCH}.{table}").fetchall()))
        return real(con, files, prepared, *args)

    monkeypatch.setattr(ingest_mod, "_bulk_store_tx", spy)
    summaries = _both(tmp_path, root, monkeypatch)
    assert len(seen) == 1  # the bulk store only; the chunked one never reads in bulk
    assert seen[0] == [("plain.jsonl", False), ("secret.jsonl", True), ("task.jsonl", True)]
    assert len(scratch) == 3  # files, normalised lines, offsets
    assert "s-3" in "".join(scratch)  # the plain file was normalised by the reader
    assert not any(s in "".join(scratch) for s in (SECRET, "s-1", "s-2", "task-1234"))
    assert {k: v["rows_added"] for k, v in summaries.items()} == {
        "plain.jsonl": 1,
        "secret.jsonl": 1,
        "task.jsonl": 1,
    }
    db = tmp_path / "bulk.duckdb"
    cwd = dict(_q(db, "select session_id, cwd from transcript_entries"))
    assert cwd["s-2"] == "/work/bulk task-1234"
    assert cwd["s-1"].startswith("/work/bulk x-api-key: [REDACTED:anthropic-api:")
    for t in TABLES:
        assert SECRET not in str(_table_all(db, t))


def test_next_batch_is_read_while_one_is_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With batches of one file, the read of the next batch runs (on its own connection and thread) while the
    current batch is stored; the tables equal those of the chunked path."""
    root = tmp_path / "claude"
    p = root / "projects" / "-work-bulk"
    p.mkdir(parents=True)
    for i in range(4):
        (p / f"{i}.jsonl").write_text(_line(2 * i, f"s-{i}") + "\n" + _line(2 * i + 1, f"s-{i}") + "\n")
    started: dict[str, threading.Event] = {f"{i}.jsonl": threading.Event() for i in range(4)}
    overlapped: list[bool] = []
    real_read, real_store = ingest_mod._bulk_read, ingest_mod._bulk_store_tx

    def read(con: Any, paths: list[str], sizes: list[int]) -> Any:
        assert threading.current_thread() is not threading.main_thread()
        started[Path(paths[0]).name].set()
        return real_read(con, paths, sizes)

    def store(con: Any, files: list[Any], *args: Any) -> Any:
        name = files[0].path.name
        after = f"{int(name.split('.')[0]) + 1}.jsonl"
        if after in started:  # the next file's read started before this store ends (bounded wait)
            overlapped.append(started[after].wait(timeout=10))
        return real_store(con, files, *args)

    monkeypatch.setattr(ingest_mod, "_bulk_read", read)
    monkeypatch.setattr(ingest_mod, "_bulk_store_tx", store)
    monkeypatch.setattr(ingest_mod, "BULK_BYTES", 1)  # one file per batch
    bulk = _ingest(tmp_path / "bulk.duckdb", root)
    assert overlapped == [True, True, True]
    monkeypatch.setattr(ingest_mod, "BULK_BYTES", 0)
    chunked = _ingest(tmp_path / "chunked.duckdb", root)
    assert bulk == chunked
    assert {k: v["rows_added"] for k, v in bulk.items()} == {f"{i}.jsonl": 2 for i in range(4)}
    assert _tables(tmp_path / "bulk.duckdb") == _tables(tmp_path / "chunked.duckdb")


def test_retry_with_more_memory_stores_from_the_same_preparation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the store of a batch runs out of memory and is retried with a larger cap, it stores again from the
    batch's scratch tables (the files are not read twice), and the outcome is that of a store that never failed;
    the scratch tables are gone afterwards."""
    root = tmp_path / "claude"
    _folder(root)
    reads: list[int] = []
    failures: list[str] = []
    real_read, real_batch = ingest_mod._bulk_read, ingest_mod.claude_code.store_transcript_batch

    def read(con: Any, paths: list[str], sizes: list[int]) -> Any:
        reads.append(len(paths))
        return real_read(con, paths, sizes)

    def batch(con: Any, *args: Any, **kw: Any) -> Any:
        if not failures:
            failures.append("raised")
            raise duckdb.OutOfMemoryException("Out of Memory Error: test")
        return real_batch(con, *args, **kw)

    with monkeypatch.context() as m:
        m.setattr(ingest_mod, "_bulk_read", read)
        m.setattr(ingest_mod.claude_code, "store_transcript_batch", batch)
        retried = _ingest(tmp_path / "retried.duckdb", root)
    assert failures == ["raised"]
    assert reads == [7]  # read once; the retry stores from the same scratch tables
    plain = _ingest(tmp_path / "plain.duckdb", root)
    assert retried == plain
    assert _tables(tmp_path / "retried.duckdb") == _tables(tmp_path / "plain.duckdb")
    assert _q(tmp_path / "retried.duckdb", "select count(*) from transcript_entries") == [(10,)]


def test_first_batch_read_early_only_when_it_is_that_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a first ingest the first batch is read while the files are looked at (_EarlyRead), and used when the
    batch is exactly those files; when it is not (here a LiteLLM log comes first), the batch is read again. Both
    give the tables of the chunked path."""
    root = tmp_path / "claude"
    p = root / "projects" / "-work-bulk"
    p.mkdir(parents=True)
    for i in range(3):
        (p / f"{i}.jsonl").write_text(_line(2 * i, f"s-{i}") + "\n" + _line(2 * i + 1, f"s-{i}") + "\n")
    reads: list[list[str]] = []
    real_read = ingest_mod._bulk_read

    def read(con: Any, paths: list[str], sizes: list[int]) -> Any:
        reads.append([Path(x).name for x in paths])
        return real_read(con, paths, sizes)

    monkeypatch.setattr(ingest_mod, "_bulk_read", read)
    monkeypatch.setattr(ingest_mod, "EARLY_READ_MIN_BYTES", 1)
    early = _ingest(tmp_path / "early.duckdb", root)
    assert reads == [["0.jsonl", "1.jsonl", "2.jsonl"]]  # the early read, used
    monkeypatch.setattr(ingest_mod, "BULK_BYTES", 0)
    chunked = _ingest(tmp_path / "chunked.duckdb", root)
    assert early == chunked
    assert _tables(tmp_path / "early.duckdb") == _tables(tmp_path / "chunked.duckdb")

    # a spend log first in the walk: the early read is of it and the transcripts, the batch of the transcripts only
    (p / "0-spend.jsonl").write_text(json.dumps({"request_id": "r1", "call_type": "acompletion"}) + "\n")
    monkeypatch.setattr(ingest_mod, "BULK_BYTES", 256 << 20)
    reads.clear()
    mixed = _ingest(tmp_path / "mixed.duckdb", root)
    assert reads[0][0] == "0-spend.jsonl" and reads[1:] == [["0.jsonl", "1.jsonl", "2.jsonl"]]
    assert {k: v["rows_added"] for k, v in mixed.items() if k != "0-spend.jsonl"} == {
        f"{i}.jsonl": 2 for i in range(3)
    }


def test_a_new_store_has_its_first_batch_read_while_the_files_are_looked_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ccstats ingest` into a new store reads and normalises the first batch on a connection of the store (its
    scratch tables must be seen by the store's own connection) while the files are still being looked at, uses
    that read, and stores what the chunked path stores. An existing store without sources does the same."""
    from click.testing import CliRunner

    from analyzer.cli import cli

    root = tmp_path / "claude"
    p = root / "projects" / "-work-bulk"
    p.mkdir(parents=True)
    for i in range(3):
        (p / f"{i}.jsonl").write_text(_line(2 * i, f"s-{i}") + "\n" + _line(2 * i + 1, f"s-{i}") + "\n")
    reads: list[tuple[str, list[str]]] = []
    began = threading.Event()
    looked_at_after_it_began: list[bool] = []
    real_read, real_small = ingest_mod._bulk_read, ingest_mod._small_transcript

    def read(con: Any, paths: list[str], sizes: list[int]) -> Any:
        reads.append(
            (con.execute("select current_database()").fetchall()[0][0], [Path(x).name for x in paths])
        )
        began.set()
        return real_read(con, paths, sizes)

    def small(path: Path, *args: Any) -> Any:
        if path.name == "2.jsonl":  # the last file is looked at once the read has begun (bounded wait)
            looked_at_after_it_began.append(began.wait(timeout=10))
        return real_small(path, *args)

    monkeypatch.setattr(ingest_mod, "_bulk_read", read)
    monkeypatch.setattr(ingest_mod, "_small_transcript", small)
    monkeypatch.setattr(ingest_mod, "EARLY_READ_MIN_BYTES", 1)
    db = tmp_path / "new.duckdb"
    result = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--json", str(root / "projects")])
    assert result.exit_code == 0, result.output
    assert reads == [("new", ["0.jsonl", "1.jsonl", "2.jsonl"])]  # read once, early, and used
    assert looked_at_after_it_began == [True]
    assert [s["rows_added"] for s in json.loads(result.output)["sources"]] == [2, 2, 2]
    monkeypatch.setattr(ingest_mod, "BULK_BYTES", 0)
    _ingest(tmp_path / "chunked.duckdb", root)
    assert _tables(db) == _tables(tmp_path / "chunked.duckdb")

    # an existing store without sources: the same
    monkeypatch.setattr(ingest_mod, "BULK_BYTES", 256 << 20)
    connect(tmp_path / "existing.duckdb").close()
    reads.clear()
    began.clear()
    looked_at_after_it_began.clear()
    result = CliRunner().invoke(
        cli, ["ingest", "--db", str(tmp_path / "existing.duckdb"), "--json", str(root / "projects")]
    )
    assert result.exit_code == 0, result.output
    assert reads == [("existing", ["0.jsonl", "1.jsonl", "2.jsonl"])]
    assert looked_at_after_it_began == [True]
    assert _tables(tmp_path / "existing.duckdb") == _tables(tmp_path / "chunked.duckdb")


def _scratch_tables(con: Any) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = ?", [ingest_mod.SCRATCH]
        ).fetchall()
    ]


def test_scratch_tables_are_dropped_after_each_batch_and_when_a_store_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scratch tables of a batch go once it is stored; when a store fails, those of the batch and of the next
    one (prepared meanwhile) go too, and the error reaches the caller."""
    root = tmp_path / "claude"
    p = root / "projects" / "-work-bulk"
    p.mkdir(parents=True)
    for i in range(3):
        (p / f"{i}.jsonl").write_text(_line(2 * i, f"s-{i}") + "\n" + _line(2 * i + 1, f"s-{i}") + "\n")
    monkeypatch.setattr(ingest_mod, "BULK_BYTES", 1)  # one file per batch
    during: list[list[str]] = []
    real_store = ingest_mod._bulk_store_tx

    def store(con: Any, files: list[Any], prepared: str, *args: Any) -> Any:
        during.append(sorted(t for t in _scratch_tables(con) if prepared.endswith(t.split("_")[0])))
        return real_store(con, files, prepared, *args)

    monkeypatch.setattr(ingest_mod, "_bulk_store_tx", store)
    con = connect(tmp_path / "ok.duckdb")
    try:
        summaries, errors = ingest_paths(con, [str(root / "projects")], IngestOptions())
        assert errors == [] and [s.rows_added for s in summaries] == [2, 2, 2]
        assert [len(d) for d in during] == [3, 3, 3]  # files, norm, offsets of the batch being stored
        assert _scratch_tables(con) == []
    finally:
        con.close()

    def failing(con: Any, *args: Any) -> Any:
        raise RuntimeError("store failed")

    monkeypatch.setattr(ingest_mod, "_bulk_store_tx", failing)
    con = connect(tmp_path / "failed.duckdb")
    try:
        with pytest.raises(RuntimeError, match="store failed"):
            ingest_paths(con, [str(root / "projects")], IngestOptions())
        assert _scratch_tables(con) == []
    finally:
        con.close()


def _functions(node: dict[str, Any]) -> set[str]:
    """The scan functions of an EXPLAIN (FORMAT JSON) subtree."""
    found = {str(node.get("extra_info", {}).get("Function", ""))}
    for child in node.get("children", []):
        found |= _functions(child)
    return found - {""}


def _hash_joins(node: dict[str, Any]) -> list[dict[str, Any]]:
    own = [node] if node.get("name") == "HASH_JOIN" else []
    return own + [j for child in node.get("children", []) for j in _hash_joins(child)]


@pytest.mark.parametrize("files_sql", ["transcript_bulk_text", "transcript_bulk_blob"])
@pytest.mark.parametrize("n_files", [2, 300])
def test_bulk_read_builds_its_hash_table_on_the_file_list_not_the_texts(
    tmp_path: Path, files_sql: str, n_files: int
) -> None:
    """The read joins the file contents to the list of files by path. DuckDB builds the join's hash table on its
    second child: that must be the list, or every batch's 256 MB of text is copied into the hash table."""
    paths = []
    for i in range(n_files):
        path = tmp_path / f"s{i}.jsonl"
        path.write_text(_line(i, f"sess-{i}") + "\n")
        paths.append(str(path))
    con = duckdb.connect()
    con.register("_bulk_files", ingest_mod._bulk_files_table(paths, [Path(p).stat().st_size for p in paths]))
    query = ingest_mod._bulk_read_sql(files_sql)
    plan = json.loads(con.execute("explain (format json) " + query, {"paths": paths}).fetchall()[0][1])
    (join,) = [j for root in plan for j in _hash_joins(root)]
    probe, build = join["children"]
    assert "PYTHON_ARROW_SCAN" in _functions(build)
    assert _functions(probe) & {"READ_TEXT", "READ_BLOB"}
    rows = con.execute(query, {"paths": paths}).fetchall()
    assert sorted(r[0] for r in rows) == list(range(n_files))
