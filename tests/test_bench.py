"""`make bench` end to end at a tiny size: every step runs, the table prints, the JSON holds the figures."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from .conftest import REPO


def _bench_at_300(tmp_path: Path, env: dict[str, str], *extra: str) -> tuple[str, dict[str, Any]]:
    """``python -m analyzer.bench`` at 300 requests, report runs 2: its stdout and the steps of its JSON."""
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "analyzer.bench", "--sizes", "300", "--report-runs", "2", *extra]
        + ["--work", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, json.loads(out.read_text())["steps"]


def test_bench_at_a_tiny_size_measures_every_step(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CCSTATS_PG_DSN", "CCSTATS_CCUSAGE")}
    stdout, steps = _bench_at_300(tmp_path, env, "--skip-ccusage")
    assert all(not s.get("error") for s in steps.values()), {
        k: s["error"] for k, s in steps.items() if "error" in s
    }

    ingest = steps["ingest spend 300"]
    assert ingest["summary"]["rows_added"] == 300 and ingest["ratio_vs_read_json"] > 0
    assert ingest["peak_rss_mb"] > 0 and steps["read_json spend 300"]["rows_per_s"] > 0
    assert steps["ingest callbacks 300 req"]["ratio_vs_read_json"] > 0
    for name in ("report --json 300", "report --html 300"):
        assert len(steps[name]["all_seconds"]) == 2 and steps[name]["seconds"] > 0
    assert steps["ingest again, nothing changed"]["summary"]["rows_added"] == 0
    append = steps["ingest 1,000 appended rows"]  # three appends of new rows, the median time
    assert append["summary"]["rows_added"] == 3000
    assert len(append["all_seconds"]) == 3 and append["seconds"] == sorted(append["all_seconds"])[1]
    assert steps["postgres read"] == {"skipped": "no server"}
    assert steps["watcher lag 100/s x 10 s"]["seen"] == 1000
    assert "ingest 1,000 appended rows" in stdout and "vs baseline" in stdout
    assert steps["ccusage blocks"] == {"skipped": "--skip-ccusage"}
    assert not list((tmp_path / "work").glob("*.jsonl"))  # the generated logs are deleted after use


def test_bench_transcript_step_runs_ccusage_and_the_cold_ingest_in_turns(tmp_path: Path) -> None:
    """The ccusage comparison: ccusage and ccstats' cold ingest of the same transcripts run report_runs times
    each, in turns; each is reported as its median, and both count the same 5-hour blocks."""
    from .support.ccusage import require_ccusage

    env = {k: v for k, v in os.environ.items() if k != "CCSTATS_PG_DSN"}
    env["CCSTATS_CCUSAGE"] = require_ccusage()
    _, steps = _bench_at_300(tmp_path, env)
    cc, ingest = steps["ccusage blocks 300"], steps["ccstats ingest --claude-code 300 (cold)"]
    assert len(cc["all_seconds"]) == 2 and cc["seconds"] == round(statistics.median(cc["all_seconds"]), 3)
    assert len(ingest["all_seconds"]) == 2 and ingest["added"] == cc["transcript_lines"]
    assert ingest["ccusage_over_ours"] == round(cc["seconds"] / ingest["seconds"], 2)
    assert cc["blocks"] == steps["ccstats windows 300"]["blocks"] > 0
