"""`ccstats report` and `ccstats check` on the real-proxy fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import cli


def test_report_json_has_every_section(sample_db: Path) -> None:
    r = CliRunner().invoke(cli, ["report", "--db", str(sample_db), "--json", "--tz", "Europe/Berlin"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {"windows", "weekly", "fallbacks", "billing", "check"} <= set(data)
    assert [w["window_start"] for w in data["windows"]] == [
        "2026-11-27T11:00:00+01:00"
    ]  # 10:00 UTC, shown in Berlin
    assert data["windows"][0]["requests"] == 27  # the 27 successful requests of the capture
    kinds = sorted({e["kind"] for e in data["fallbacks"]["events"]})
    assert kinds == ["litellm_cooldown", "litellm_router"]
    assert (data["fallbacks"]["events_total"], len(data["fallbacks"]["events"])) == (6, 6)
    assert {a["id"] for a in data["check"]} == {
        "oauth_reaching_anthropic",
        "api_billing",
        "rate_limit_rejections",
        "oauth_failures",
        "sources_flowing",
    }


def test_report_tables(sample_db: Path) -> None:
    r = CliRunner().invoke(cli, ["report", "--db", str(sample_db), "--tz", "UTC"])
    assert r.exit_code == 0, r.output
    for title in ("Checks", "5-hour windows", "Weekly usage", "Who paid, per day", "Fallbacks"):
        assert title in r.output


def test_report_by_key(sample_db: Path) -> None:
    r = CliRunner().invoke(cli, ["report", "--db", str(sample_db), "--json", "--by", "key"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["windows"]
    assert {row["key_hash"] for row in rows if not row["is_gap"]} == {"litellm_proxy_master_key"}


def test_check_exits_1_when_traffic_went_to_the_api(sample_db: Path) -> None:
    r = CliRunner().invoke(cli, ["check", "--db", str(sample_db), "--json"])
    assert r.exit_code == 1
    answers = {a["id"]: a["answer"] for a in json.loads(r.output)}
    assert answers["api_billing"] == "yes" and answers["oauth_reaching_anthropic"] == "yes"


def test_bad_report_options_are_one_line_errors(sample_db: Path) -> None:
    for args, message in [
        (["--since", "2026-13-01"], "--since: expected an ISO date or time"),
        (["--tz", "Nowhere/City"], "--tz: unknown time zone 'Nowhere/City'"),
        (["--since", "2026-11-28", "--until", "2026-11-27"], "--since must be before --until"),
    ]:
        r = CliRunner().invoke(cli, ["report", "--db", str(sample_db), *args])
        assert r.exit_code == 1
        assert message in r.output


def _report_in_subprocess(db: Path) -> subprocess.CompletedProcess[str]:
    """`ccstats report --json` in a fresh interpreter; its stderr ends with the heavy modules it loaded."""
    code = (
        "import sys; from analyzer.cli import cli\n"
        "cli(['report', '--db', sys.argv[1], '--json', '--tz', 'UTC'], prog_name='ccstats', standalone_mode=False)\n"
        "print(sorted(m for m in ('pyarrow', 'genai_prices', 'litellm', 'altair') if m in sys.modules), "
        "file=sys.stderr)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=120, check=True
    )


def test_report_json_loads_neither_pyarrow_nor_genai_prices(sample_db: Path) -> None:
    """An up-to-date store's report reads the stored rollup and prices nothing: pyarrow (about 0.2 s to import)
    and genai-prices stay unloaded, because that start-up time is most of a report's time."""
    done = _report_in_subprocess(sample_db)
    assert json.loads(done.stdout)["windows"][0]["requests"] == 27
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_report_json_places_straddling_hours_without_pyarrow(tmp_path: Path) -> None:
    """Weekly periods anchored on a logged 7d reset at :40 cut hours in two; those hours' requests are priced
    one by one from the stored prices, copied in SQL: still neither pyarrow nor genai-prices is loaded."""
    from analyzer import rollup, synth, windows
    from analyzer.db import connect

    spend, cbs = tmp_path / "spend.jsonl", tmp_path / "callbacks.jsonl"
    synth.write_spend_jsonl(spend, 400, 11, days=9)
    synth.write_callbacks_jsonl(cbs, 400, 11, days=9)  # the upstream headers, 7d reset included
    db = tmp_path / "store.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", "ingest", "--db", str(db), str(spend), str(cbs)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    con = connect(db, read_only=True)
    try:
        reset = windows.latest_headers(con)["rl_7d_reset"]
        keys = {"anchor_ms": int(reset.timestamp() * 1000), "tz": "UTC"}
        _, split = rollup.split_hours(con, rollup.STORED, rollup.WEEK_KEY, keys)
        assert reset.minute != 0 and split["raw_hours"]  # the straddling path is taken
    finally:
        con.close()
    done = _report_in_subprocess(db)
    weeks = json.loads(done.stdout)["weekly"]
    assert sum(w["requests"] for w in weeks) == con_requests(db)
    assert done.stderr.strip().splitlines()[-1] == "[]"


def con_requests(db: Path) -> int:
    from analyzer.db import connect

    con = connect(db, read_only=True)
    try:
        return int(con.execute("select count(*) from request_log where status = 'success'").fetchall()[0][0])
    finally:
        con.close()
