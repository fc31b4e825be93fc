"""`ccstats report` and `ccstats check`: terminal tables or one JSON object, from the library's DataFrames.

Times are computed and stored in UTC and converted to ``--tz`` only here, for display. Every money column says
which cost it is: ``spend_usd`` is LiteLLM's logged spend (API list price for all traffic, subscription traffic
included); ``cost_usd`` is computed by ccstats with genai-prices.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import json
import sys
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from .db import connect, default_db_path, local_timezone_name
from .errors import UserError

WINDOW_ROWS = 12  # windows shown in the terminal; --json has all of them


@dataclass
class ReportOptions:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    tz: str = "UTC"
    by: str | None = None
    plan: str = "p90"
    now: dt.datetime | None = None


def parse_options(
    since: str | None, until: str | None, tz: str | None, by: str | None, plan: str | None
) -> ReportOptions:
    """Validate the shared report options; a bad value is a UserError (one line, no traceback)."""
    zone = tz or local_timezone_name()
    try:
        zinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"--tz: unknown time zone {zone!r}") from exc

    def parse(name: str, value: str | None) -> dt.datetime | None:
        if not value:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise UserError(
                f"--{name}: expected an ISO date or time such as 2026-11-27 or 2026-11-27T09:00, "
                f"got {value!r}"
            ) from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zinfo)
        return parsed.astimezone(dt.UTC)

    opts = ReportOptions(parse("since", since), parse("until", until), zone, by, plan or "p90")
    if opts.since and opts.until and opts.since >= opts.until:
        raise UserError("--since must be before --until")
    return opts


#: `report --json` lists at most this many rows of each per-request list (the rest is counted and summarised)
JSON_RECENT_API_LEAKS = 100
JSON_MAX_EVENTS = 1000


def collect(con: duckdb.DuckDBPyConnection, opts: ReportOptions) -> dict[str, Any]:
    """Everything `report` shows, as DataFrames and plain data (the HTML report and notebooks use the same calls).

    Each thing is computed once: windows, weekly usage and the billing cube sum the hourly rollup
    (analyzer.rollup, checked against request_log); the active window comes from the windows frame when that
    covers all traffic, and the billing totals, pay-per-use aggregates and the API-billing check from the billing
    cube. Pay-per-use requests come as per key/day aggregates (``api_leaks_by_key_day``) plus the most recent
    :data:`JSON_RECENT_API_LEAKS` (``api_leaks_recent``), not one row per request (analyzer.billing.api_leaks).
    Fallback events likewise: the most recent :data:`JSON_MAX_EVENTS` (``fallbacks``) and how many there are
    (``fallbacks_total``, the sum of ``fallback_summary``); every one: analyzer.fallbacks.fallback_events. Retried
    requests too (``retries``, ``retries_total``; every one: analyzer.fallbacks.retries).

    A second connection in a second thread meanwhile checks the stored rollup against request_log (the checksum
    scan), then runs the checks that read the store and the metadata; a third reads the retries and fallback
    lists. DuckDB works without holding Python's lock, so the three overlap. The rollup parts are computed from the stored rollup at once, and again from a corrected
    copy in the rare case that check finds it stale (an ingest stopped before its refresh, or a hand edit).
    """
    from concurrent.futures import ThreadPoolExecutor

    from . import rollup
    from .db import cursor

    when = opts.now or dt.datetime.now(dt.UTC)
    with ThreadPoolExecutor(max_workers=3) as pool:
        preload_imports()
        roll = rollup.stored_if_fingerprint_matches(con)
        side = pool.submit(_collect_side, cursor(con), opts, roll is not None)
        events = pool.submit(_collect_events, cursor(con), opts)
        if roll is None:  # computed with other prices, configuration or SQL: every hour again
            roll = rollup.current(con)
        from . import checks

        out = _rollup_parts(con, opts, roll, when)
        out.update(events.result())
        side_out = side.result()
        if side_out.pop("rollup_stale", 0):
            out.update(_rollup_parts(con, opts, rollup.current(con), when))
    out.update(side_out)
    out["check"] = checks.with_api_billing(side_out["check"], out.pop("_api_billing"))
    return out


def _rollup_parts(
    con: duckdb.DuckDBPyConnection, opts: ReportOptions, roll: str | None, when: dt.datetime
) -> dict[str, Any]:
    """The parts of :func:`collect` that sum the rollup ``roll``: windows, the active window, weekly usage, the
    billing cube's summaries and the API-billing check (as ``_api_billing``)."""
    from . import billing, checks, windows

    kw = {"since": opts.since, "until": opts.until}
    head = windows.latest_headers(con, rollup=roll)
    win = windows.windows(
        con, by=opts.by, plan=opts.plan, now=when, since=opts.since, until=opts.until, rollup=roll
    )
    reuse = opts.by is None and opts.since is None and opts.until is None
    cube = billing.billing_cube(con, tz=opts.tz, rollup=roll, **kw)  # classifies every request once
    return {
        "windows": win,
        "active": windows.active_window(
            con, plan=opts.plan, now=when, frame=win if reuse else None, headers=head
        ),
        "weekly": windows.weekly(
            con, tz=opts.tz, now=when, since=opts.since, until=opts.until, rollup=roll, headers=head
        ),
        "billing_by_day": billing.billing_summary(con, by="day", tz=opts.tz, cube=cube, **kw),
        "billing_by_key": billing.billing_summary(con, by="key", tz=opts.tz, cube=cube, **kw),
        "api_leaks_by_key_day": billing.api_leaks_by_key_day(con, tz=opts.tz, cube=cube, **kw),
        "api_leaks_recent": billing.recent_api_leaks(con, n=JSON_RECENT_API_LEAKS, cube=cube, **kw),
        "_api_billing": checks.check_api_billing(
            con, cube if opts.since is None and opts.until is None else None
        ),
    }


def _collect_side(con: duckdb.DuckDBPyConnection, opts: ReportOptions, verify_rollup: bool) -> dict[str, Any]:
    """The part of :func:`collect` on its own connection: whether the stored rollup is stale (``rollup_stale``,
    hours; checked when ``verify_rollup``), then the checks that read the store and the metadata."""
    from . import checks, rollup

    try:
        stale = rollup.stale_hours(con) if verify_rollup else 0
        return {"rollup_stale": stale, "check": checks.check_store(con), "meta": meta(con, opts)}
    finally:
        con.close()


def _collect_events(con: duckdb.DuckDBPyConnection, opts: ReportOptions) -> dict[str, Any]:
    """The part of :func:`collect` on a third connection: retried requests and the fallback lists."""
    from . import fallbacks

    try:
        out: dict[str, Any] = {}
        out["retries"], out["retries_total"] = fallbacks.recent_retries(
            con, n=JSON_MAX_EVENTS, since=opts.since, until=opts.until
        )
        out.update(_fallback_lists(con, opts))
        return out
    finally:
        con.close()


@functools.cache
def preload_imports() -> None:
    """Start importing polars, numpy and the analytics modules (about 0.15 s) in a thread, once per process: the
    report needs them only for its results, and DuckDB runs without Python's lock, so the import overlaps opening
    the store and the first queries."""
    import threading

    def load() -> None:
        for name in ("polars", "analyzer.windows", "analyzer.billing", "analyzer.checks"):
            importlib.import_module(name)

    threading.Thread(target=load, name="ccstats-preload", daemon=True).start()


def _fallback_lists(con: duckdb.DuckDBPyConnection, opts: ReportOptions) -> dict[str, Any]:
    """The fallback summary, the most recent events and how many there are."""
    from . import fallbacks

    kw = {"since": opts.since, "until": opts.until}
    # straight from the view: both queries read only what they need (a temp copy of every event cost more)
    summary = fallbacks.fallback_summary(con, **kw)
    return {
        "fallbacks": fallbacks.recent_fallback_events(con, n=JSON_MAX_EVENTS, **kw),
        "fallback_summary": summary,
        "fallbacks_total": int(summary["events"].sum()) if summary.height else 0,
    }


def meta(con: duckdb.DuckDBPyConnection, opts: ReportOptions) -> dict[str, Any]:
    first, last, n = con.execute(
        "select min(started_at), max(started_at), count(*) from request_log"
    ).fetchall()[0]
    q = con.execute("select count(*) from quarantine").fetchall()[0][0]
    src = con.execute("select count(*) from sources").fetchall()[0][0]
    return {
        "generated_at": dt.datetime.now(dt.UTC),
        "timezone": opts.tz,
        "data_from": first,
        "data_to": last,
        "requests": n,
        "sources": src,
        "quarantined": q,
        "since": opts.since,
        "until": opts.until,
        "plan": opts.plan,
        "costs": {
            "spend_usd": "LiteLLM's logged spend: API list price for every request, subscription traffic included",
            "cost_usd": "computed by ccstats from token counts with genai-prices (API list price)",
        },
        "windows": {
            "estimate": "ccusage's block rule over the logged requests (start floored to the UTC hour, 5 h long)",
            "official": "Anthropic's anthropic-ratelimit-unified-5h-* headers, where LiteLLM logged them",
        },
    }


# ---------------------------------------------------------------- JSON


def _jsonable(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, zone) for v in value]
    if isinstance(value, float) and value != value:  # NaN
        return None
    if hasattr(value, "to_dicts"):
        return _frame_rows(value, zone)
    return value


def _frame_rows(df: Any, zone: ZoneInfo) -> list[dict[str, Any]]:
    """A frame's rows as :func:`_jsonable` makes them, converting only the columns whose type needs it (the
    recursive walk over every value took most of ``as_json``'s time)."""
    import polars as pl

    rows: list[dict[str, Any]] = df.to_dicts()
    for name, dtype in df.schema.items():
        if dtype.is_numeric() and not dtype.is_float() or dtype in (pl.String, pl.Boolean, pl.Null):
            continue  # as JSON takes them
        for row in rows:
            row[name] = _jsonable(row[name], zone)
    return rows


def _recent(df: Any, n: int) -> Any:
    """The last ``n`` rows of an oldest-first frame."""
    return df.tail(n) if len(df) > n else df


def as_json(data: dict[str, Any], opts: ReportOptions) -> str:
    """One JSON object. Per-request lists are bounded (see ``meta.lists``): fallback events and retries keep the
    most recent :data:`JSON_MAX_EVENTS`; pay-per-use requests are aggregated per day and key, plus the most recent
    :data:`JSON_RECENT_API_LEAKS`."""
    from .billing import API_LEAKS_QUERY

    zone = ZoneInfo(opts.tz)
    events, retries = data["fallbacks"], data["retries"]
    by_key_day, recent = data["api_leaks_by_key_day"], data["api_leaks_recent"]
    leak_total = int(by_key_day["requests"].sum()) if len(by_key_day) else 0
    meta = dict(data["meta"])
    meta["lists"] = {
        "fallbacks.events": f"the most recent {JSON_MAX_EVENTS} of fallbacks.events_total events (all of them are "
        "counted in fallbacks.summary); every one: select * from fallback_events",
        "fallbacks.retries": f"the most recent {JSON_MAX_EVENTS} of fallbacks.retries_total retried requests",
        "billing.api_leaks": f"pay-per-use requests (api, cloud, subscription_overage): requests (total), by_key_day "
        f"(aggregates per day in {opts.tz}, key and route) and recent (the most recent "
        f"{JSON_RECENT_API_LEAKS}); every one: {API_LEAKS_QUERY}",
    }
    out = {
        "meta": meta,
        "windows": data["windows"],
        "active_window": data["active"],
        "weekly": data["weekly"],
        "fallbacks": {
            "events_total": data.get("fallbacks_total", len(events)),
            "events": _recent(events, JSON_MAX_EVENTS),
            "summary": data["fallback_summary"],
            "retries_total": data.get("retries_total", len(retries)),
            "retries": _recent(retries, JSON_MAX_EVENTS),
        },
        "billing": {
            "by_day": data["billing_by_day"],
            "by_key": data["billing_by_key"],
            "api_leaks": {
                "requests": leak_total,
                "by_key_day": by_key_day,
                "recent": recent,
                "query": API_LEAKS_QUERY,
            },
        },
        "check": data["check"],
    }
    # compact: json's C encoder runs only without indent (pipe through `jq` to read it)
    return json.dumps(_jsonable(out, zone), default=str)


# ---------------------------------------------------------------- terminal


def _fmt_time(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _n(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _usd(value: Any) -> str:
    return "" if value is None else f"${value:,.2f}"


def print_report(data: dict[str, Any], opts: ReportOptions) -> None:
    from rich.console import Console
    from rich.table import Table

    zone = ZoneInfo(opts.tz)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    m = data["meta"]
    console.print(
        f"[bold]ccstats[/bold]  {m['requests']:,} requests from {m['sources']} sources, "
        f"{_fmt_time(m['data_from'], zone)} to {_fmt_time(m['data_to'], zone)} ({opts.tz}); "
        f"{m['quarantined']:,} quarantined"
    )

    t = Table(title="Checks", title_justify="left")
    for col in ("question", "answer", "evidence"):
        t.add_column(col, overflow="fold")
    colors = {"yes": "green", "no": "red", "unknown": "yellow"}
    for a in data["check"]:
        t.add_row(a["question"], f"[{colors.get(a['answer'], 'white')}]{a['answer']}[/]", a["evidence"])
    console.print(t)

    act = data["active"]
    if act:
        reset = _fmt_time(act.get("reset_at"), zone)
        pct = act.get("percent_of_limit")
        console.print(
            f"[bold]Current 5-hour window[/bold]: resets {reset} ({act.get('reset_source')}); "
            f"{_n(act.get('total_tokens'))} tokens"
            + (f", {pct:.0f}% of {act.get('limit_label')}" if pct is not None else "")
            + (f"; burn {act['tokens_per_minute']:,.0f} tokens/min" if act.get("tokens_per_minute") else "")
            + (
                f", projected {act['projected_total_tokens']:,.0f} at reset"
                if act.get("projected_total_tokens")
                else ""
            )
            + (
                f"; official utilization {act['official_5h_utilization']:.0%}"
                if act.get("official_5h_utilization") is not None
                else ""
            )
        )
    else:
        console.print("[bold]Current 5-hour window[/bold]: none active")

    w = data["windows"]
    by_col = w.columns[0] if opts.by else None
    shown = w.filter(~w["is_gap"]).tail(WINDOW_ROWS) if len(w) else w
    t = Table(
        title=f"5-hour windows (estimate; last {len(shown)} of {int((~w['is_gap']).sum()) if len(w) else 0})",
        title_justify="left",
    )
    cols = ([by_col] if by_col else []) + [
        "start",
        "end",
        "req",
        "input",
        "output",
        "cache write",
        "cache read",
        "total",
        "spend_usd",
        "cost_usd",
        "% limit",
        "official 5h",
        "models",
    ]
    for c in cols:
        t.add_column(c, justify="left" if c in ("start", "end", "models", by_col) else "right")
    for r in shown.to_dicts():
        row = ([str(r[by_col])] if by_col else []) + [
            _fmt_time(r["window_start"], zone) + (" *" if r["is_active"] else ""),
            _fmt_time(r["window_end"], zone),
            _n(r["requests"]),
            _n(r["input_tokens"]),
            _n(r["output_tokens"]),
            _n(r["cache_creation_tokens"]),
            _n(r["cache_read_tokens"]),
            _n(r["total_tokens"]),
            _usd(r["spend_usd"]),
            _usd(r["cost_usd"]),
            "" if r["percent_of_limit"] is None else f"{r['percent_of_limit']:.0f}%",
            "" if r["official_5h_utilization"] is None else f"{r['official_5h_utilization']:.0%}",
            ", ".join(r["models"] or []),
        ]
        t.add_row(*row)
    console.print(t)
    if len(w):
        console.print(f"  limit: {w['limit_label'][0]}; * = active window", style="dim")

    wk = data["weekly"]
    t = Table(title="Weekly usage", title_justify="left")
    for c in ("period", "anchor", "req", "total tokens", "spend_usd", "cost_usd", "official 7d"):
        t.add_column(c)
    for r in wk.to_dicts():
        t.add_row(
            f"{_fmt_time(r['period_start'], zone)} to {_fmt_time(r['period_end'], zone)}",
            r["anchor"],
            _n(r["requests"]),
            _n(r["total_tokens"]),
            _usd(r["spend_usd"]),
            _usd(r["cost_usd"]),
            "" if r["official_7d_utilization"] is None else f"{r['official_7d_utilization']:.0%}",
        )
    console.print(t)

    b = data["billing_by_day"]
    t = Table(title="Who paid, per day", title_justify="left")
    for c in (
        "day",
        "route",
        "req",
        "total tokens",
        "spend_usd",
        "billed to API",
        "subscription value",
        "unknown",
    ):
        t.add_column(c)
    for r in b.to_dicts():
        t.add_row(
            str(r["day"]),
            r["billing_route"],
            _n(r["requests"]),
            _n(r["total_tokens"]),
            _usd(r["spend_usd"]),
            _usd(r["api_billed_spend_usd"]),
            _usd(r["subscription_value_usd"]),
            _n(r["unknown_requests"]),
        )
    console.print(t)

    fs = data["fallback_summary"]
    t = Table(
        title=f"Fallbacks ({data.get('fallbacks_total', len(data['fallbacks']))} events; "
        f"{data.get('retries_total', len(data['retries']))} plain retries counted apart)",
        title_justify="left",
    )
    for c in ("kind", "from", "to", "events", "rescued", "last", "trigger"):
        t.add_column(c, overflow="fold")
    for r in fs.to_dicts():
        t.add_row(
            r["kind"],
            str(r["from_model"]),
            str(r["to_model"]),
            _n(r["events"]),
            _n(r["rescued"]),
            _fmt_time(r["last_at"], zone),
            str(r["top_trigger"] or ""),
        )
    console.print(t)

    leaks = data["api_leaks_recent"]
    leak_total = (
        int(data["api_leaks_by_key_day"]["requests"].sum()) if len(data["api_leaks_by_key_day"]) else 0
    )
    if len(leaks):
        t = Table(
            title=f"Requests billed to a pay-per-use account ({leak_total:,}; latest {min(15, len(leaks))})",
            title_justify="left",
        )
        for c in ("time", "key", "route", "model", "billing", "evidence"):
            t.add_column(c, overflow="fold")
        for r in leaks.tail(15).to_dicts():
            t.add_row(
                _fmt_time(r["started_at"], zone),
                str(r["key_alias"] or (r["key_hash"] or "")[:12]),
                str(r["route"]),
                str(r["model_group"] or r["model_requested"]),
                r["billing_route"],
                r["billing_evidence"],
            )
        console.print(t)
    console.print(
        "  spend_usd = LiteLLM's logged spend (API list price, all traffic); cost_usd = computed with genai-prices",
        style="dim",
    )


# ---------------------------------------------------------------- commands


def _open(db_path: str | None) -> duckdb.DuckDBPyConnection:
    return connect(db_path or default_db_path(), read_only=True)


def report_command(
    db_path: str | None,
    since: str | None,
    until: str | None,
    tz: str | None,
    by: str | None,
    plan: str | None,
    as_json: bool,
    html_path: str | None,
    png_dir: str | None,
    svg_dir: str | None,
) -> None:
    import click

    opts = parse_options(since, until, tz, by, plan)
    preload_imports()
    con = _open(db_path)
    try:
        if html_path:
            from .report_html import write_html_report

            info = write_html_report(
                con,
                html_path,
                since=opts.since,
                until=opts.until,
                tz=opts.tz,
                by=opts.by,
                plan=opts.plan,
                png_dir=png_dir,
                svg_dir=svg_dir,
            )
            click.echo(f"wrote {info['path']} ({info['bytes'] / 1024:,.0f} KB)", err=True)
            return
        data = collect(con, opts)
    finally:
        con.close()
    if as_json:
        click.echo(as_json_text(data, opts))
    else:
        print_report(data, opts)


def as_json_text(data: dict[str, Any], opts: ReportOptions) -> str:
    return as_json(data, opts)


def check_command(
    db_path: str | None,
    since: str | None,
    until: str | None,
    tz: str | None,
    by: str | None,
    plan: str | None,
    as_json: bool,
) -> int:
    import click

    from .checks import check, check_exit_code

    parse_options(since, until, tz, by, plan)
    con = _open(db_path)
    try:
        answers = check(con)
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(_jsonable(answers, ZoneInfo("UTC")), indent=1, default=str))
    else:
        for a in answers:
            click.echo(f"{a['answer'].upper():8} {a['question']}\n         {a['evidence']}")
    return check_exit_code(answers)
