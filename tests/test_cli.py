"""The command line: every command has help, the README shows it, output is what users expect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import cli

from .conftest import REPO, SAMPLE_LOGS


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert len(result.output.splitlines()) > 3
    assert f"ccstats {command}" in (REPO / "README.md").read_text()


def test_ingest_json_summary_and_status(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    r = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--json", str(SAMPLE_LOGS / "spend_logs.jsonl")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert [(s["format"], s["rows_added"], s["quarantined"]) for s in out["sources"]] == [
        ("spend-lines", 35, 0)
    ]
    r = CliRunner().invoke(cli, ["status", "--db", str(db), "--json"])
    st = json.loads(r.output)
    assert (st["requests"], st["quarantined"], st["sources"][0]["lines_read"]) == (35, 0, 35)


def test_db_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "env.duckdb"
    monkeypatch.setenv("CCSTATS_DB", str(db))
    r = CliRunner().invoke(cli, ["ingest", str(SAMPLE_LOGS / "spend_logs.jsonl")])
    assert r.exit_code == 0 and db.exists()


def test_ingest_imports_no_charting_or_dataframes() -> None:
    code = (
        "import sys, analyzer.ingest, analyzer.cli, analyzer.commands; "
        "print(sorted(m for m in ('altair', 'polars', 'vl_convert', 'jupyterlab', 'litellm') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_console_entry_point_keeps_output_and_exit_codes(tmp_path: Path) -> None:
    """main() leaves by os._exit (no interpreter teardown): piped output must still arrive whole, and each
    exit code stay what the command chose."""
    db = tmp_path / "t.duckdb"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, timeout=120, cwd=REPO
        )

    ok = run("ingest", "--db", str(db), "--json", str(SAMPLE_LOGS / "spend_logs.jsonl"))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["sources"][0]["rows_added"] == 35
    report = run("report", "--db", str(db), "--json", "--tz", "UTC")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["meta"]["requests"] == 35  # the whole object, parsed to its end
    bad = run("report", "--db", str(db), "--tz", "Not/AZone")
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.strip() == "ccstats: error: --tz: unknown time zone 'Not/AZone'"
    usage = run("report", "--no-such-option")
    assert usage.returncode == 2 and "No such option" in usage.stderr
    missing = run("ingest", "--db", str(db), str(tmp_path / "absent.jsonl"))
    assert missing.returncode == 1 and "absent.jsonl" in missing.stderr


def test_ingest_of_many_files_is_summed_by_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SUMMARY_FILE_ROWS files the terminal summary has one row per folder (its files summed) and keeps a row
    for each file with something to say; `--json` still lists every file."""
    from analyzer import commands

    monkeypatch.setattr(commands, "SUMMARY_FILE_ROWS", 4)
    good = (SAMPLE_LOGS / "spend_logs.jsonl").read_text().splitlines()
    for n, name in enumerate(("a/0", "a/1", "a/2", "b/0", "b/1")):
        (tmp_path / "logs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "logs" / f"{name}.jsonl").write_text(good[n] + "\n")
    (tmp_path / "logs" / "b" / "1.jsonl").write_text(good[4] + "\n{not json\n")  # one quarantined line
    db = str(tmp_path / "t.duckdb")
    r = CliRunner().invoke(cli, ["ingest", "--db", db, str(tmp_path / "logs")])
    assert r.exit_code == 0, r.output
    table = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in r.stdout.splitlines()
        if line.startswith("│")
    ]
    assert table == [
        [f"{tmp_path / 'logs' / 'a'}/ (3 files)", "spend-lines", "3", "0", "0", "0", ""],
        [f"{tmp_path / 'logs' / 'b'}/ (2 files)", "spend-lines", "2", "0", "1", "0", ""],
        [str(tmp_path / "logs" / "b" / "1.jsonl"), "spend-lines", "1", "0", "1", "0", ""],
    ]
    assert "5 files, summed by folder; `--json` lists each file." in r.stderr
    r = CliRunner().invoke(cli, ["ingest", "--db", db, "--json", str(tmp_path / "logs")])
    assert [s["note"] for s in json.loads(r.stdout)["sources"]] == ["already up to date"] * 5
    r = CliRunner().invoke(cli, ["ingest", "--db", db, str(tmp_path / "logs")])
    assert [line.split("│")[-2].strip() for line in r.stdout.splitlines() if line.startswith("│")] == [
        "3 already up to date",
        "2 already up to date",
    ]
