"""The report in a real browser (Debian's Chromium through Playwright), with the network blocked."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from analyzer import report_html
from analyzer.db import connect
from tests.support.ccusage import require_or_skip
from tests.test_report_html import ALL_CHARTS, write_xss_store

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CHROMIUM = os.environ.get("CCSTATS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: counts the SVG marks vega drew in each chart container
MARKS_JS = """() => Array.from(document.querySelectorAll('div.chart')).map(el => [
  el.id, el.dataset.rendered || '',
  el.querySelectorAll('svg g[class^="mark-"] path, svg g[class^="mark-"] rect, svg g[class^="mark-"] line,'
                      + ' svg g[class^="mark-"] text').length])"""


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    have = sync_playwright is not None and (Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None)
    require_or_skip("chromium", have, f"playwright or chromium ({CHROMIUM}) not available")
    assert sync_playwright is not None
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True
        )
        try:
            yield ctx
        finally:
            ctx.close()


def _open(ctx: Any, path: Path) -> dict[str, Any]:
    """Load ``path`` with every http(s) request aborted; wait for the charts; return what happened."""
    page = ctx.new_page()
    seen: dict[str, Any] = {"network": [], "console": [], "errors": [], "dialogs": []}

    def block(route: Any) -> None:
        seen["network"].append(route.request.url)
        route.abort()

    page.route("http://**/*", block)
    page.route("https://**/*", block)
    page.on("console", lambda m: seen["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))

    def on_dialog(d: Any) -> None:
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.add_init_script("window.__xss = 0; window.alert = function () { window.__xss = 1; };")
    page.goto(path.resolve().as_uri())
    page.wait_for_function("document.body.dataset.chartsDone === '1'", timeout=60_000)
    seen["marks"] = page.evaluate(MARKS_JS)
    seen["tables"] = page.evaluate("() => document.querySelectorAll('table').length")
    seen["xss"] = page.evaluate("() => window.__xss")
    seen["page"] = page
    return seen


def test_sample_report_renders_offline(sample_db: Path, tmp_path: Path, browser_context: Any) -> None:
    con = connect(sample_db, read_only=True)
    try:
        report_html.write_html_report(con, tmp_path / "report.html", tz="Europe/Berlin", now=NOW)
    finally:
        con.close()
    seen = _open(browser_context, tmp_path / "report.html")
    page = seen.pop("page")
    try:
        assert seen["network"] == []
        assert seen["console"] == [] and seen["errors"] == []
        assert [m[0] for m in seen["marks"]] == [f"chart-{c}" for c in ALL_CHARTS]
        for chart_id, state, marks in seen["marks"]:
            assert state == "1" and marks > 0, (chart_id, state, marks)
        # checks, billing totals, fallback summary, keys, users, sessions, tags
        assert seen["tables"] == 7
        assert page.locator("#top-session table tbody tr").count() >= 1
    finally:
        page.close()


def test_markup_in_logs_executes_nothing(tmp_path: Path, browser_context: Any) -> None:
    db = write_xss_store(tmp_path)
    con = connect(db, read_only=True)
    try:
        report_html.write_html_report(con, tmp_path / "xss.html", now=NOW)
    finally:
        con.close()
    seen = _open(browser_context, tmp_path / "xss.html")
    page = seen.pop("page")
    try:
        assert seen["dialogs"] == [] and seen["xss"] == 0
        assert seen["network"] == []
        assert seen["errors"] == []
        assert page.locator("img").count() == 0
        # rendered as visible text
        cell = page.locator("#top-session table tbody tr td").first
        assert cell.inner_text() == "<script>alert(1)</script><img src=x onerror=alert(1)>"
        assert all(state == "1" and marks > 0 for _, state, marks in seen["marks"])
    finally:
        page.close()
