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
