"""Small transcript files stored many per transaction (ingest_files) give exactly the store that ingesting them
one by one (ingest_file) gives: request_log, transcript_entries, quarantine, sources and the per-file summaries,
through re-ingest, appends, a partial last line, a malformed line, copies, renames and truncation."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from analyzer import connect, ingest_paths
from analyzer import ingest as ingest_mod
from analyzer.synth import write_spend_jsonl, write_transcripts

TIMES = {"ingested_at", "first_ingest", "last_ingest", "quarantined_at"}
TABLES = ("request_log", "transcript_entries", "quarantine", "sources")

# how the stores are built: one file at a time (the reference), the default, and one file per batch
MODES: dict[str, dict[str, int]] = {
    "one_by_one": {"GROUP_FILE_BYTES": 0},
    "default": {},
    "chunked": {"BULK_BYTES": 0},  # no file read whole by DuckDB
    "tiny_batches": {"GROUP_BYTES": 1, "GROUP_LOOKUP_FILES": 7, "BULK_BYTES": 1},
}


def _table(con: Any, table: str) -> list[tuple[Any, ...]]:
    cols = [r[0] for r in con.execute(f"describe {table}").fetchall() if r[0] not in TIMES]
    q = f"select {', '.join(cols)} from {table} order by all"
    return [tuple(r) for r in con.execute(q).fetchall()]


class Stores:
    """One database per mode, each fed the same folder after every change."""

    def __init__(self, tmp: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.mp = monkeypatch
        self.dbs = {m: str(tmp / f"{m}.duckdb") for m in MODES}

    def ingest(self) -> dict[str, list[dict[str, object]]]:
        out: dict[str, list[dict[str, object]]] = {}
        defaults = {
            k: getattr(ingest_mod, k)
            for k in ("GROUP_FILE_BYTES", "GROUP_BYTES", "GROUP_LOOKUP_FILES", "BULK_BYTES")
        }
        for mode, settings in MODES.items():
            for k, v in {**defaults, **settings}.items():
                self.mp.setattr(ingest_mod, k, v)
            con = connect(self.dbs[mode])
            try:
                summaries, errors = ingest_paths(con, [str(self.folder)])
            finally:
                con.close()
            assert errors == []
            out[mode] = [s.as_dict() for s in summaries]
        for k, v in defaults.items():
            self.mp.setattr(ingest_mod, k, v)
        ref = out["one_by_one"]
        for mode in MODES:
            assert out[mode] == ref, mode
        tables = {}
        for mode in MODES:
            con = connect(self.dbs[mode], read_only=True)
            try:
                tables[mode] = {t: _table(con, t) for t in TABLES}
            finally:
                con.close()
        for mode in MODES:
            for t in TABLES:
                assert tables[mode][t] == tables["one_by_one"][t], (mode, t)
        return {"summaries": ref, **tables["one_by_one"]}  # type: ignore[dict-item]

    def query(self, q: str) -> list[tuple[Any, ...]]:
        con = connect(self.dbs["default"], read_only=True)
        try:
            return [tuple(r) for r in con.execute(q).fetchall()]
        finally:
            con.close()


def _line(n: int, session: str, *, tokens: int = 10, msg: str | None = None) -> str:
    return json.dumps(
        {
            "type": "assistant",
            "sessionId": session,
            "requestId": f"req_{msg}" if msg else f"req_extra_{n}",
            "uuid": f"00000000-0000-4000-8000-{n:012d}",
            "timestamp": f"2026-11-27T10:{n % 60:02d}:00.000Z",
            "version": "2.0.1",
            "cwd": "/work/extra",
            "message": {
                "id": msg or f"msg_extra_{n}",
                "model": "claude-sonnet-4-5-20250929",
                "usage": {"input_tokens": tokens, "output_tokens": 2, "cache_read_input_tokens": 0},
            },
        },
        separators=(",", ":"),
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "claude"
    write_transcripts(root, 4000, seed=7, days=20)
    (root / "projects" / "-i-litellm").mkdir()  # a LiteLLM log between transcript folders (sorted order)
    write_spend_jsonl(root / "projects" / "-i-litellm" / "spend.jsonl", 1500, seed=7, days=20)
    extra = root / "projects" / "-work-extra"
    extra.mkdir(parents=True)
    # a malformed line (line 2) between good ones
    (extra / "malformed.jsonl").write_text(
        _line(1, "s-mal") + "\n" + '{"usage":{"input_tokens": 3, broken\n' + _line(2, "s-mal") + "\n"
    )
    # a partial last line (a writer mid-line)
    full = _line(3, "s-part")
    (extra / "partial.jsonl").write_text(_line(4, "s-part") + "\n" + full[:40])
    # the same response in two files: the copy with more tokens wins, the other counts as a duplicate
    (extra / "a-dup.jsonl").write_text(_line(5, "s-dup", tokens=5, msg="msg_shared") + "\n")
    (extra / "b-dup.jsonl").write_text(_line(6, "s-dup", tokens=50, msg="msg_shared") + "\n")
    # a tiny file, and a copy of a session file (same first bytes: a different source)
    (extra / "tiny.jsonl").write_text('{"type":"user"}\n')
    first = sorted((root / "projects").glob("-home-*/*.jsonl"))[0]
    shutil.copy(first, extra / "copy-of-first.jsonl")
    shutil.copy(first, first.parent / "zz-copy.jsonl")  # in the same run of small files as the original
    return root


def test_batched_equals_one_by_one(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stores = Stores(tmp_path, corpus, monkeypatch)
    extra = corpus / "projects" / "-work-extra"
    files = sorted(p for p in (corpus / "projects").rglob("*") if p.is_file())
    assert len(files) > 200

    first = stores.ingest()
    by_path = {s["path"]: s for s in first["summaries"]}
    assert sum(int(s["rows_added"]) for s in first["summaries"]) > 3000  # type: ignore[call-overload]
    mal = by_path[str(extra / "malformed.jsonl")]
    assert (mal["rows_added"], mal["quarantined"], mal["lines"]) == (2, 1, 3)
    (sid,) = stores.query(f"select source_id from sources where path = '{extra / 'malformed.jsonl'}'")[0]
    assert stores.query("select source_id, path, line_no, reason from quarantine") == [
        (sid, str(extra / "malformed.jsonl"), 2, "malformed JSON")
    ]
    part = by_path[str(extra / "partial.jsonl")]
    assert (part["rows_added"], part["lines"], part["pending_tail"]) == (1, 1, True)
    assert (
        by_path[str(extra / "a-dup.jsonl")]["rows_added"],
        by_path[str(extra / "b-dup.jsonl")]["duplicates"],
    ) == (
        1,
        1,
    )
    assert stores.query(
        "select input_tokens, source_path from transcript_entries where message_id = 'msg_shared'"
    ) == [(50, str(extra / "b-dup.jsonl"))]

    # nothing changed: nothing added, every file up to date
    again = stores.ingest()
    assert all(s["rows_added"] == 0 and s["bytes_read"] == 0 for s in again["summaries"])
    assert {s["note"] for s in again["summaries"] if str(s["path"]).endswith(".jsonl")} <= {
        "already up to date",
        "skipped: not a LiteLLM log",  # tiny.jsonl: a user turn only
    }
    for t in TABLES:
        if t != "sources":
            assert again[t] == first[t]

    # appends: the partial line completed plus new lines, a new file, new lines in some session files
    with (extra / "partial.jsonl").open("a") as f:
        f.write(_line(3, "s-part")[40:] + "\n" + _line(7, "s-part") + "\n")
    sessions = sorted((corpus / "projects").glob("-home-*/*.jsonl"))
    for i, p in enumerate(sessions[::25]):
        with p.open("a") as f:
            f.write(_line(100 + i, p.stem) + "\n")
    (extra / "new.jsonl").write_text(_line(8, "s-new") + "\n")
    third = stores.ingest()
    by_path = {s["path"]: s for s in third["summaries"]}
    part = by_path[str(extra / "partial.jsonl")]
    assert (part["rows_added"], part["lines"], part["pending_tail"]) == (2, 2, False)
    assert by_path[str(extra / "new.jsonl")]["rows_added"] == 1
    assert by_path[str(sessions[0])]["rows_added"] == 1

    # a rename is recognised (not re-read); a file rewritten shorter is a new source read from the start
    os.rename(extra / "malformed.jsonl", extra / "renamed.jsonl")
    with (sessions[1]).open("r+") as f:
        f.truncate(len(f.readline()))
    fourth = stores.ingest()
    by_path = {s["path"]: s for s in fourth["summaries"]}
    ren = by_path[str(extra / "renamed.jsonl")]
    assert (ren["rows_added"], ren["bytes_read"], ren["note"]) == (0, 0, "already up to date")
    assert by_path[str(sessions[1])]["rows_added"] == 0  # its one line is stored already
    assert by_path[str(sessions[1])]["duplicates"] == 1
    assert len(fourth["quarantine"]) == 1
