"""Shared fixtures. No test touches the user's real data: CCSTATS_HOME and CCSTATS_DB point into tmp dirs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = REPO / "sample_logs"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCSTATS_HOME", str(tmp_path / "ccstats-home"))
    monkeypatch.delenv("CCSTATS_DB", raising=False)
    monkeypatch.setenv("TZ", os.environ.get("TZ", "UTC"))


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding everything in sample_logs/ (read it read-only, or copy it)."""
    from analyzer import connect
    from analyzer.ingest import IngestOptions, ingest_paths, load_litellm_config

    db = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    con = connect(db)
    load_litellm_config(con, REPO / "scripts" / "capture" / "litellm_config.yaml")
    summaries, errors = ingest_paths(con, [str(SAMPLE_LOGS)], IngestOptions(log_tz="Europe/Berlin"))
    con.close()
    assert not errors and not [s for s in summaries if s.error]
    return db


@pytest.fixture()
def sample_db_copy(sample_db: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy.duckdb"
    shutil.copy(sample_db, dst)
    return dst
