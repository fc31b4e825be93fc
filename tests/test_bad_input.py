"""Bad input: each malformed record goes to quarantine with file, line and reason; the rest still ingests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from analyzer import connect
from analyzer.ingest import IngestOptions, ingest_file

from .conftest import REPO, SAMPLE_LOGS

GOOD_LINES = (SAMPLE_LOGS / "spend_logs.jsonl").read_bytes().splitlines()


def _good(i: int) -> bytes:
    return GOOD_LINES[i]


def _ingest(tmp_path: Path, path: Path, **opts: Any) -> tuple[Any, Any]:
    con = connect(tmp_path / "t.duckdb")
    return con, ingest_file(con, path, IngestOptions(**opts))


def _quarantine(con: Any) -> list[tuple[Any, ...]]:
    return con.execute("select line_no, byte_offset, reason from quarantine order by line_no").fetchall()


def test_truncated_line_in_the_middle(tmp_path: Path) -> None:
    f = tmp_path / "spend.jsonl"
    truncated = _good(1)[:500]
    f.write_bytes(b"\n".join([_good(0), truncated, _good(2)]) + b"\n")
    con, s = _ingest(tmp_path, f)
    assert (s.rows_added, s.quarantined) == (2, 1)
    assert _quarantine(con) == [(2, len(_good(0)) + 1, "malformed JSON")]
    excerpt = con.execute("select raw_excerpt from quarantine").fetchone()[0]
    assert excerpt == truncated.decode()


def test_invalid_utf8_and_nul_bytes(tmp_path: Path) -> None:
    f = tmp_path / "spend.jsonl"
    bad_utf8 = _good(1).replace(b"claude-cli", b"claude-\xff\xfecli", 1)
    with_nul = _good(2).replace(b"claude-cli", b"claude\x00cli", 1)
    f.write_bytes(b"\n".join([_good(0), bad_utf8, with_nul, _good(3)]) + b"\n")
    con, s = _ingest(tmp_path, f)
    assert (s.rows_added, s.quarantined) == (2, 2)
    rows = _quarantine(con)
    assert [r[0] for r in rows] == [2, 3]
    assert rows[0][2].startswith("invalid UTF-8 at byte ")
    assert rows[1][2] == "NUL byte in line"
    assert rows[1][1] == len(_good(0)) + 1 + len(bad_utf8) + 1


def test_a_20_mb_line_is_ingested(tmp_path: Path) -> None:
    row = json.loads(_good(0))
    meta = json.loads(row["metadata"])
    meta["spend_logs_metadata"] = {"blob": "x" * (20 << 20)}
    row["metadata"] = json.dumps(meta)
    f = tmp_path / "spend.jsonl"
    big = json.dumps(row).encode()
    assert len(big) > 20 << 20
    f.write_bytes(big + b"\n" + _good(1) + b"\n")
    con, s = _ingest(tmp_path, f)
    assert (s.rows_added, s.quarantined) == (2, 0)
    assert con.execute(
        "select input_tokens from request_log where request_id = 'msg_fake_0001'"
    ).fetchone() == (191,)


def test_wrong_shape_missing_timestamp_and_unknown_model(tmp_path: Path) -> None:
    no_ts = json.loads(_good(1))
    del no_ts["startTime"]
    unknown = json.loads(_good(2))
    unknown.update(request_id="msg_unknown_model", model="unknown-model", model_group="made-up-model")
    f = tmp_path / "spend.jsonl"
    f.write_text(
        "\n".join(
            [
                _good(0).decode(),
                json.dumps([1, 2, 3]),
                json.dumps(no_ts),
                json.dumps(unknown),
                json.dumps({**json.loads(_good(3)), "startTime": "yesterday"}),
            ]
        )
        + "\n"
    )
    con, s = _ingest(tmp_path, f)
    assert (s.rows_added, s.quarantined) == (2, 3)
    assert [(r[0], r[2]) for r in _quarantine(con)] == [
        (2, "valid JSON but not a spend-log row (wrong shape)"),
        (3, "spend-log row without startTime"),
        (5, "unparseable startTime: yesterday"),
    ]
    # An unknown model is not an error: the request is kept, with the spend LiteLLM logged.
    assert con.execute(
        "select model_group, spend_usd from request_log where request_id = 'msg_unknown_model'"
    ).fetchone() == ("made-up-model", json.loads(_good(2))["spend"])


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.jsonl"
    f.write_bytes(b"")
    con, s = _ingest(tmp_path, f)
    assert (s.rows_added, s.quarantined, s.error, s.note) == (0, 0, "", "empty file")


def test_csv_with_embedded_newlines_and_quotes(tmp_path: Path) -> None:
    import csv

    row = json.loads(_good(0))
    meta = json.loads(row["metadata"])
    meta["user_api_key_alias"] = 'alias with "quotes",\na newline and, commas'
    row["metadata"] = json.dumps(meta, indent=1)  # real newlines inside a quoted CSV field
    f = tmp_path / "spend.csv"
    with f.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(list(row))
        w.writerow(["" if v is None else v for v in row.values()])
        second = json.loads(_good(1))
        w.writerow(["" if second.get(k) is None else second.get(k) for k in row])
    assert f.read_text().count("\n") > 3
    con, s = _ingest(tmp_path, f)
    assert (s.rows_added, s.quarantined) == (2, 0)
    assert con.execute("select key_alias from request_log where request_id = 'msg_fake_0001'").fetchone() == (
        'alias with "quotes",\na newline and, commas',
    )


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_folder_and_unusable_paths_among_the_sources(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "spend.jsonl").write_bytes(_good(0) + b"\n")
    (folder / "notes.txt").write_text("not a log\n")
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    db = tmp_path / "t.duckdb"
    r = _cli("ingest", "--db", str(db), str(folder), str(tmp_path / "missing.jsonl"), str(fifo))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("ccstats: error:")]
    assert errors == [
        f"ccstats: error: {fifo}: not a regular file",
        f"ccstats: error: {tmp_path / 'missing.jsonl'}: no such file or folder",
    ]
    con = connect(db, read_only=True)
    assert con.execute("select count(*) from request_log").fetchone() == (1,)


def test_unrecognised_file_named_explicitly_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello\n")
    r = _cli("ingest", "--db", str(tmp_path / "t.duckdb"), str(f))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == (
        f"ccstats: error: {f}: unrecognised format (not a LiteLLM spend log, logging payload or proxy JSON log); "
        "use --format"
    )


def test_bad_option_values_are_one_line_errors(tmp_path: Path) -> None:
    r = _cli("ingest", "--db", str(tmp_path / "t.duckdb"), "--log-tz", "Mars/Olympus", str(SAMPLE_LOGS))
    assert (r.returncode, r.stderr.strip()) == (
        1,
        "ccstats: error: --log-tz: unknown time zone 'Mars/Olympus'",
    )
    r = _cli("status", "--db", str(tmp_path / "none.duckdb"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert (
        r.stderr.strip()
        == f"ccstats: error: no database at {tmp_path / 'none.duckdb'}; run `ccstats ingest` first (or pass --db)"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    f = tmp_path / "locked.jsonl"
    f.write_bytes(_good(0) + b"\n")
    f.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        # root reads anything; without the DAC-override capabilities it obeys file modes like anyone else
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    r = subprocess.run(
        [*prefix, sys.executable, "-m", "analyzer", "ingest", "--db", str(tmp_path / "t.duckdb"), str(f)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == f"ccstats: error: {f}: permission denied"
