"""Every chart function, on the sample store's frames and on empty frames, gives a valid Vega-Lite spec."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import pytest
from altair.vegalite.v6.schema.core import load_schema

from analyzer import charts, report_data
from analyzer.db import connect

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FRAME_OF = {
    "windows": "windows",
    "weekly": "weekly",
    "billing": "billing_day",
    "fallbacks": "fallback_events",
    "models": "models_daily",
    "errors": "errors",
    "latency": "latency",
}


@pytest.fixture(scope="module")
def data(sample_db: Path) -> report_data.ReportData:
    con = connect(sample_db, read_only=True)
    try:
        return report_data.gather(con, tz="Europe/Berlin", now=NOW)
    finally:
        con.close()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(load_schema())


def _values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every inline data row of a spec (altair moves them into top-level datasets)."""
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_every_chart_has_a_frame() -> None:
    assert list(charts.CHARTS) == list(FRAME_OF)


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_chart_on_sample_frame_is_valid(name: str, data: report_data.ReportData, validator: Any) -> None:
    df = getattr(data, FRAME_OF[name])
    assert df.height > 0
    spec = charts.CHARTS[name](df, tz="Europe/Berlin").to_dict()  # altair validates here too
    validator.validate(spec)
    assert "vconcat" in spec  # the drawn chart, not the "no data" message
    assert "message" not in {k for row in _values(spec) for k in row}


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_chart_on_empty_frame_is_a_valid_message(
    name: str, data: report_data.ReportData, validator: Any
) -> None:
    df = getattr(data, FRAME_OF[name]).clear()
    spec = charts.CHARTS[name](df, tz="UTC").to_dict()
    validator.validate(spec)
    assert spec["mark"]["type"] == "text"
    (row,) = _values(spec)
    assert row["message"].startswith("No ")


def test_windows_chart_data_in_display_zone(data: report_data.ReportData) -> None:
    spec = charts.windows_chart(data.windows, tz="Europe/Berlin").to_dict()
    rows = [r for r in _values(spec) if "window_start" in r]
    assert len(rows) == 1
    row = rows[0]
    # the window starts 10:00 UTC = 11:00 in Berlin; wall time travels as epoch ms on a UTC scale
    assert row["window_start"] == int(datetime(2026, 11, 27, 11, 0, tzinfo=UTC).timestamp() * 1000)
    assert row["window_end"] == int(datetime(2026, 11, 27, 16, 0, tzinfo=UTC).timestamp() * 1000)
    assert row["total_tokens"] == 808205
    assert row["requests"] == 27
    assert row["official_percent"] == pytest.approx(43.0)
    assert row["state"] == "active"
    # in UTC the same window starts at 10:00
    utc = [r for r in _values(charts.windows_chart(data.windows, tz="UTC").to_dict()) if "window_start" in r]
    assert utc[0]["window_start"] == int(datetime(2026, 11, 27, 10, 0, tzinfo=UTC).timestamp() * 1000)


def test_windows_chart_by_group_and_gap_only(data: report_data.ReportData, validator: Any) -> None:
    by_model = data.windows.with_columns(pl.lit("m<1>").alias("model_group")).select(
        ["model_group", *data.windows.columns]
    )
    spec = charts.windows_chart(by_model).to_dict()
    validator.validate(spec)
    assert {r.get("group") for r in _values(spec) if "window_start" in r} == {"m<1>"}
    gaps_only = data.windows.with_columns(pl.lit(True).alias("is_gap"))
    assert charts.windows_chart(gaps_only).to_dict()["mark"]["type"] == "text"


def test_fallbacks_chart_counts_events_per_bucket(data: report_data.ReportData) -> None:
    spec = charts.fallbacks_chart(data.fallback_events, tz="UTC").to_dict()
    rows = [r for r in _values(spec) if "events" in r]
    # 6 events in one hour: 4 router fallbacks opus 4.1 -> sonnet 4.5 (all rescued), 2 cooldowns on opus 4.5
    assert sorted((r["kind"], r["path"], r["events"], r["rescued"]) for r in rows) == [
        ("litellm_cooldown", "claude-opus-4-5-20251101 → (none)", 2, 0),
        ("litellm_router", "claude-opus-4-1-20250805 → claude-sonnet-4-5-20250929", 4, 4),
    ]
    assert {r["bucket"] for r in rows} == {int(datetime(2026, 11, 27, 10, tzinfo=UTC).timestamp() * 1000)}


def test_every_chart_has_tooltips(data: report_data.ReportData) -> None:
    def has_tooltip(node: Any) -> bool:
        if isinstance(node, dict):
            return "tooltip" in node.get("encoding", {}) or any(has_tooltip(v) for v in node.values())
        if isinstance(node, list):
            return any(has_tooltip(v) for v in node)
        return False

    def leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
        for key in ("vconcat", "layer"):
            if key in node:
                return [leaf for child in node[key] for leaf in leaves(child)]
        return [node]

    for name, fn in charts.CHARTS.items():
        spec = fn(getattr(data, FRAME_OF[name])).to_dict()
        assert all("tooltip" in leaf.get("encoding", {}) for leaf in leaves(spec)), name
