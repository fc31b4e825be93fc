"""The HTML report: self-contained, every section present, small, and log content rendered as text only."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analyzer import report_html
from analyzer.db import connect
from tests.support import rows

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MAX_BYTES = 5 * 1024 * 1024
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
ALL_CHARTS = ["windows", "weekly", "billing", "fallbacks", "models", "errors", "latency"]


class Page(HTMLParser):
    """Elements of a page (script and style contents are not parsed as markup)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}  # type: ignore[misc]


def _specs(page: Page) -> dict[str, Any]:
    return json.loads(page.scripts[0])


@pytest.fixture(scope="module")
def sample_report(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("report")
    con = connect(sample_db, read_only=True)
    try:
        result = report_html.write_html_report(
            con, out / "report.html", tz="Europe/Berlin", now=NOW, png_dir=out / "png", svg_dir=out / "svg"
        )
    finally:
        con.close()
    return result, Path(result["path"]).read_text(encoding="utf-8")


def test_result_dict(sample_report: tuple[dict[str, Any], str]) -> None:
    result, text = sample_report
    assert result["bytes"] == len(text.encode("utf-8")) == Path(result["path"]).stat().st_size
    assert result["sections"] == list(report_html.SECTIONS)
    assert result["charts"] == ALL_CHARTS


def test_self_contained(sample_report: tuple[dict[str, Any], str]) -> None:
    _, text = sample_report
    page = Page(text)
    assert [a.get("src") for a in page.named("script")] == [None, None, None]
    assert page.named("script")[0].get("type") == "application/json"
    assert page.named("link") == []
    for tag, attrs in page.tags:
        for key in ("src", "href", "action", "data"):
            value = attrs.get(key) or ""
            assert "://" not in value and not value.startswith("//"), (tag, attrs)
    csp = next(a["content"] for a in page.named("meta") if a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp and "connect-src 'none'" in csp
    # the whole Vega stack is inline
    assert report_html.vega_bundle() == page.scripts[1]
    assert "vegaEmbed" in page.scripts[2]
    assert set(_specs(page)) == set(ALL_CHARTS)


def test_sections_and_content(sample_report: tuple[dict[str, Any], str]) -> None:
    _, text = sample_report
    page = Page(text)
    ids = page.ids()
    assert {f"sec-{s}" for s in report_html.SECTIONS} <= ids
    assert {f"chart-{c}" for c in ALL_CHARTS} <= ids
    assert {"top-key", "top-user", "top-session", "top-tag"} <= ids
    for heading in report_html.SECTIONS.values():
        assert f">{heading}</h" in text
    # header: range in the display zone (first request 10:28:47.81 UTC), counts, definitions
    assert "2026-11-27 11:28:47 CET … 2026-11-27 11:29:28 CET" in text
    assert "<dd>35 in range (35 stored; 39 callback" in text
    assert "<dd>0 records" in text
    assert "Europe/Berlin" in text and "<b>official</b>" in text and "<b>estimate</b>" in text
    assert text.index('id="sec-checks"') < text.index('id="sec-windows"')


def test_report_shows_the_library_values(sample_db: Path, sample_report: tuple[dict[str, Any], str]) -> None:
    """The numbers in the text are the library's, formatted (the sample's classification may evolve)."""
    from analyzer import billing, checks, fallbacks, windows

    _, text = sample_report
    con = connect(sample_db, read_only=True)
    try:
        answers = checks.check(con)
        day = billing.billing_summary(con, by="day", tz="Europe/Berlin")
        active = windows.active_window(con, now=NOW)
        n_retries = fallbacks.retries(con).height
    finally:
        con.close()
    section = text[text.index('id="sec-checks"') : text.index('id="sec-windows"')]
    assert section.count("<tr><td>") == len(answers) == 5
    for a in answers:
        assert f'<tr><td>{html.escape(a["question"])}</td><td><span class="answer {a["answer"]}">' in section
        assert html.escape(a["evidence"]) in section
    api, sub = float(day["api_billed_spend_usd"].sum()), float(day["subscription_value_usd"].sum())
    assert f"Billed to the API (pay-per-use): <b>${api:,.4f}</b>" in text
    assert f"Subscription traffic, valued at API prices: <b>${sub:,.4f}</b>" in text
    assert f"Requests with no billing signal (unknown): <b>{int(day['unknown_requests'].sum()):,}</b>" in text
    assert f"Retries on the same model group (not fallbacks): {n_retries:,}." in text
    # the active window (the sample's window 10:00-15:00 UTC is active at NOW) and its official reset
    assert active is not None and active["reset_source"] == "official"
    reset = active["reset_at"].astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M:%S CET")
    assert f"Resets at {reset} (official)." in text
    assert f"Official 5-hour utilization {active['official_5h_utilization'] * 100:.0f} %" in text
    assert "Active window (estimate) 2026-11-27 11:00:00 CET – 2026-11-27 16:00:00 CET" in text


def test_size_limit(sample_report: tuple[dict[str, Any], str]) -> None:
    result, _ = sample_report
    assert len(report_html.vega_bundle()) < result["bytes"] < MAX_BYTES


def test_png_and_svg(sample_report: tuple[dict[str, Any], str]) -> None:
    result, _ = sample_report
    images = [Path(p) for p in result["images"]]
    assert [p.name for p in images] == [f"{c}.png" for c in ALL_CHARTS] + [f"{c}.svg" for c in ALL_CHARTS]
    for p in images:
        head = p.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if p.suffix == ".png" else b"<svg" in head


def test_empty_store(tmp_path: Path) -> None:
    con = connect(tmp_path / "empty.duckdb")
    try:
        result = report_html.write_html_report(con, tmp_path / "r.html", now=NOW)
    finally:
        con.close()
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert result["charts"] == []
    assert result["sections"] == list(report_html.SECTIONS)
    for message in (
        "No 5-hour windows in this range.",
        "No weekly usage in this range.",
        "No fallback events in this range.",
        "No failed requests in this range.",
        "No successful requests with a duration in this range.",
        "No keys in this range.",
        "No sessions in this range.",
        "No active window",
    ):
        assert message in text
    assert _specs(Page(text)) == {}


def write_xss_store(tmp_path: Path) -> Path:
    """A store whose model names, users, keys, sessions and tags are markup."""
    evil = f"{XSS_SCRIPT}{XSS_IMG}"
    common: dict[str, Any] = {
        "model_group": evil,
        "user": evil,
        "session_id": evil,
        "key_alias": evil,
        "request_tags": json.dumps([XSS_SCRIPT, XSS_IMG]),
    }
    con = rows.load(
        tmp_path,
        spend=[
            rows.spend_row(request_id="msg_x1", start=0, **common),
            rows.spend_row(request_id="msg_x2", start=60, input_tokens=500, **common),
            rows.spend_row(
                start=90,
                status="failure",
                error_code="429",
                error_class="RateLimitError",
                error_message=evil,
                **common,
            ),
        ],
    )
    con.close()
    return tmp_path / "store.duckdb"


def test_untrusted_text_is_escaped(tmp_path: Path) -> None:
    db = write_xss_store(tmp_path)
    con = connect(db, read_only=True)
    try:
        result = report_html.write_html_report(con, tmp_path / "xss.html", now=NOW)
    finally:
        con.close()
    text = (tmp_path / "xss.html").read_text(encoding="utf-8")
    assert result["charts"] == ALL_CHARTS[:3] + ALL_CHARTS[4:]  # no fallbacks
    assert XSS_SCRIPT not in text and XSS_IMG not in text
    assert "</script><" not in text.replace("</script>\n<script>", "")
    page = Page(text)
    assert len(page.named("script")) == 3
    assert page.named("img") == []
    assert not [(t, a) for t, a in page.tags if any(k.startswith("on") for k in a)]
    # shown as text in the tables (sessions, users, keys, tags) and kept intact in the chart data
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;") >= 3
    assert "&lt;img src=x onerror=alert(1)&gt;</td>" in text
    specs = json.dumps(_specs(page))
    assert json.dumps(f"{XSS_SCRIPT}{XSS_IMG}")[1:-1] in specs


def test_year_of_traffic_stays_small(tmp_path: Path) -> None:
    from analyzer import synth
    from analyzer.ingest import IngestOptions, ingest_paths

    log = tmp_path / "year.jsonl"
    start = datetime(2025, 11, 3, tzinfo=UTC)
    assert synth.write_spend_jsonl(log, 4000, seed=5, start=start, days=365, developers=1) == 4000
    con = connect(tmp_path / "year.duckdb")
    try:
        _, errors = ingest_paths(con, [str(log)], IngestOptions())
        assert not errors
        first, last = con.execute("select min(started_at), max(started_at) from requests").fetchall()[0]
        assert (last - first).days >= 300
        result = report_html.write_html_report(
            con, tmp_path / "year.html", tz="Europe/Berlin", now=datetime(2026, 11, 3, tzinfo=UTC)
        )
    finally:
        con.close()
    assert result["charts"] == ALL_CHARTS
    assert result["bytes"] < MAX_BYTES
    # aggregated: no chart embeds one row per request
    specs = _specs(Page((tmp_path / "year.html").read_text(encoding="utf-8")))
    for name, spec in specs.items():
        assert sum(len(v) for v in spec.get("datasets", {}).values()) < 4000, name
