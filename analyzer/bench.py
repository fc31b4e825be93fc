"""`make bench`: how fast ccstats is on a realistic corpus, beside baselines measured in the same run.

Generates LiteLLM 1.110.2-shaped logs with a fixed seed (:mod:`analyzer.synth`: ~15 KB per spend row, ~17 KB per
callback payload) under ``bench-results/work/``, then measures, each step in a fresh subprocess with its peak RSS:

* ingest of N spend rows and N requests' callback payloads (``ccstats ingest``, fresh DB), rows/s and MB/s, beside
  DuckDB's bare ``read_json`` creating a table from the same file (ratio = ours / baseline throughput);
* ``ccstats report --json`` / ``--html`` on the N-request store (median of runs);
* incremental ingest: nothing changed; 1,000 rows appended (three times, median);
* scaling: the same spend ingest at every size in ``--sizes``;
* ``ccusage blocks --json --offline`` on the same traffic written as Claude Code transcripts, beside ccstats
  answering the same question (its 5-hour windows) from its store;
* watcher lag (``analyzer.watch.measure_lag``) and PostgreSQL read rate (``CCSTATS_PG_DSN``) when available.

Prints a table and writes ``bench-results/bench.json``. Big generated files are deleted after use.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import synth

SEED = 20261102
DEFAULT_SIZES = (100_000, 300_000, 1_000_000)
QUICK_SIZES = (20_000,)
APPEND_ROWS = 1000
APPEND_RUNS = 3
REPORT_RUNS = 3
PINNED_CCUSAGE_VERSION = "20.0.24"
SPEND_BYTES_PER_ROW = 15_500  # measured on the generator's output; used only to check free disk space
CALLBACK_BYTES_PER_REQ = 18_500
REPO_ROOT = Path(__file__).resolve().parents[1]

Result = dict[str, Any]


# ---------------------------------------------------------------- running things


def run(
    cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, log: Path
) -> Result:
    """Run ``cmd`` to completion; wall time, exit code, peak RSS (of that process, from wait4), output tails.
    Dirty pages are flushed first (``os.sync``), so no step is timed while the kernel writes back the gigabytes
    the step before it wrote."""
    out_p, err_p = log.with_suffix(".out"), log.with_suffix(".err")
    os.sync()
    t0 = time.perf_counter()
    with out_p.open("wb") as out, err_p.open("wb") as err:
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    res: Result = {
        "cmd": " ".join(str(c) for c in cmd),
        "seconds": round(seconds, 3),
        "exit": proc.returncode,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
    }
    if proc.returncode != 0:
        res["error"] = (
            err_p.read_text(errors="replace")[-1500:].strip() or out_p.read_text(errors="replace")[-1500:]
        )
    res["stdout_path"] = str(out_p)
    return res


def _py() -> str:
    return sys.executable


def _synth(kind: str, out: Path, n: int, seed: int) -> int:
    """Generate a corpus in a child process (analyzer.synth's CLI), so this process stays small: peak RSS is read
    with wait4, and a child's figure includes the parent's size at fork."""
    done = subprocess.run(
        [_py(), "-m", "analyzer.synth", kind, str(out), "-n", str(n), "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[0])


def _ccstats(*args: str) -> list[str]:
    return [_py(), "-m", "analyzer", *args]


def _baseline_cmd(db: Path, path: Path) -> list[str]:
    code = (
        "import duckdb,sys; c=duckdb.connect(sys.argv[1]); "
        "c.execute(\"create table t as select * from read_json(?, format='newline_delimited')\", [sys.argv[2]]); "
        "print(c.execute('select count(*) from t').fetchone()[0])"
    )
    return [_py(), "-c", code, str(db), str(path)]


def _fresh(db: Path) -> Path:
    for p in (db, db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    return db


def _rate(res: Result, rows: int, nbytes: int) -> Result:
    if res.get("exit") == 0 and res["seconds"] > 0:
        res["rows_per_s"] = round(rows / res["seconds"])
        res["mb_per_s"] = round(nbytes / 1e6 / res["seconds"], 1)
    res["rows"] = rows
    res["mb"] = round(nbytes / 1e6, 1)
    return res


def _ingest_summary(res: Result) -> dict[str, int]:
    try:
        text = Path(res["stdout_path"]).read_text(errors="replace")
        # DuckDB's progress bar may precede the JSON on stdout (see the bench report)
        doc = json.loads(text[text.index("\n{") + 1 :] if not text.startswith("{") else text)
        srcs = doc.get("sources", [])
        return {
            k: sum(int(s.get(k, 0)) for s in srcs)
            for k in ("rows_added", "duplicates", "quarantined", "lines")
        }
    except (OSError, ValueError, AttributeError):  # ValueError: no JSON
        return {}


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def _median_runs(cmd: list[str], runs: int, log: Path) -> Result:
    return _median_of([run(cmd, log=log.with_name(f"{log.name}-{i}")) for i in range(runs)])


def _median_of(results: list[Result]) -> Result:
    """One result for runs of one command: the median time of the runs that succeeded, every time, the highest
    peak RSS, and the output of the last successful run (``stdout_path``)."""
    ok = [r for r in results if r["exit"] == 0]
    if not ok:
        return {
            "cmd": results[0]["cmd"],
            "exit": results[0]["exit"],
            "error": results[0].get("error", ""),
            "seconds": None,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "stdout_path": results[0]["stdout_path"],
        }
    return {
        "cmd": ok[0]["cmd"],
        "exit": 0,
        "runs": len(ok),
        "seconds": round(statistics.median(r["seconds"] for r in ok), 3),
        "all_seconds": [r["seconds"] for r in ok],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in ok),
        "stdout_path": ok[-1]["stdout_path"],
    }


# ---------------------------------------------------------------- ccusage (mirrors tests/support/ccusage.py)


def find_ccusage() -> str | None:
    """``$CCSTATS_CCUSAGE``, else the pinned project-local install .ci/node, else ``ccusage`` on PATH."""
    override = os.environ.get("CCSTATS_CCUSAGE", "").strip()
    local = REPO_ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ccusage"
    cands = (
        [shutil.which(override) or override]
        if override
        else [str(local) if local.exists() else None, shutil.which("ccusage")]
    )
    for exe in cands:
        if not exe:
            continue
        try:
            p = subprocess.run(
                [exe, "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if p.returncode == 0 and p.stdout.strip().startswith("ccusage"):
            return exe
    return None


def _ccusage_env(config_dir: Path) -> dict[str, str]:
    home = config_dir / ".home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "CCUSAGE_OFFLINE": "1",
        "NO_COLOR": "1",
        "LOG_LEVEL": "0",
    }


# ---------------------------------------------------------------- the steps


class Bench:
    def __init__(
        self, work: Path, sizes: list[int], skip_ccusage: bool, report_runs: int, out: Path | None = None
    ) -> None:
        self.work = work
        self.out = out
        self.sizes = sorted(sizes)
        self.skip_ccusage = skip_ccusage
        self.report_runs = report_runs
        self.results: Result = {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "seed": SEED,
            "sizes": self.sizes,
            "steps": {},
            "notes": [],
        }
        try:
            import duckdb

            self.results["machine"]["duckdb"] = duckdb.__version__
        except ImportError:  # pragma: no cover
            pass

    def step(self, name: str, res: Result) -> Result:
        res.pop("stdout_path", None)
        self.results["steps"][name] = res
        status = (
            "ok" if res.get("exit", 0) == 0 and "skipped" not in res else (res.get("skipped") or "FAILED")
        )
        print(f"  {name:<34} {status:<8} {res.get('seconds')!s:>9} s", file=sys.stderr, flush=True)
        self.save()
        return res

    def save(self) -> None:
        """Write what is measured so far: a run stopped half-way (or killed) still leaves its figures."""
        if self.out is not None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.out.write_text(json.dumps(self.results, indent=2) + "\n")

    def gen(self, kind: str, n: int, path: Path, seed: int = SEED) -> Result:
        t0 = time.perf_counter()
        count = _synth(kind, path, n, seed)
        secs = time.perf_counter() - t0
        size = path.stat().st_size
        return {
            "seconds": round(secs, 2),
            "records": count,
            "mb": round(size / 1e6, 1),
            "bytes_per_record": round(size / max(count, 1)),
            "records_per_s": round(count / secs),
        }

    def ingest_pair(self, label: str, path: Path, records: int, db: Path) -> tuple[Result, Result]:
        nbytes = path.stat().st_size
        ours = run(
            _ccstats("ingest", "--json", "--db", str(_fresh(db)), str(path)),
            log=self.work / f"{label}-ingest",
        )
        ours["summary"] = _ingest_summary(ours)
        _rate(ours, records, nbytes)
        base_db = _fresh(self.work / f"{label}-baseline.duckdb")
        base = run(_baseline_cmd(base_db, path), log=self.work / f"{label}-baseline")
        _rate(base, records, nbytes)
        _fresh(base_db)
        if ours.get("rows_per_s") and base.get("rows_per_s"):
            ours["ratio_vs_read_json"] = round(ours["rows_per_s"] / base["rows_per_s"], 2)
        return ours, base

    def report_json(self, store: Path) -> Result:
        return _median_runs(
            _ccstats("report", "--db", str(store), "--tz", "UTC", "--json"),
            self.report_runs,
            self.work / "report__json",
        )

    def enough_disk(self, n: int, with_callbacks: bool) -> bool:
        need = int(n * (SPEND_BYTES_PER_ROW + (CALLBACK_BYTES_PER_REQ if with_callbacks else 0)) * 1.25) + (
            2 << 30
        )
        free = _free_bytes(self.work)
        if free < need:
            self.results["notes"].append(
                f"size {n:,}: skipped, needs ~{need / 1e9:.1f} GB free in {self.work}, {free / 1e9:.1f} GB free"
            )
            return False
        return True

    def run_all(self) -> Result:
        self.work.mkdir(parents=True, exist_ok=True)
        big = self.sizes[-1]
        for n in self.sizes[:-1]:
            if not self.enough_disk(n, False):
                continue
            path = self.work / f"spend-{n}.jsonl"
            self.step(f"generate spend {n:,}", self.gen("spend", n, path))
            ours, base = self.ingest_pair(f"spend-{n}", path, n, self.work / f"spend-{n}.duckdb")
            self.step(f"ingest spend {n:,}", ours)
            self.step(f"read_json spend {n:,}", base)
            path.unlink()
            self.step(f"report --json {n:,}", self.report_json(self.work / f"spend-{n}.duckdb"))
            _fresh(self.work / f"spend-{n}.duckdb")
        if self.enough_disk(big, True):
            self.full_size(big)
        self.extras()
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.results["notes"].append(
            f"peak RSS comes from wait4 and includes the forked bench process before exec: values near "
            f"{own:,.0f} MB (this process's peak) are a floor, not the tool's own footprint"
        )
        self.results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        return self.results

    def full_size(self, n: int) -> None:
        spend, cbs = self.work / f"spend-{n}.jsonl", self.work / f"callbacks-{n}.jsonl"
        store = self.work / f"store-{n}.duckdb"
        self.step(f"generate spend {n:,}", self.gen("spend", n, spend))
        ours, base = self.ingest_pair(f"spend-{n}", spend, n, store)
        self.step(f"ingest spend {n:,}", ours)
        self.step(f"read_json spend {n:,}", base)
        g = self.step(f"generate callbacks {n:,}", self.gen("callbacks", n, cbs))
        events = g["records"]
        # Callbacks go into the same store (as they would in use: merged onto the spend rows), after the spend rows.
        nbytes = cbs.stat().st_size
        res = run(
            _ccstats("ingest", "--json", "--db", str(store), str(cbs)), log=self.work / "callbacks-ingest"
        )
        res["summary"] = _ingest_summary(res)
        ours_cb = self.step(f"ingest callbacks {n:,} req", _rate(res, events, nbytes))
        base_db = _fresh(self.work / "callbacks-baseline.duckdb")
        base_cb = self.step(
            f"read_json callbacks {n:,} req",
            _rate(run(_baseline_cmd(base_db, cbs), log=self.work / "callbacks-baseline"), events, nbytes),
        )
        _fresh(base_db)
        if ours_cb.get("rows_per_s") and base_cb.get("rows_per_s"):
            ours_cb["ratio_vs_read_json"] = round(ours_cb["rows_per_s"] / base_cb["rows_per_s"], 2)
        if store.exists():
            self.results["store_mb"] = round(store.stat().st_size / 1e6, 1)

        # report on the N-request store
        for flag in ("--json", "--html"):
            args = ["report", "--db", str(store), "--tz", "UTC"]
            args += ["--json"] if flag == "--json" else ["--html", str(self.work / "report.html")]
            self.step(
                f"report {flag} {n:,}",
                _median_runs(
                    _ccstats(*args), self.report_runs, self.work / f"report{flag.replace('-', '_')}"
                ),
            )

        # ccusage vs ccstats on the same traffic (before the append below changes the store)
        self.ccusage(n, store)

        # incremental
        res = run(
            _ccstats("ingest", "--json", "--db", str(store), str(spend), str(cbs)),
            log=self.work / "incr-none",
        )
        res["summary"] = _ingest_summary(res)
        self.step("ingest again, nothing changed", res)
        self.step(f"ingest {APPEND_ROWS:,} appended rows", self.appends(store, spend, cbs))
        spend.unlink()
        cbs.unlink()

        self.postgres(n)
        _fresh(store)

    def appends(self, store: Path, spend: Path, cbs: Path) -> Result:
        """:data:`APPEND_RUNS` times: append :data:`APPEND_ROWS` new rows (new ids, a later day each time) to the
        spend log and ingest both logs. The median time, as for the report: one run alone is at the mercy of
        whatever the machine does at that moment."""
        results = []
        for i in range(APPEND_RUNS):
            extra = self.work / "append.jsonl"
            day = datetime(2026, 12, 7, tzinfo=UTC) + timedelta(days=i)
            synth.write_spend_jsonl(extra, APPEND_ROWS, SEED + 1 + i, start=day, days=1)
            with spend.open("ab") as f:
                f.write(extra.read_bytes())
            extra.unlink()
            res = run(
                _ccstats("ingest", "--json", "--db", str(store), str(spend), str(cbs)),
                log=self.work / f"incr-append-{i}",
            )
            res["summary"] = _ingest_summary(res)
            results.append(res)
        ok = [r for r in results if r["exit"] == 0]
        if len(ok) < len(results):
            return next(r for r in results if r["exit"] != 0)
        added = sum(r["summary"].get("rows_added", 0) for r in ok)
        return {
            **ok[0],
            "seconds": round(statistics.median(r["seconds"] for r in ok), 3),
            "all_seconds": [r["seconds"] for r in ok],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in ok),
            "summary": {**ok[0]["summary"], "rows_added": added},
        }

    def ccusage(self, n: int, store: Path) -> None:
        if self.skip_ccusage:
            self.step("ccusage blocks", {"skipped": "--skip-ccusage"})
            return
        exe = find_ccusage()
        if exe is None:
            self.step(
                "ccusage blocks",
                {
                    "skipped": f"ccusage not found (npm install --prefix .ci/node "
                    f"ccusage@{PINNED_CCUSAGE_VERSION})"
                },
            )
            return
        cfg = self.work / "claude"
        shutil.rmtree(cfg, ignore_errors=True)
        t0 = time.perf_counter()
        lines = _synth("transcripts", cfg, n, SEED)
        self.results["transcripts"] = {"lines": lines, "seconds": round(time.perf_counter() - t0, 1)}
        version = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=60
        ).stdout.strip()
        cmd = [exe, "blocks", "--json", "--offline", "--timezone", "UTC", "--no-color", "--order", "asc"]
        # ccusage and the cold ingest run in turns, report_runs times each, and each is taken as its median: on
        # this 2-core VM one command's time varies by up to 20% from run to run.
        tstore = self.work / "transcripts.duckdb"
        cc_runs: list[Result] = []
        ingest_runs: list[Result] = []
        for i in range(self.report_runs):
            cc_runs.append(run(cmd, env=_ccusage_env(cfg), cwd=cfg, log=self.work / f"ccusage-blocks-{i}"))
            ingest_runs.append(
                run(
                    _ccstats("ingest", "--db", str(_fresh(tstore)), "--json", "--claude-code", str(cfg)),
                    log=self.work / f"ingest-transcripts-{i}",
                )
            )
        res = _median_of(cc_runs)
        res["version"] = version
        res["transcript_lines"] = lines
        try:
            res["blocks"] = sum(
                1 for b in json.loads(Path(res["stdout_path"]).read_text())["blocks"] if not b.get("isGap")
            )
        except (OSError, ValueError, KeyError, TypeError):
            pass
        cc = self.step(f"ccusage blocks {n:,}", res)
        cc_s = cc.get("seconds") if cc.get("exit") == 0 else None
        report = self.results["steps"].get(f"report --json {n:,}", {})
        if cc_s and report.get("seconds"):
            report["ccusage_over_ours"] = round(cc_s / report["seconds"], 1)
        # The same question from ccstats: a cold ingest of the same transcripts (above), then windows from its store.
        res = _median_of(ingest_runs)
        res["added"] = _ingest_summary(res).get("rows_added")
        if cc_s and res.get("exit") == 0 and res.get("seconds"):
            res["ccusage_over_ours"] = round(cc_s / res["seconds"], 2)
        self.step(f"ccstats ingest --claude-code {n:,} (cold)", res)
        res = _median_runs(
            _ccstats("report", "--db", str(tstore), "--tz", "UTC", "--json"),
            self.report_runs,
            self.work / "report-transcripts",
        )
        if cc_s and res.get("seconds"):
            res["ccusage_over_ours"] = round(cc_s / res["seconds"], 1)
        self.step(f"ccstats report --json, transcript store {n:,}", res)
        _fresh(tstore)
        shutil.rmtree(cfg, ignore_errors=True)
        code = (
            "import sys; from analyzer import db, windows; "
            "con = db.connect(sys.argv[1], read_only=True); df = windows.windows(con); "
            "print(df.filter(~df['is_gap']).height)"
        )
        res = run([_py(), "-c", code, str(store)], log=self.work / "ccstats-windows")
        if res["exit"] == 0:
            try:
                res["blocks"] = int(Path(res["stdout_path"]).read_text().split()[-1])
            except (OSError, ValueError, IndexError):
                pass
        self.step(f"ccstats windows {n:,}", res)

    def postgres(self, n: int) -> None:
        dsn = os.environ.get("CCSTATS_PG_DSN", "").strip()
        try:
            import importlib

            mod = importlib.import_module("analyzer.sources.postgres")
        except ImportError:
            mod = None
        if not dsn or mod is None:
            self.step(
                "postgres read", {"skipped": "no server" if not dsn else "no analyzer.sources.postgres"}
            )
            return
        # Reads whatever LiteLLM_SpendLogs holds at CCSTATS_PG_DSN (load it with the rows to measure).
        db = _fresh(self.work / "postgres.duckdb")
        res = run(_ccstats("ingest", "--db", str(db), "--json", dsn), log=self.work / "ingest-postgres")
        added = _ingest_summary(res).get("rows_added") or 0
        if res.get("exit") == 0 and res.get("seconds"):
            res["rows_per_s"] = round(added / res["seconds"])
            try:  # MB/s of the rows as PostgreSQL renders them (one JSON object each): sources[].bytes_read
                text = Path(res["stdout_path"]).read_text(errors="replace")
                start = 0 if text.startswith("{") else text.index("\n{") + 1
                srcs = json.loads(text[start:]).get("sources", [])
                res["mb_per_s"] = round(
                    sum(int(s.get("bytes_read") or 0) for s in srcs) / 1e6 / res["seconds"], 1
                )
            except (OSError, ValueError, AttributeError):
                pass
        res["added"] = added
        safe = mod.redact_dsn(dsn)
        res["cmd"] = str(res["cmd"]).replace(dsn, safe)  # bench.json must not hold the password
        ours = self.step(f"postgres read {added:,} rows", res)
        _fresh(db)
        # Baseline in the same run: PostgreSQL rendering the same table, discarded (COPY ... TO STDOUT).
        code = (
            "import os, psycopg; n = 0\n"
            "with psycopg.connect(os.environ['CCSTATS_BENCH_DSN']) as c, c.cursor() as cur:\n"
            "    with cur.copy('COPY (select * from \"LiteLLM_SpendLogs\") TO STDOUT') as cp:\n"
            "        for block in cp: n += len(block)\n"
            "print(n)"
        )
        env = {**os.environ, "CCSTATS_BENCH_DSN": dsn}
        base = run([_py(), "-c", code], env=env, log=self.work / "postgres-baseline")
        if base.get("exit") == 0 and base.get("seconds"):
            base["rows_per_s"] = round(added / base["seconds"])
            try:
                base["mb_per_s"] = round(
                    int(Path(base["stdout_path"]).read_text().split()[-1]) / 1e6 / base["seconds"], 1
                )
            except (OSError, ValueError, IndexError):
                pass
        self.step("postgres COPY to nowhere (baseline)", base)
        if ours.get("rows_per_s") and base.get("rows_per_s"):
            ours["ratio_vs_baseline"] = round(ours["rows_per_s"] / base["rows_per_s"], 2)

    def extras(self) -> None:
        try:
            from . import watch

            measure = getattr(watch, "measure_lag", None)
        except ImportError:
            measure = None
        if measure is None:
            self.step("watcher lag", {"skipped": "not available"})
            return
        t0 = time.perf_counter()
        try:
            lag = dict(measure(None, rate_per_s=100, seconds=10))
        except Exception as exc:  # noqa: BLE001 - another engineer's code: record, do not stop the bench
            self.step(
                "watcher lag", {"exit": 1, "error": f"{type(exc).__name__}: {exc}"[:1500], "seconds": None}
            )
            return
        lag["seconds"] = round(time.perf_counter() - t0, 1)
        lag["exit"] = 0
        self.step("watcher lag 100/s x 10 s", lag)


# ---------------------------------------------------------------- output


def _fmt(v: Any, unit: str = "") -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}{unit}"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    return str(v)


def print_table(results: Result) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(
        title=f"ccstats bench (seed {results['seed']}, {results['machine']['cpus']} CPUs, "
        f"DuckDB {results['machine'].get('duckdb', '?')})"
    )
    for col, just in (
        ("step", "left"),
        ("time s", "right"),
        ("rows/s", "right"),
        ("MB/s", "right"),
        ("vs baseline", "right"),
        ("peak RSS MB", "right"),
        ("notes", "left"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for name, r in results["steps"].items():
        notes = []
        if "skipped" in r:
            notes.append(str(r["skipped"]))
        if r.get("error"):
            notes.append("FAILED: " + str(r["error"]).strip().splitlines()[-1][:90])
        if r.get("summary"):
            s = r["summary"]
            notes.append(f"+{s.get('rows_added', 0):,} rows, {s.get('quarantined', 0)} quarantined")
        if "bytes_per_record" in r:
            notes.append(f"{r['records']:,} records, {r['mb']:,} MB, {r['bytes_per_record']:,} B each")
        if "blocks" in r:
            notes.append(f"{r['blocks']} blocks/windows")
        if "p50_s" in r:
            notes.append(f"p50 {r['p50_s']:.3f} s, p95 {r.get('p95_s', 0):.3f} s, {r.get('seen', '?')} seen")
        if "ccusage_over_ours" in r:
            notes.append(f"{r['ccusage_over_ours']}x as fast as ccusage blocks")
        if "all_seconds" in r:
            notes.append("runs " + ", ".join(f"{x:.2f}" for x in r["all_seconds"]))
        rows_s = r.get("rows_per_s") or r.get("records_per_s")
        t.add_row(
            name,
            _fmt(r.get("seconds")),
            _fmt(rows_s),
            _fmt(r.get("mb_per_s")),
            _fmt(r.get("ratio_vs_read_json") or r.get("ratio_vs_baseline"), "x"),
            _fmt(r.get("peak_rss_mb")),
            "; ".join(notes),
        )
    console = Console(width=200)
    console.print(t)
    for note in results["notes"]:
        console.print(f"note: {note}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analyzer.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="request counts; the largest gets every step, the others the spend ingest (scaling)",
    )
    ap.add_argument("--quick", action="store_true", help=f"smoke run at {QUICK_SIZES[0]:,} requests")
    ap.add_argument("--skip-ccusage", action="store_true")
    ap.add_argument("--work", default=str(REPO_ROOT / "bench-results" / "work"), help="scratch folder")
    ap.add_argument("--out", default=str(REPO_ROOT / "bench-results" / "bench.json"))
    ap.add_argument("--report-runs", type=int, default=REPORT_RUNS)
    a = ap.parse_args(argv)
    sizes = (
        list(QUICK_SIZES) if a.quick else [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    )
    work = Path(a.work)
    out = Path(a.out)
    bench = Bench(work, sizes, a.skip_ccusage, a.report_runs, out)
    print(f"bench: sizes {sizes}, work folder {work}", file=sys.stderr)
    t0 = time.perf_counter()
    results = bench.run_all()
    results["total_seconds"] = round(time.perf_counter() - t0, 1)
    bench.save()
    print_table(results)
    print(f"total {results['total_seconds']:.0f} s; results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
