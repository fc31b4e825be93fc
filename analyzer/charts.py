"""Altair charts of the library's DataFrames: one function per chart, shared by the HTML report and notebooks.

Each function takes a polars DataFrame (the result of a library function, e.g. :func:`analyzer.windows.windows`)
and returns an altair chart; none saves or displays anything. Times are shown in ``tz``: aware (UTC) columns are
converted to wall time in ``tz``, naive columns (the ``bucket``/``day`` columns of analyzer.report_data) are
already wall times. Wall times travel as epoch milliseconds on a UTC scale, so the browser's own time zone never
shifts them. Frames are reduced to the columns drawn (and fallback events counted per bucket) before they are
embedded, and an empty frame gives a chart that says so.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import altair as alt
import polars as pl

AnyChart = alt.Chart | alt.LayerChart | alt.VConcatChart

WIDTH = 720
TIME_FORMAT = "%Y-%m-%d %H:%M"
DAY_FORMAT = "%Y-%m-%d"
TOKEN_TYPES: list[Any] = ["input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens"]
ROUTES = ["subscription", "subscription_overage", "api", "cloud", "unknown"]
ROUTE_COLORS = ["#4c78a8", "#9ecae9", "#e45756", "#f58518", "#bab0ac"]
ERROR_CATEGORIES = ["rate limit (429)", "overloaded (529)", "auth failure (401/403)", "other error"]
ERROR_COLORS = ["#e45756", "#f58518", "#b279a2", "#bab0ac"]
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: fallback events spanning up to this many days are counted per hour, longer spans per day
HOURLY_UP_TO_DAYS = 3


# ---------------------------------------------------------------------------------------------- helpers


def _wall_ms(df: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Temporal columns as epoch ms of their wall time in ``tz`` (aware columns converted, naive ones kept)."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Datetime):
            col = pl.col(name)
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone(tz).dt.replace_time_zone(None)
            exprs.append(col.dt.epoch("ms").alias(name))
        elif dtype == pl.Date:
            exprs.append(pl.col(name).cast(pl.Datetime("ms")).dt.epoch("ms").alias(name))
    return df.with_columns(exprs) if exprs else df


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        return ", ".join(str(x) for x in v if x is not None)
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _data(df: pl.DataFrame, columns: list[str], tz: str) -> alt.InlineData:
    """The named columns (those present) as inline Vega data, times as wall-time epoch ms."""
    keep = [c for c in columns if c in df.columns]
    small = _wall_ms(df.select(keep), tz)
    rows = [{k: _json_value(v) for k, v in row.items()} for row in small.iter_rows(named=True)]
    return alt.InlineData(values=rows)


def _time(field: str, title: str, fmt: str = TIME_FORMAT) -> alt.Tooltip:
    return alt.Tooltip(field, type="temporal", title=title, format=fmt, formatType="utc")


def _x(field: str, title: str, domain: Any = None) -> alt.X:
    scale = alt.Scale(type="utc", domain=domain) if domain is not None else alt.Scale(type="utc")
    return alt.X(field, type="temporal", title=title, scale=scale, axis=alt.Axis(formatType="utc"))


def message_chart(text: str, *, title: str = "") -> alt.Chart:
    """A chart showing only ``text`` (what an empty frame gives)."""
    return (
        alt.Chart(alt.InlineData(values=[{"message": text}]), title=title or alt.Undefined)
        .mark_text(fontSize=14, color="#666")
        .encode(text=alt.Text("message", type="nominal"), tooltip=[alt.Tooltip("message", type="nominal")])
        .properties(width=WIDTH, height=60)
    )


def _tz_label(tz: str) -> str:
    return f"({tz})"


def _with_end(df: pl.DataFrame, col: str, step_ms: int) -> pl.DataFrame:
    return df.with_columns((pl.col(col) + step_ms).alias(f"{col}_end"))


def _step_ms(df: pl.DataFrame, col: str) -> int:
    """Bucket length of a wall-time ms column: a day when every value is a midnight, else an hour."""
    values = df[col].drop_nulls()
    return DAY_MS if values.len() and bool((values % DAY_MS == 0).all()) else HOUR_MS


def _stack(chart: alt.Chart, value: str, group: str, order: str) -> alt.Chart:
    """Stack ``value`` per ``group`` (bars with x and x2 are not stacked by Vega-Lite itself): y0/y1."""
    return chart.transform_stack(stack=value, groupby=[group], as_=["y0", "y1"], sort=[alt.SortField(order)])


def _day_bars(
    base: alt.Chart,
    value: str,
    order: str,
    *,
    x: alt.X,
    y_title: str,
    title: str,
    color: Any,
    tips: list[Any],
    brush: Any = None,
) -> alt.Chart:
    """Stacked bars of ``value`` per day (x to day_end), coloured and stacked by ``order``; ``brush``: the
    selection this chart defines (the other charts of the page filter on it)."""
    chart = (
        _stack(base, value, "day", order)
        .mark_bar()
        .encode(
            x=x,
            x2="day_end",
            y=alt.Y("y0", type="quantitative", title=y_title),
            y2="y1",
            color=color,
            tooltip=tips,
        )
    )
    if brush is not None:
        chart = chart.add_params(brush)
    return chart.properties(width=WIDTH, height=160, title=title)


# ---------------------------------------------------------------------------------------------- charts


def windows_chart(df: pl.DataFrame, *, tz: str = "UTC") -> AnyChart:
    """Tokens per 5-hour window by token type, with the limit and the percent used."""
    if not df.height or not df.filter(~pl.col("is_gap")).height:
        return message_chart("No 5-hour windows in this range.", title="5-hour windows")
    by = df.columns[0] if df.columns[0] != "window_start" else None
    d = df.filter(~pl.col("is_gap")).with_columns(
        (pl.col("official_5h_utilization") * 100).alias("official_percent"),
        pl.when(pl.col("is_active")).then(pl.lit("active")).otherwise(pl.lit("completed")).alias("state"),
    )
    if by is not None:
        d = d.with_columns(pl.col(by).fill_null("(none)").cast(pl.String).alias("group"))
    cols = [
        "group",
        "window_start",
        "window_end",
        "requests",
        *TOKEN_TYPES,
        "total_tokens",
        "io_tokens",
        "cost_usd",
        "spend_usd",
        "percent_of_limit",
        "official_percent",
        "limit_tokens",
        "limit_measure",
        "state",
        "tokens_per_minute",
        "projected_io_tokens",
        "projected_total_tokens",
        "reset_source",
    ]
    data = _data(d, cols, tz)
    brush = alt.selection_interval(encodings=["x"], name="brush")
    start = f"window start {_tz_label(tz)}"
    common_tips = [
        _time("window_start", "window start"),
        _time("window_end", "window end"),
        alt.Tooltip("requests", type="quantitative", format=","),
        alt.Tooltip("total_tokens", type="quantitative", format=",", title="total tokens"),
        alt.Tooltip("io_tokens", type="quantitative", format=",", title="input+output tokens"),
        alt.Tooltip("percent_of_limit", type="quantitative", format=".1f", title="% of limit (estimate)"),
        alt.Tooltip("official_percent", type="quantitative", format=".0f", title="official utilization %"),
        alt.Tooltip("cost_usd", type="quantitative", format="$.4f", title="cost (computed)"),
        alt.Tooltip("state", type="nominal"),
    ]
    base = alt.Chart(data)
    if by is None:
        bars = (
            _stack(
                base.transform_fold(TOKEN_TYPES, as_=["token_type", "tokens"]).transform_calculate(
                    order=f"indexof({TOKEN_TYPES!r}, datum.token_type)"
                ),
                "tokens",
                "window_start",
                "order",
            )
            .mark_bar()
            .encode(
                x=_x("window_start", start, brush),
                x2="window_end",
                y=alt.Y("y0", type="quantitative", title="tokens"),
                y2="y1",
                color=alt.Color("token_type", type="nominal", sort=TOKEN_TYPES, title="token type"),
                tooltip=[
                    alt.Tooltip("token_type", type="nominal", title="token type"),
                    alt.Tooltip("tokens", type="quantitative", format=","),
                    *common_tips,
                ],
            )
        )
    else:
        bars = (
            _stack(base, "total_tokens", "window_start", "group")
            .mark_bar()
            .encode(
                x=_x("window_start", start, brush),
                x2="window_end",
                y=alt.Y("y0", type="quantitative", title="tokens"),
                y2="y1",
                color=alt.Color("group", type="nominal", title=by),
                tooltip=[alt.Tooltip("group", type="nominal", title=by), *common_tips],
            )
        )
    limit = base.mark_rule(color="#d62728", strokeDash=[6, 3]).encode(
        y=alt.Y("max(limit_tokens)", type="quantitative"),
        tooltip=[
            alt.Tooltip("max(limit_tokens)", type="quantitative", format=",", title="limit (tokens)"),
            alt.Tooltip("max(limit_measure)", type="nominal", title="measured on"),
        ],
    )
    tokens = alt.layer(bars, limit).properties(
        width=WIDTH, height=220, title="Tokens per window (dashed: limit, on input+output unless plan=max)"
    )
    pct_tips = [
        *([alt.Tooltip("group", type="nominal", title=by)] if by else []),
        *common_tips,
    ]
    color = alt.Color("group", type="nominal", title=by) if by else alt.value("#4c78a8")
    pct_line = base.mark_line(point=True).encode(
        x=_x("window_start", start, brush),
        y=alt.Y("percent_of_limit", type="quantitative", title="% of limit"),
        color=color,
        tooltip=pct_tips,
    )
    official = base.mark_point(shape="diamond", size=90, filled=True, color="#2ca02c").encode(
        x=_x("window_start", start, brush),
        y=alt.Y("official_percent", type="quantitative"),
        tooltip=pct_tips,
    )
    rules = alt.Chart(
        alt.InlineData(values=[{"y": 100, "what": "limit"}, {"y": 80, "what": "warning (80 %)"}])
    )
    ref = rules.mark_rule(strokeDash=[4, 4], color="#999").encode(
        y=alt.Y("y", type="quantitative"), tooltip=[alt.Tooltip("what", type="nominal")]
    )
    percent = alt.layer(pct_line, official, ref).properties(
        width=WIDTH,
        height=160,
        title="Percent of limit (line: estimate; green diamonds: official 5h utilization where logged)",
    )
    overview = (
        base.mark_bar(color="#9ecae9")
        .encode(
            x=_x("window_start", f"drag to select a time range {_tz_label(tz)}"),
            x2="window_end",
            y=alt.Y("sum(total_tokens)", type="quantitative", title="tokens"),
            tooltip=[
                _time("window_start", "window start"),
                alt.Tooltip("sum(total_tokens)", type="quantitative", format=",", title="tokens"),
            ],
        )
        .add_params(brush)
        .properties(width=WIDTH, height=60)
    )
    return alt.vconcat(tokens, percent, overview, title="5-hour windows (estimate)")


def weekly_chart(df: pl.DataFrame, *, tz: str = "UTC") -> AnyChart:
    """Tokens per 7-day period by token type, with the official weekly utilization where logged."""
    if not df.height:
        return message_chart("No weekly usage in this range.", title="Weekly usage")
    d = df.with_columns((pl.col("official_7d_utilization") * 100).alias("official_percent"))
    data = _data(
        d,
        [
            "period_start",
            "period_end",
            "anchor",
            "requests",
            *TOKEN_TYPES,
            "total_tokens",
            "io_tokens",
            "cost_usd",
            "spend_usd",
            "official_percent",
        ],
        tz,
    )
    tips = [
        _time("period_start", "period start"),
        _time("period_end", "period end"),
        alt.Tooltip("anchor", type="nominal"),
        alt.Tooltip("requests", type="quantitative", format=","),
        alt.Tooltip("total_tokens", type="quantitative", format=",", title="total tokens"),
        alt.Tooltip("cost_usd", type="quantitative", format="$.2f", title="cost (computed)"),
        alt.Tooltip("official_percent", type="quantitative", format=".0f", title="official 7d utilization %"),
    ]
    start = f"period start {_tz_label(tz)}"
    bars = (
        _stack(
            alt.Chart(data)
            .transform_fold(TOKEN_TYPES, as_=["token_type", "tokens"])
            .transform_calculate(order=f"indexof({TOKEN_TYPES!r}, datum.token_type)"),
            "tokens",
            "period_start",
            "order",
        )
        .mark_bar()
        .encode(
            x=_x("period_start", start),
            x2="period_end",
            y=alt.Y("y0", type="quantitative", title="tokens"),
            y2="y1",
            color=alt.Color("token_type", type="nominal", sort=TOKEN_TYPES, title="token type"),
            tooltip=[
                alt.Tooltip("token_type", type="nominal", title="token type"),
                alt.Tooltip("tokens", type="quantitative", format=","),
                *tips,
            ],
        )
        .properties(width=WIDTH, height=200, title="Tokens per week")
    )
    official = (
        alt.Chart(data)
        .mark_point(shape="diamond", size=90, filled=True, color="#2ca02c")
        .encode(
            x=_x("period_start", start),
            y=alt.Y(
                "official_percent",
                type="quantitative",
                title="official 7d utilization %",
                scale=alt.Scale(domain=[0, 100]),
            ),
            tooltip=tips,
        )
        .properties(width=WIDTH, height=100, title="Official weekly utilization (where logged)")
    )
    return alt.vconcat(bars, official, title="Weekly usage")


def billing_chart(df: pl.DataFrame, *, tz: str = "UTC") -> AnyChart:
    """Requests, tokens and money by billing route per day (a billing_summary(by='day') frame)."""
    if not df.height:
        return message_chart("No requests in this range.", title="Who paid")
    d = _with_end(_wall_ms(df, tz), "day", DAY_MS)
    data = _data(
        d,
        [
            "day",
            "day_end",
            "billing_route",
            "requests",
            "successes",
            "failures",
            "total_tokens",
            "spend_usd",
            "api_billed_spend_usd",
            "subscription_value_usd",
            "unknown_requests",
            "top_reasons",
        ],
        tz,
    )
    brush = alt.selection_interval(encodings=["x"], name="brush")
    color = alt.Color(
        "billing_route",
        type="nominal",
        title="billing route",
        scale=alt.Scale(domain=ROUTES, range=ROUTE_COLORS),
    )
    tips = [
        _time("day", "day", DAY_FORMAT),
        alt.Tooltip("billing_route", type="nominal", title="billing route"),
        alt.Tooltip("requests", type="quantitative", format=","),
        alt.Tooltip("failures", type="quantitative", format=","),
        alt.Tooltip("total_tokens", type="quantitative", format=",", title="tokens"),
        alt.Tooltip("api_billed_spend_usd", type="quantitative", format="$.4f", title="billed to the API"),
        alt.Tooltip(
            "subscription_value_usd",
            type="quantitative",
            format="$.4f",
            title="subscription traffic at API prices",
        ),
        alt.Tooltip("top_reasons", type="nominal", title="why"),
    ]
    base = alt.Chart(data)
    day_title = f"day {_tz_label(tz)}"
    requests = _day_bars(
        base,
        "requests",
        "billing_route",
        x=_x("day", f"{day_title}: drag to select"),
        y_title="requests",
        title="Requests per day by billing route",
        color=color,
        tips=tips,
        brush=brush,
    )
    tokens = _day_bars(
        base,
        "total_tokens",
        "billing_route",
        x=_x("day", day_title, brush),
        y_title="tokens",
        title="Tokens per day by billing route",
        color=color,
        tips=tips,
    )
    money = (
        base.transform_filter(brush)
        .transform_fold(["api_billed_spend_usd", "subscription_value_usd"], as_=["measure", "usd"])
        .transform_calculate(
            what="datum.measure == 'api_billed_spend_usd' ? 'billed to the API (pay-per-use)'"
            " : 'subscription traffic at API prices'",
            shade="datum.measure == 'api_billed_spend_usd' ? '#e45756' : '#4c78a8'",
        )
        .mark_bar()
        .encode(
            y=alt.Y("what", type="nominal", title=None),
            x=alt.X("sum(usd)", type="quantitative", title="USD (LiteLLM logged spend, API list price)"),
            color=alt.Color("shade", type="nominal", scale=None),
            tooltip=[
                alt.Tooltip("what", type="nominal", title="money"),
                alt.Tooltip("sum(usd)", type="quantitative", format="$.4f", title="USD"),
            ],
        )
        .properties(width=WIDTH, height=60, title="Money in the selected days")
    )
    return alt.vconcat(requests, tokens, money, title="Who paid")


def fallbacks_chart(df: pl.DataFrame, *, tz: str = "UTC") -> AnyChart:
    """Fallback events per hour or day by kind, and counts from model to model (a fallback_events frame)."""
    if not df.height:
        return message_chart("No fallback events in this range.", title="Fallbacks")
    d = _wall_ms(df.select("at", "kind", "from_model", "to_model", "status"), tz)
    lo, hi = d["at"].min(), d["at"].max()
    span = int(hi) - int(lo)  # type: ignore[arg-type]
    step = HOUR_MS if span <= HOURLY_UP_TO_DAYS * DAY_MS else DAY_MS
    counted = (
        d.with_columns(
            (pl.col("at") - pl.col("at") % step).alias("bucket"),
            (pl.col("from_model").fill_null("?") + " → " + pl.col("to_model").fill_null("(none)")).alias(
                "path"
            ),
            (pl.col("status") == "success").cast(pl.Int64).alias("ok"),
        )
        .group_by("bucket", "kind", "path", "from_model", "to_model")
        .agg(pl.len().alias("events"), pl.col("ok").sum().alias("rescued"))
        .sort("bucket", "kind", "path")
    )
    counted = _with_end(counted, "bucket", step)
    data = _data(
        counted, ["bucket", "bucket_end", "kind", "path", "from_model", "to_model", "events", "rescued"], tz
    )
    brush = alt.selection_interval(encodings=["x"], name="brush")
    fmt = TIME_FORMAT if step == HOUR_MS else DAY_FORMAT
    tips = [
        _time("bucket", "hour" if step == HOUR_MS else "day", fmt),
        alt.Tooltip("kind", type="nominal"),
        alt.Tooltip("from_model", type="nominal", title="from"),
        alt.Tooltip("to_model", type="nominal", title="to"),
        alt.Tooltip("events", type="quantitative"),
        alt.Tooltip("rescued", type="quantitative", title="rescued (final success)"),
    ]
    base = alt.Chart(data)
    timeline = (
        _stack(base, "events", "bucket", "kind")
        .mark_bar()
        .encode(
            x=_x("bucket", f"{'hour' if step == HOUR_MS else 'day'} {_tz_label(tz)}: drag to select"),
            x2="bucket_end",
            y=alt.Y("y0", type="quantitative", title="events"),
            y2="y1",
            color=alt.Color("kind", type="nominal"),
            tooltip=tips,
        )
        .add_params(brush)
        .properties(width=WIDTH, height=160, title="Fallback events by kind")
    )
    paths = (
        base.transform_filter(brush)
        .mark_bar()
        .encode(
            y=alt.Y("path", type="nominal", title=None, sort="-x"),
            x=alt.X("sum(events)", type="quantitative", title="events in the selection"),
            color=alt.Color("kind", type="nominal"),
            tooltip=[
                alt.Tooltip("path", type="nominal", title="from → to"),
                alt.Tooltip("kind", type="nominal"),
                alt.Tooltip("sum(events)", type="quantitative", title="events"),
                alt.Tooltip("sum(rescued)", type="quantitative", title="rescued"),
            ],
        )
        .properties(width=WIDTH - 200, title="From and to models")
    )
    return alt.vconcat(timeline, paths, title="Fallbacks")


def models_cost_chart(df: pl.DataFrame, *, tz: str = "UTC") -> AnyChart:
    """Logged spend and tokens per day by model (a report_data.models_daily frame)."""
    if not df.height:
        return message_chart("No requests in this range.", title="Models and cost per day")
    d = _with_end(_wall_ms(df, tz), "day", DAY_MS)
    data = _data(d, ["day", "day_end", "model", "requests", "successes", "total_tokens", "spend_usd"], tz)
    brush = alt.selection_interval(encodings=["x"], name="brush")
    tips = [
        _time("day", "day", DAY_FORMAT),
        alt.Tooltip("model", type="nominal"),
        alt.Tooltip("requests", type="quantitative", format=","),
        alt.Tooltip("total_tokens", type="quantitative", format=",", title="tokens"),
        alt.Tooltip("spend_usd", type="quantitative", format="$.4f", title="spend (LiteLLM logged)"),
    ]
    base = alt.Chart(data)
    color = alt.Color("model", type="nominal")
    day_title = f"day {_tz_label(tz)}"
    spend = _day_bars(
        base,
        "spend_usd",
        "model",
        x=_x("day", f"{day_title}: drag to select"),
        y_title="USD (API list price)",
        title="Spend per day by model (LiteLLM logged, API list price)",
        color=color,
        tips=tips,
        brush=brush,
    )
    tokens = _day_bars(
        base,
        "total_tokens",
        "model",
        x=_x("day", day_title, brush),
        y_title="tokens",
        title="Tokens per day by model",
        color=color,
        tips=tips,
    )
    totals = (
        base.transform_filter(brush)
        .mark_bar()
        .encode(
            y=alt.Y("model", type="nominal", title=None, sort="-x"),
            x=alt.X("sum(requests)", type="quantitative", title="requests in the selection"),
            color=color,
            tooltip=[
                alt.Tooltip("model", type="nominal"),
                alt.Tooltip("sum(requests)", type="quantitative", format=",", title="requests"),
                alt.Tooltip("sum(total_tokens)", type="quantitative", format=",", title="tokens"),
                alt.Tooltip("sum(spend_usd)", type="quantitative", format="$.4f", title="spend"),
            ],
        )
        .properties(width=WIDTH - 200, title="Requests per model")
    )
    return alt.vconcat(spend, tokens, totals, title="Models and cost per day")


def errors_chart(df: pl.DataFrame, *, tz: str = "UTC") -> AnyChart:
    """Failed requests over time by category: rate limits, overload, auth failures (report_data.errors_over_time)."""
    if not df.height:
        return message_chart("No failed requests in this range.", title="Errors and rate limits")
    d = _wall_ms(df, tz)
    step = _step_ms(d, "bucket")
    d = _with_end(d, "bucket", step)
    data = _data(d, ["bucket", "bucket_end", "category", "failures", "model_list"], tz)
    brush = alt.selection_interval(encodings=["x"], name="brush")
    color = alt.Color(
        "category", type="nominal", scale=alt.Scale(domain=ERROR_CATEGORIES, range=ERROR_COLORS)
    )
    fmt = TIME_FORMAT if step == HOUR_MS else DAY_FORMAT
    unit = "hour" if step == HOUR_MS else "day"
    tips = [
        _time("bucket", unit, fmt),
        alt.Tooltip("category", type="nominal"),
        alt.Tooltip("failures", type="quantitative", format=","),
        alt.Tooltip("model_list", type="nominal", title="models"),
    ]
    base = alt.Chart(data)
    timeline = (
        _stack(base, "failures", "bucket", "category")
        .mark_bar()
        .encode(
            x=_x("bucket", f"{unit} {_tz_label(tz)}: drag to select"),
            x2="bucket_end",
            y=alt.Y("y0", type="quantitative", title="failed requests"),
            y2="y1",
            color=color,
            tooltip=tips,
        )
        .add_params(brush)
        .properties(width=WIDTH, height=160, title=f"Failed requests per {unit}")
    )
    totals = (
        base.transform_filter(brush)
        .mark_bar()
        .encode(
            y=alt.Y("category", type="nominal", title=None, sort=ERROR_CATEGORIES),
            x=alt.X("sum(failures)", type="quantitative", title="failures in the selection"),
            color=color,
            tooltip=[
                alt.Tooltip("category", type="nominal"),
                alt.Tooltip("sum(failures)", type="quantitative", format=",", title="failures"),
            ],
        )
        .properties(width=WIDTH - 200, title="By category")
    )
    return alt.vconcat(timeline, totals, title="Errors and rate limits")


def latency_chart(df: pl.DataFrame, *, tz: str = "UTC") -> AnyChart:
    """Latency percentiles (duration_ms) of successful requests over time by model (report_data.latency)."""
    if not df.height:
        return message_chart("No successful requests with a duration in this range.", title="Latency")
    d = _wall_ms(df, tz)
    step = _step_ms(d, "bucket")
    data = _data(d, ["bucket", "model", "requests", "p50_ms", "p90_ms", "p99_ms", "max_ms"], tz)
    brush = alt.selection_interval(encodings=["x"], name="brush")
    unit = "hour" if step == HOUR_MS else "day"
    tips = [
        _time("bucket", unit, TIME_FORMAT if step == HOUR_MS else DAY_FORMAT),
        alt.Tooltip("model", type="nominal"),
        alt.Tooltip("requests", type="quantitative", format=","),
        alt.Tooltip("p50_ms", type="quantitative", format=",.0f", title="p50 ms"),
        alt.Tooltip("p90_ms", type="quantitative", format=",.0f", title="p90 ms"),
        alt.Tooltip("p99_ms", type="quantitative", format=",.0f", title="p99 ms"),
        alt.Tooltip("max_ms", type="quantitative", format=",.0f", title="max ms"),
    ]
    base = alt.Chart(data)
    color = alt.Color("model", type="nominal")
    p90 = (
        base.mark_line(point=True)
        .encode(
            x=_x("bucket", f"{unit} {_tz_label(tz)}: drag to select"),
            y=alt.Y("p90_ms", type="quantitative", title="p90 ms"),
            color=color,
            tooltip=tips,
        )
        .add_params(brush)
        .properties(width=WIDTH, height=160, title=f"p90 latency per {unit}")
    )
    p50 = (
        base.mark_line(point=True)
        .encode(
            x=_x("bucket", f"{unit} {_tz_label(tz)}", brush),
            y=alt.Y("p50_ms", type="quantitative", title="p50 ms"),
            color=color,
            tooltip=tips,
        )
        .properties(width=WIDTH, height=160, title=f"Median latency per {unit}")
    )
    counts = (
        base.transform_filter(brush)
        .mark_bar()
        .encode(
            y=alt.Y("model", type="nominal", title=None, sort="-x"),
            x=alt.X("sum(requests)", type="quantitative", title="successful requests in the selection"),
            color=color,
            tooltip=[
                alt.Tooltip("model", type="nominal"),
                alt.Tooltip("sum(requests)", type="quantitative", format=",", title="requests"),
                alt.Tooltip("max(max_ms)", type="quantitative", format=",.0f", title="slowest ms"),
            ],
        )
        .properties(width=WIDTH - 200, title="Requests per model")
    )
    return alt.vconcat(p90, p50, counts, title="Latency (LiteLLM duration_ms)")


#: chart name -> function, in report order (the report and --png/--svg use these names)
CHARTS = {
    "windows": windows_chart,
    "weekly": weekly_chart,
    "billing": billing_chart,
    "fallbacks": fallbacks_chart,
    "models": models_cost_chart,
    "errors": errors_chart,
    "latency": latency_chart,
}
