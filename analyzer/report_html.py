"""The offline HTML report: one self-contained file (Vega, Vega-Lite and vega-embed inlined, data embedded).

Safety: log content is untrusted. Every text put into HTML goes through :func:`html.escape`; chart specs go
through JSON with ``<``, ``>``, ``&`` and the JS line separators written as JSON unicode escapes
(``\\u003c`` for ``<``), so no value can close the ``<script>`` element. A Content-Security-Policy allows
only this file's own two scripts (by hash), forbids every network fetch, and so also blocks inline event
handlers should anything slip through.
Vega renders axis labels and legends as SVG text, and vega-embed's tooltip handler escapes values.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from . import charts
from .report_data import ReportData, gather

#: section id -> heading, in report order
SECTIONS = {
    "header": "ccstats report",
    "checks": "Answers",
    "windows": "5-hour windows",
    "weekly": "Weekly usage",
    "billing": "Who paid",
    "fallbacks": "Fallbacks",
    "models": "Models and cost per day",
    "errors": "Errors and rate limits",
    "latency": "Latency",
    "top": "Top keys, users, sessions and tags",
}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1000px;padding:1em 2em;
color:#222}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f5f5f5}
.empty{color:#666;font-style:italic;padding:.5em 0}
.answer{font-weight:bold;text-transform:uppercase;padding:1px 6px;border-radius:3px}
.yes{background:#fde2e1}.no{background:#e3f4e1}.unknown{background:#eee}
.note{color:#555;font-size:13px}.chart{margin:.5em 0 1em}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}dt{font-weight:bold}dd{margin:0}
"""

_INIT_JS = """
(function () {
  var specs = JSON.parse(document.getElementById('ccstats-specs').textContent);
  var opts = {renderer: 'svg', actions: {export: true, source: false, compiled: false, editor: false}};
  var pending = Object.keys(specs).map(function (name) {
    var el = document.getElementById('chart-' + name);
    return vegaEmbed(el, specs[name], opts).then(function () { el.dataset.rendered = '1'; })
      .catch(function (err) {
        el.dataset.rendered = 'error';
        el.textContent = 'This chart could not be drawn: ' + err;
        console.error(err);
      });
  });
  Promise.all(pending).then(function () { document.body.dataset.chartsDone = '1'; });
})();
"""


@cache
def vega_bundle() -> str:
    """vega-embed + Vega-Lite + Vega as one script (from vl-convert; no network), safe inside <script>."""
    import vl_convert

    try:
        from altair.utils._importers import vl_version_for_vl_convert

        version: str | None = vl_version_for_vl_convert()
    except ImportError:  # pragma: no cover - older altair
        version = None
    bundle = str(vl_convert.javascript_bundle(None, vl_version=version))  # type: ignore[arg-type]
    if "</script" in bundle.lower() or "<!--" in bundle:
        raise RuntimeError("the vega bundle contains '</script' or '<!--' and cannot be inlined")
    return bundle


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: < > & and U+2028/2029 written as \\u escapes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str, allow_nan=False)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


# ---------------------------------------------------------------------------------------------- formatting

e = html.escape


def _when(value: datetime | None, tz: str) -> str:
    if value is None:
        return "–"
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M")
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")


def _cell(value: Any, tz: str) -> tuple[str, bool]:
    """(escaped text, numeric?) of one table value."""
    if value is None:
        return "–", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value else "0", True
    if isinstance(value, datetime):
        return e(_when(value, tz)), False
    if isinstance(value, list):
        return e(", ".join(str(v) for v in value)), False
    return e(str(value)), False


def table(
    df: pl.DataFrame, tz: str, *, columns: dict[str, str] | None = None, empty: str = "No rows."
) -> str:
    """An HTML table of ``df`` (``columns``: column -> heading, in order); every cell escaped."""
    if not df.height:
        return f'<p class="empty">{e(empty)}</p>'
    cols = columns or {c: c for c in df.columns}
    cols = {c: h for c, h in cols.items() if c in df.columns}
    head = "".join(f"<th>{e(h)}</th>" for h in cols.values())
    body = []
    for row in df.select(list(cols)).iter_rows(named=True):
        cells = []
        for c in cols:
            text, num = _cell(row[c], tz)
            cells.append(f'<td class="n">{text}</td>' if num else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _empty(text: str) -> str:
    return f'<p class="empty">{e(text)}</p>'


def _chart_div(name: str) -> str:
    return f'<div class="chart" id="chart-{e(name)}"></div>'


# ---------------------------------------------------------------------------------------------- sections


def _header(rd: ReportData) -> str:
    m, tz = rd.meta, rd.tz
    rng = f"{_when(m['first_at'], tz)} … {_when(m['last_at'], tz)}" if m["requests"] else "no requests"
    asked = ""
    if rd.since or rd.until:
        asked = f" (asked for {_when(rd.since, tz) if rd.since else '…'} to {_when(rd.until, tz) if rd.until else '…'})"
    sources = m["source_list"]
    src = (
        "<ul>"
        + "".join(
            f"<li>{e(str(s['path']))} ({e(str(s['format']))}: {s['rows_added']:,} rows added, "
            f"{s['duplicates']:,} duplicates, {s['quarantined']:,} quarantined)</li>"
            for s in sources
        )
        + "</ul>"
        if sources
        else _empty("No sources ingested.")
    )
    return f"""
<dl>
<dt>Data range</dt><dd>{e(rng)}{e(asked)}</dd>
<dt>Requests</dt><dd>{m["requests"]:,} in range ({m["stored_requests"]:,} stored; {m["callback_events"]:,} callback
events, {m["proxy_events"]:,} proxy log events)</dd>
<dt>Quarantined</dt><dd>{m["quarantined"]:,} records (unreadable lines kept aside; see <code>ccstats status</code>)</dd>
<dt>Generated at</dt><dd>{e(_when(rd.generated_at, tz))}</dd>
<dt>Time zone</dt><dd>{e(tz)} (all times shown in it; stored in UTC)</dd>
<dt>Split by</dt><dd>{e(rd.by or "all traffic")}; plan limit: {e(str(rd.plan))}</dd>
</dl>
<p class="note"><b>official</b> = a value Anthropic sent in the upstream <code>anthropic-ratelimit-unified-*</code>
headers that LiteLLM logged (5-hour and 7-day utilization and reset times); only subscription (OAuth) traffic carries
them. <b>estimate</b> = computed by ccstats from the logged requests: 5-hour windows follow ccusage's block rule,
token limits come from plan presets or the P90 of past windows (claude-monitor's rule), and neither is published
by Anthropic.</p>
<h3>Sources</h3>{src}
"""


def _checks(rd: ReportData) -> str:
    if not rd.checks:
        return _empty("No answers.")
    rows = []
    for a in rd.checks:
        ans = str(a.get("answer", "unknown"))
        cls = ans if ans in ("yes", "no", "unknown") else "unknown"
        rows.append(
            f"<tr><td>{e(str(a.get('question', '')))}</td>"
            f'<td><span class="answer {cls}">{e(ans)}</span></td><td>{e(str(a.get("evidence", "")))}</td></tr>'
        )
    return (
        "<table><thead><tr><th>Question</th><th>Answer</th><th>Evidence</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _num(v: Any, fmt: str = ",.0f") -> str:
    return "–" if v is None else format(v, fmt)


def _active(rd: ReportData) -> str:
    a = rd.active
    if not a:
        return _empty("No active window at the time the report was generated.")
    tz = rd.tz
    parts = []
    if a.get("window_start") is not None:
        parts.append(
            f"Active window (estimate) {e(_when(a['window_start'], tz))} – {e(_when(a['window_end'], tz))}: "
            f"{_num(a['requests'])} requests, {_num(a['total_tokens'])} tokens ({_num(a['io_tokens'])} input+output), "
            f"${_num(a['cost_usd'], ',.4f')} computed cost. Burn rate {_num(a['tokens_per_minute'])} tokens/min, "
            f"${_num(a['cost_per_hour'], ',.2f')}/h; projected by window end: {_num(a['projected_total_tokens'])} "
            f"tokens, ${_num(a['projected_cost_usd'], ',.2f')}. {_num(a['percent_of_limit'], '.1f')} % of the limit "
            f"now, {_num(a['projected_percent_of_limit'], '.1f')} % projected ({e(str(a.get('limit_label') or ''))})."
        )
    if a.get("official_5h_utilization") is not None:
        parts.append(
            f"Official 5-hour utilization {a['official_5h_utilization'] * 100:.0f} % "
            f"(status {e(str(a.get('official_5h_status')))}, logged {e(_when(a.get('official_logged_at'), tz))})."
        )
    parts.append(f"Resets at {e(_when(a.get('reset_at'), tz))} ({e(str(a.get('reset_source')))}).")
    return "<p>" + " ".join(parts) + "</p>"


def _section(sid: str, body: str) -> str:
    tag = "h1" if sid == "header" else "h2"
    return f'<section id="sec-{sid}"><{tag}>{e(SECTIONS[sid])}</{tag}>{body}</section>'


def _chart_or_message(
    name: str,
    df: pl.DataFrame,
    message: str,
    specs: dict[str, Any],
    built: dict[str, charts.AnyChart],
    rd: ReportData,
) -> str:
    if not df.height:
        return _empty(message)
    chart = charts.CHARTS[name](df, tz=rd.tz)
    built[name] = chart
    specs[name] = chart.to_dict()
    return _chart_div(name)


def build_html(rd: ReportData) -> tuple[str, list[str], dict[str, charts.AnyChart]]:
    """(HTML text, section ids, charts drawn by name) of a gathered report."""
    tz = rd.tz
    specs: dict[str, Any] = {}
    built: dict[str, charts.AnyChart] = {}
    body: dict[str, str] = {"header": _header(rd), "checks": _checks(rd)}

    win = rd.windows.filter(~pl.col("is_gap")) if rd.windows.height else rd.windows
    label = str(win["limit_label"][0]) if win.height else ""
    body["windows"] = (
        _active(rd)
        + (f'<p class="note">Limit: {e(label)}. {e(str(win["window_rule"][0]))}.</p>' if win.height else "")
        + _chart_or_message("windows", win, "No 5-hour windows in this range.", specs, built, rd)
    )
    body["weekly"] = _chart_or_message(
        "weekly", rd.weekly, "No weekly usage in this range.", specs, built, rd
    ) + (f'<p class="note">Periods: {e(str(rd.weekly["anchor"][0]))}.</p>' if rd.weekly.height else "")
    tot = rd.billing_totals
    billing_note = ""
    if tot.height:
        api = float(tot["api_billed_spend_usd"].sum())
        sub = float(tot["subscription_value_usd"].sum())
        unknown = int(tot["unknown_requests"].sum())
        billing_note = (
            f"<p>Billed to the API (pay-per-use): <b>${api:,.4f}</b> at LiteLLM's logged API list price. "
            f"Subscription traffic, valued at API prices: <b>${sub:,.4f}</b> (covered by the plan). "
            f"Requests with no billing signal (unknown): <b>{unknown:,}</b>; the table says why.</p>"
        )
    body["billing"] = (
        billing_note
        + _chart_or_message("billing", rd.billing_day, "No requests in this range.", specs, built, rd)
        + table(
            tot,
            tz,
            empty="No requests in this range.",
            columns={
                "billing_route": "billing route",
                "requests": "requests",
                "failures": "failures",
                "total_tokens": "tokens",
                "api_billed_spend_usd": "billed to the API ($)",
                "subscription_value_usd": "subscription value ($)",
                "unknown_requests": "unknown",
                "low_confidence_requests": "low confidence",
                "top_reasons": "why (commonest evidence)",
            },
        )
    )
    body["fallbacks"] = (
        _chart_or_message(
            "fallbacks", rd.fallback_events, "No fallback events in this range.", specs, built, rd
        )
        + (
            table(
                rd.fallback_summary,
                tz,
                columns={
                    "kind": "kind",
                    "from_model": "from",
                    "to_model": "to",
                    "events": "events",
                    "rescued": "rescued",
                    "first_at": "first",
                    "last_at": "last",
                    "top_trigger": "trigger",
                },
            )
            if rd.fallback_summary.height
            else ""
        )
        + f'<p class="note">Retries on the same model group (not fallbacks): {rd.retries:,}.</p>'
    )
    body["models"] = _chart_or_message(
        "models", rd.models_daily, "No requests in this range.", specs, built, rd
    )
    body["errors"] = _chart_or_message(
        "errors", rd.errors, "No failed requests in this range.", specs, built, rd
    )
    body["latency"] = _chart_or_message(
        "latency", rd.latency, "No successful requests with a duration in this range.", specs, built, rd
    )
    top_cols = {
        "name": "name",
        "requests": "requests",
        "failures": "failures",
        "total_tokens": "tokens",
        "spend_usd": "spend ($, API list price)",
        "billing_routes": "billing routes",
        "models": "models",
        "first_at": "first",
        "last_at": "last",
    }
    titles = {"key": "Keys", "user": "Users", "session": "Sessions", "tag": "Tags"}
    body["top"] = "".join(
        f'<h3>{titles[dim]}</h3><div id="top-{dim}">'
        + table(df, tz, columns=top_cols, empty=f"No {titles[dim].lower()} in this range.")
        + "</div>"
        for dim, df in rd.top.items()
    )

    init = _INIT_JS
    bundle = vega_bundle()
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(bundle)} {_csp_hash(init)} 'unsafe-eval'; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; "
        "form-action 'none'"
    )
    sections = list(SECTIONS)
    page = "".join(_section(sid, body[sid]) for sid in sections)
    text = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{e(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ccstats report</title>
<style>{_CSS}</style>
</head>
<body>
{page}
<script type="application/json" id="ccstats-specs">{script_json(specs)}</script>
<script>{bundle}</script>
<script>{init}</script>
</body>
</html>
"""
    return text, sections, built


def write_html_report(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    tz: str = "UTC",
    by: str | None = None,
    plan: str | int = "p90",
    now: datetime | None = None,
    png_dir: str | Path | None = None,
    svg_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Write the self-contained HTML report to ``path`` (and each chart as PNG/SVG into ``png_dir``/``svg_dir``
    through vl-convert). Returns {path, bytes, sections, charts, images}."""
    rd = gather(con, since=since, until=until, tz=tz, by=by, plan=plan, now=now)
    text, sections, built = build_html(rd)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    out.write_bytes(data)
    images: list[str] = []
    targets: tuple[tuple[Literal["png", "svg"], str | Path | None], ...] = (
        ("png", png_dir),
        ("svg", svg_dir),
    )
    for fmt, folder in targets:
        if folder is None:
            continue
        d = Path(folder)
        d.mkdir(parents=True, exist_ok=True)
        for name, chart in built.items():
            target = d / f"{name}.{fmt}"
            chart.save(str(target), format=fmt)
            images.append(str(target))
    return {
        "path": str(out),
        "bytes": len(data),
        "sections": sections,
        "charts": list(built),
        "images": images,
    }
