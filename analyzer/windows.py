"""5-hour windows, weekly usage, limits and burn rate, from the requests in the store.

The window rule is ccusage's block rule by default (see five-hour-windows.md), so the numbers are comparable with
the tool most users know:

* successful requests, sorted by time (``started_at``, compared in milliseconds as ccusage does);
* a window starts at its first request floored to ``granularity_minutes`` in UTC (60 = ccusage's hour; 10; 0 = no
  flooring) and ends ``length_hours`` later, never extended;
* a request opens a new window when ``ts - window_start > length`` or ``ts - previous > length`` (strictly greater);
  the second case also emits a *gap* window ``[previous + length, ts)`` without usage;
* ``actual_end`` = the last request; ``is_active`` = ``now - last < length and now < window_end``;
* ``total_tokens`` = input + output + cache creation + cache read (ccusage); ``io_tokens`` = input + output
  (claude-monitor's count, which its plan limits use).

These windows are **estimates**: Anthropic's real window is only known where the upstream unified rate-limit
headers were logged; those values are reported beside the estimate as ``official_5h_reset`` /
``official_5h_utilization`` and ``reset_source`` says which one ``reset_at`` is.

Two money columns: ``spend_usd`` is LiteLLM's logged spend (API list price, logged for subscription traffic too);
``cost_usd`` is computed from genai-prices unit prices (:func:`analyzer.pricing.prices_source`), ccusage's tier rule.

Window starts come from numpy (one ``searchsorted`` per window over the sorted times). With start flooring the
requests are first summed per time bucket that no window boundary can cut (windows_buckets.sql: one pass, costs
computed per request), the rule runs over each bucket's first and last time and the window sums are one DuckDB
ASOF join of the buckets to the window bounds; without flooring the requests themselves are joined. :func:`refresh_window_bounds` keeps the default bounds in
the ``window_bounds_5h`` table behind the ``windows_5h`` view; it runs after every ingest, so this module imports
only numpy and duckdb at module level (polars is imported by the functions that return DataFrames).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from . import pricing
from .db import frame_of, sql

if TYPE_CHECKING:
    import polars as pl

HOUR_MS = 3_600_000
MINUTE_MS = 60_000
WEEK_MS = 7 * 24 * HOUR_MS

#: ``by=`` values and the request column each splits on.
BY_COLUMNS = {
    "key": "key_hash",
    "user": "user_id",
    "end_user": "end_user",
    "session": "session_id",
    "model": "model_group",
}

DEFAULT_GRANULARITY_MINUTES = 60
DEFAULT_LENGTH_HOURS = 5


@dataclass(frozen=True)
class PlanLimit:
    """Per-window limits of a plan preset. Unofficial: claude-monitor's defaults, which users report as wrong."""

    tokens: int  # input + output tokens per window (cache excluded)
    cost_usd: float
    messages: int


#: Plan presets (claude-monitor's table, tokens = input + output per 5-hour window). **Unofficial, editable
#: defaults** -- Anthropic publishes no token limits; override an entry (``PLAN_LIMITS["max5"] = PlanLimit(...)``)
#: or pass ``plan=<int>`` for your own token limit.
PLAN_LIMITS: dict[str, PlanLimit] = {
    "pro": PlanLimit(tokens=19_000, cost_usd=18.0, messages=250),
    "max5": PlanLimit(tokens=88_000, cost_usd=35.0, messages=1_000),
    "max20": PlanLimit(tokens=220_000, cost_usd=140.0, messages=2_000),
}

#: claude-monitor's P90 rule: known limits, the share of a limit that counts as "hit", the floor, the history.
P90_COMMON_LIMITS = (19_000, 88_000, 220_000, 880_000)
P90_LIMIT_THRESHOLD = 0.95
P90_FLOOR = 19_000
P90_HISTORY = timedelta(days=8)

#: ccusage's thresholds for the limit status.
WARNING_SHARE = 0.8


# ---------------------------------------------------------------------------------------------- block rule


def compute_blocks(
    times_ms: np.ndarray,
    *,
    granularity_ms: int = HOUR_MS,
    length_ms: int = 5 * HOUR_MS,
    prev_last: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ccusage's block rule over the sorted epoch-ms times of one group (duplicates allowed).

    Returns arrays (window_start_ms, window_end_ms, first_ms, last_ms, is_gap), in time order with each gap window
    before the window it precedes. Gap windows have first_ms = last_ms = -1. ``prev_last``: the last request of a
    window before ``times_ms`` (all times after its end), to continue the rule from there (its gap included).
    """
    ts = np.asarray(times_ms, dtype=np.int64)
    starts: list[int] = []
    ends: list[int] = []
    firsts: list[int] = []
    lasts: list[int] = []
    gaps: list[bool] = []
    n = len(ts)
    i = 0
    while i < n:
        first = int(ts[i])
        start = first - first % granularity_ms if granularity_ms > 0 else first
        end = start + length_ms
        # every later time <= end stays (ts - start <= length implies ts - previous <= length); the first one
        # beyond end opens the next block
        j = int(np.searchsorted(ts, end, side="right"))
        if prev_last is not None and first - prev_last > length_ms:
            starts.append(prev_last + length_ms)
            ends.append(first)
            firsts.append(-1)
            lasts.append(-1)
            gaps.append(True)
        last = int(ts[j - 1])
        starts.append(start)
        ends.append(end)
        firsts.append(first)
        lasts.append(last)
        gaps.append(False)
        prev_last = last
        i = j
    return (
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
        np.array(firsts, dtype=np.int64),
        np.array(lasts, dtype=np.int64),
        np.array(gaps, dtype=bool),
    )


def _group_blocks(
    groups: np.ndarray, times: np.ndarray, granularity_ms: int, length_ms: int
) -> dict[str, np.ndarray]:
    """Blocks for every group of (group, time) pairs sorted by group then time."""
    parts: list[tuple[Any, ...]] = []
    n = len(times)
    if n:
        change = np.flatnonzero(groups[1:] != groups[:-1]) + 1
        bounds = np.concatenate(([0], change, [n]))
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            blocks = compute_blocks(times[a:b], granularity_ms=granularity_ms, length_ms=length_ms)
            parts.append((np.full(len(blocks[0]), groups[a], dtype=object), *blocks))
    if not parts:
        empty_i = np.array([], dtype=np.int64)
        return {
            "g": np.array([], dtype=object),
            "window_start_ms": empty_i,
            "window_end_ms": empty_i,
            "first_ms": empty_i,
            "last_ms": empty_i,
            "is_gap": np.array([], dtype=bool),
        }
    cols = [np.concatenate([p[k] for p in parts]) for k in range(6)]
    return dict(
        zip(("g", "window_start_ms", "window_end_ms", "first_ms", "last_ms", "is_gap"), cols, strict=True)
    )


def refresh_window_bounds(
    con: duckdb.DuckDBPyConnection,
    *,
    granularity_minutes: int = DEFAULT_GRANULARITY_MINUTES,
    length_hours: float = DEFAULT_LENGTH_HOURS,
    full: bool = False,
) -> int:
    """Recompute the default window bounds behind the ``windows_5h`` view (all successful traffic) and price any
    model not yet in ``model_prices``. Called after every ingest; returns the number of windows recomputed (gaps
    included).

    Incremental unless ``full``: when no successful request was removed since the last refresh (the count of
    successful timed requests grew by exactly the number ingested since its watermark) and the rule's parameters
    are unchanged, the stored windows ending before the earliest new request are kept (the rule decides a window
    from the times up to its end only) and the rule runs on from the last of them over the later times. The result
    equals a full recomputation. One transaction.
    """
    length_ms = int(round(length_hours * HOUR_MS))
    granularity_ms = granularity_minutes * MINUTE_MS
    state = con.execute(
        "select watermark, successes, granularity_ms, length_ms, (select count(*) from window_bounds_5h) "
        "from window_bounds_state"
    ).fetchall()
    usable = (
        bool(state)
        and state[0][2:4] == (granularity_ms, length_ms)
        and (state[0][1] > 0) == (state[0][4] > 0)
    )
    wm = state[0][0] if usable and not full else None  # stored bounds that match the state (none: all again)
    new_wm, n_ok, fresh, fresh_first = con.execute(sql("windows_bounds_probe"), {"wm": wm}).fetchall()[0]
    keep: tuple[int, int] | None = None  # (window_end_ms, last_ms) of the last stored window kept
    incremental = wm is not None and n_ok == state[0][1] + fresh
    if incremental and fresh:
        rows = con.execute(sql("windows_bounds_keep"), {"t": fresh_first}).fetchall()
        if rows:
            keep = (int(rows[0][0]), int(rows[0][1]))
        else:
            incremental = False
    if not incremental:
        times = con.execute(sql("windows_bounds_times")).fetchnumpy()["t"]
    elif keep is not None:
        after = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=keep[0] + 1)
        times = con.execute(sql("windows_bounds_times_after"), {"from": after}).fetchnumpy()["t"]
    else:  # nothing new
        times = np.array([], dtype=np.int64)
    times = np.asarray(times, dtype=np.int64)
    starts, ends, firsts, lasts, gaps = compute_blocks(
        times,
        granularity_ms=granularity_ms,
        length_ms=length_ms,
        prev_last=keep[1] if keep is not None else None,
    )
    new = {
        "window_start_ms": starts,
        "window_end_ms": ends,
        "first_ms": firsts,
        "last_ms": lasts,
        "is_gap": gaps,
    }
    con.register("_ccstats_new_bounds", new)
    con.execute("begin transaction")
    try:
        if not incremental:
            con.execute("delete from window_bounds_5h")
        elif keep is not None:
            con.execute(sql("windows_bounds_trim"), {"last_ms": keep[1]})
        if len(starts):
            con.execute(sql("windows_bounds_replace"), {"length_ms": length_ms})
        con.execute("delete from window_bounds_state")
        con.execute(
            "insert into window_bounds_state values (?, ?, ?, ?)", [new_wm, n_ok, granularity_ms, length_ms]
        )
        pricing.store_prices(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_ccstats_new_bounds")
    return len(starts)


# ---------------------------------------------------------------------------------------------- helpers


def _utc(value: datetime | str | None) -> datetime | None:
    """An aware UTC datetime from a datetime or ISO string (naive = UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _ms(value: datetime) -> int:
    return int((value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1))


def _by_column(by: str | None) -> str | None:
    if by is None:
        return None
    if by in BY_COLUMNS:
        return BY_COLUMNS[by]
    if by in BY_COLUMNS.values():
        return by
    raise ValueError(f"by must be one of {sorted(BY_COLUMNS)} or None, got {by!r}")


def _billing_param(billing: Sequence[str] | str | None) -> list[str] | None:
    if billing is None:
        return None
    return [billing] if isinstance(billing, str) else list(billing)


def _bucket_ms(granularity_ms: int, length_ms: int) -> int:
    """The widest bucket no window boundary cuts (granularity > 0): every window start is a multiple of the
    granularity and every end is start + length, so a bucket dividing both has every window end on an edge."""
    return math.gcd(granularity_ms, length_ms)


def _source_query(name: str, filtered: bool) -> str:
    """SQL file ``name`` reading the requests view when billing_route filters the traffic, else request_log
    (the view classifies every row; unfiltered queries need none of that)."""
    source = "requests" if filtered else "(select *, null::varchar as billing_route from request_log)"
    return sql(name).format(source=source)


def _to_utc_frame(df: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    cols = [c for c, t in df.schema.items() if isinstance(t, pl.Datetime)]
    return df.with_columns([pl.col(c).dt.convert_time_zone("UTC") for c in cols]) if cols else df


def latest_headers(con: duckdb.DuckDBPyConnection, *, rollup: str | None = None) -> dict[str, Any]:
    """The latest logged official values (any request): rl_5h_reset/utilization/status/logged_at,
    rl_7d_reset/utilization/logged_at; all None when no unified headers were logged. ``rollup``: a relation from
    :func:`analyzer.rollup.current`, which knows when the latest headers were logged, so only the requests from
    then on are read."""
    since, params = "", None
    if rollup is not None:
        # the earlier of the two latest times (least() skips a kind never logged); None: neither was ever logged
        first = con.execute(
            f"select least(max(rl_5h_reset_at), max(rl_7d_reset_at)) from {rollup}"
        ).fetchall()[0][0]
        since, params = ("and started_at >= $first", {"first": first}) if first else ("and false", None)
    cur = con.execute(sql("windows_latest_headers").format(since=since), params)
    cols = [d[0] for d in cur.description]  # type: ignore[union-attr]
    rows = cur.fetchall()
    return dict(zip(cols, rows[0] if rows else [None] * len(cols), strict=True))


# ---------------------------------------------------------------------------------------------- limits


def limit_measure(plan: str | int) -> str:
    """The window column a plan's limit is measured on: ``total_tokens`` for ``max`` (ccusage ``-t max``),
    ``io_tokens`` (input + output, claude-monitor) for the presets, ``p90`` and a custom integer."""
    return "total_tokens" if plan == "max" else "io_tokens"


def _p90(values: list[int]) -> int:
    hits = sorted(values)
    if len(hits) >= 2:
        q = statistics.quantiles(hits, n=10)[-1]
    else:
        q = hits[0]
    return max(int(q), P90_FLOOR)


def window_limit(
    df: pl.DataFrame, plan: str | int = "p90", *, now: datetime | None = None
) -> tuple[int | None, str]:
    """The token limit a plan means for these windows, and a label saying where it comes from.

    ``df`` is a :func:`windows` result (needs is_gap, is_active, window_start, total_tokens, io_tokens).
    * ``pro`` / ``max5`` / ``max20``: :data:`PLAN_LIMITS` (input + output tokens; unofficial defaults).
    * ``max``: the largest ``total_tokens`` of a completed (not gap, not active) window (ccusage ``-t max``);
      None when there is none.
    * ``p90``: claude-monitor's custom limit: P90 of ``io_tokens`` of completed windows that started in the
      last 8 days (before ``now``), using only windows within 95 % of a known limit when there are any, floored at
      19,000; 19,000 when there is no history.
    * an int: that many input + output tokens.
    The measure is :func:`limit_measure` (plan).
    """
    import polars as pl

    if isinstance(plan, int) and not isinstance(plan, bool):
        return plan, f"custom limit: {plan:,} input+output tokens per window (user setting)"
    if plan in PLAN_LIMITS:
        lim = PLAN_LIMITS[plan]
        return lim.tokens, (
            f"{plan} preset: {lim.tokens:,} input+output tokens per window "
            "(claude-monitor default, unofficial, editable)"
        )
    done = df.filter(~pl.col("is_gap") & ~pl.col("is_active")) if df.height else df
    if plan == "max":
        if not done.height:
            return None, "max: no completed window yet (estimate)"
        top = int(done["total_tokens"].max())  # type: ignore[arg-type]
        return top, f"max: largest completed window, {top:,} tokens incl. cache (ccusage -t max; estimate)"
    if plan == "p90":
        when = now or datetime.now(UTC)
        recent = done.filter(pl.col("window_start") >= when - P90_HISTORY) if done.height else done
        values = [int(v) for v in recent["io_tokens"].to_list()] if recent.height else []
        if not values:
            return P90_FLOOR, f"p90: no completed window in the last 8 days, floor {P90_FLOOR:,} (estimate)"
        hits = [v for v in values if any(v >= lim * P90_LIMIT_THRESHOLD for lim in P90_COMMON_LIMITS)]
        basis = hits or values
        tokens = _p90(basis)
        which = "windows near a known limit" if hits else "completed windows"
        return tokens, (
            f"p90: {tokens:,} input+output tokens, P90 of {len(basis)} {which} of the last 8 days "
            "(claude-monitor rule; estimate)"
        )
    raise ValueError(f"plan must be one of pro, max5, max20, max, p90 or an int, got {plan!r}")


# ---------------------------------------------------------------------------------------------- windows


def windows(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    granularity_minutes: int = DEFAULT_GRANULARITY_MINUTES,
    length_hours: float = DEFAULT_LENGTH_HOURS,
    plan: str | int = "p90",
    now: datetime | None = None,
    billing: Sequence[str] | str | None = None,
    rollup: str | None = None,
) -> pl.DataFrame:
    """One row per 5-hour window (ccusage's block rule by default; see the module docstring).

    ``by``: None (all traffic) or ``key``/``user``/``end_user``/``session``/``model`` (request columns key_hash,
    user_id, end_user, session_id, model_group): windows are computed per value, and the first column holds it.
    ``since``/``until`` select windows overlapping [since, until); windows are always computed over all traffic
    (so a window's start never depends on the range asked for). ``billing``: None (all traffic) or
    billing_route values (e.g. ``["subscription"]``); windows are then computed over that traffic only.
    ``now`` (default: the current time) decides is_active, the projection and the P90 history.

    Columns: [<by column>], window_start, window_end, first_request, actual_end, is_gap, is_active, requests,
    input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, io_tokens, spend_usd
    (LiteLLM's logged API list price), cost_usd (computed, genai-prices), unpriced_requests (unknown models,
    counted 0 in cost_usd), models, duration_minutes, tokens_per_minute, io_tokens_per_minute, cost_per_hour
    (burn rate: non-gap windows with 2+ distinct times, over first..last request), remaining_minutes,
    projected_total_tokens, projected_io_tokens, projected_cost_usd (active window only: current + rate x minutes
    left), limit_tokens, limit_measure, limit_label, percent_of_limit, projected_percent_of_limit, limit_status
    (ok / warning > 80 % / exceeds > 100 %), official_5h_reset, official_5h_utilization, official_5h_status (latest
    logged in the window; NULL without unified headers), reset_at (official reset if logged, else window_end),
    reset_source ('official' or 'estimate'), window_rule. All timestamps are UTC.

    ``rollup``: a relation from :func:`analyzer.rollup.current`; used (same result, far fewer rows read) when
    there is no ``by`` and the buckets are whole hours (the default granularity and length).
    """
    import polars as pl

    col = _by_column(by)
    when = _utc(now) or datetime.now(UTC)
    now_ms = _ms(when)
    length_ms = int(round(length_hours * HOUR_MS))
    if length_ms <= 0:
        raise ValueError("length_hours must be positive")
    if granularity_minutes < 0:
        raise ValueError("granularity_minutes must be >= 0")
    granularity_ms = granularity_minutes * MINUTE_MS
    params: dict[str, Any] = {"by": col, "billing": _billing_param(billing)}
    filtered = params["billing"] is not None
    # One pass over the requests into buckets that no window boundary cuts (windows_buckets.sql), then the block
    # rule over each bucket's first and last time, and the window sums over the buckets. Without start flooring
    # every millisecond is a possible boundary, so a bucket is one millisecond.
    params["bucket_ms"] = _bucket_ms(granularity_ms, length_ms) if granularity_ms > 0 else 1
    if rollup is not None and col is None and params["bucket_ms"] == HOUR_MS:
        # (the rollup holds the computed costs: no prices needed)
        # the same buckets from the hourly rollup (analyzer.rollup): thousands of rows instead of every request
        query = sql("windows_buckets_rollup").format(rollup=rollup)
        bucket_params = {"billing": params["billing"]}
    else:
        pricing.register_prices(con)
        query, bucket_params = _source_query("windows_buckets", filtered), params
    # a temp table (read-only connections have them too): scanned twice below, computed once
    con.execute(f"create or replace temp table _ccstats_buckets as {query}", bucket_params)
    try:
        got = con.execute(sql("windows_bucket_times")).fetchnumpy()
        bounds = _group_blocks(
            np.asarray(got["g"], dtype=object),
            np.asarray(got["t"], dtype=np.int64),
            granularity_ms,
            length_ms,
        )
        con.register("_ccstats_bounds", bounds)
        try:
            df = frame_of(con, sql("windows_aggregate"), {})
        finally:
            con.unregister("_ccstats_bounds")
    finally:
        con.execute("drop table if exists temp._ccstats_buckets")
    df = _to_utc_frame(df)

    minutes = (pl.col("last_ms") - pl.col("first_ms")) / MINUTE_MS
    has_rate = ~pl.col("is_gap") & (pl.col("last_ms") > pl.col("first_ms"))
    active = (
        ~pl.col("is_gap") & ((now_ms - pl.col("last_ms")) < length_ms) & (now_ms < pl.col("window_end_ms"))
    )
    df = df.with_columns(pl.col("window_end").dt.epoch("ms").alias("window_end_ms"))
    df = df.with_columns(
        active.alias("is_active"),
        pl.when(~pl.col("is_gap")).then(minutes).otherwise(None).alias("duration_minutes"),
        pl.when(has_rate).then(pl.col("total_tokens") / minutes).otherwise(None).alias("tokens_per_minute"),
        pl.when(has_rate).then(pl.col("io_tokens") / minutes).otherwise(None).alias("io_tokens_per_minute"),
        pl.when(has_rate).then(pl.col("cost_usd") / minutes * 60).otherwise(None).alias("cost_per_hour"),
    )
    remaining = pl.max_horizontal(pl.lit(0.0), (pl.col("window_end_ms") - now_ms) / MINUTE_MS)
    proj = pl.col("is_active") & pl.col("tokens_per_minute").is_not_null()
    df = df.with_columns(
        pl.when(pl.col("is_active")).then(remaining).otherwise(None).alias("remaining_minutes"),
    ).with_columns(
        pl.when(proj)
        .then(pl.col("total_tokens") + pl.col("tokens_per_minute") * pl.col("remaining_minutes"))
        .otherwise(None)
        .alias("projected_total_tokens"),
        pl.when(proj)
        .then(pl.col("io_tokens") + pl.col("io_tokens_per_minute") * pl.col("remaining_minutes"))
        .otherwise(None)
        .alias("projected_io_tokens"),
        pl.when(proj)
        .then(pl.col("cost_usd") + pl.col("cost_per_hour") / 60 * pl.col("remaining_minutes"))
        .otherwise(None)
        .alias("projected_cost_usd"),
    )

    limit, label = window_limit(df, plan, now=when)
    measure = limit_measure(plan)
    projected_measure = "projected_total_tokens" if measure == "total_tokens" else "projected_io_tokens"
    pct = pl.col(measure) / limit * 100 if limit else pl.lit(None, dtype=pl.Float64)
    ppct = pl.col(projected_measure) / limit * 100 if limit else pl.lit(None, dtype=pl.Float64)
    df = df.with_columns(
        pl.lit(limit, dtype=pl.Int64).alias("limit_tokens"),
        pl.lit(measure).alias("limit_measure"),
        pl.lit(label).alias("limit_label"),
        pl.when(~pl.col("is_gap")).then(pct).otherwise(None).alias("percent_of_limit"),
        pl.when(~pl.col("is_gap")).then(ppct).otherwise(None).alias("projected_percent_of_limit"),
    ).with_columns(
        pl.when(pl.col("percent_of_limit").is_null())
        .then(None)
        .when(pl.col("percent_of_limit") > 100)
        .then(pl.lit("exceeds"))
        .when(pl.col("percent_of_limit") > WARNING_SHARE * 100)
        .then(pl.lit("warning"))
        .otherwise(pl.lit("ok"))
        .alias("limit_status"),
        pl.coalesce(pl.col("official_5h_reset"), pl.col("window_end")).alias("reset_at"),
        pl.when(pl.col("official_5h_reset").is_not_null())
        .then(pl.lit("official"))
        .otherwise(pl.lit("estimate"))
        .alias("reset_source"),
        pl.lit(
            f"estimate: ccusage block rule, {length_hours:g} h, start floored to "
            + (f"{granularity_minutes} min" if granularity_minutes else "the first request")
            + " (UTC)"
        ).alias("window_rule"),
    )

    lo, hi = _utc(since), _utc(until)
    if lo is not None:
        df = df.filter(pl.col("window_end") > lo)
    if hi is not None:
        df = df.filter(pl.col("window_start") < hi)

    order = [
        "window_start",
        "window_end",
        "first_request",
        "actual_end",
        "is_gap",
        "is_active",
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "total_tokens",
        "io_tokens",
        "spend_usd",
        "cost_usd",
        "unpriced_requests",
        "models",
        "duration_minutes",
        "tokens_per_minute",
        "io_tokens_per_minute",
        "cost_per_hour",
        "remaining_minutes",
        "projected_total_tokens",
        "projected_io_tokens",
        "projected_cost_usd",
        "limit_tokens",
        "limit_measure",
        "limit_label",
        "percent_of_limit",
        "projected_percent_of_limit",
        "limit_status",
        "official_5h_reset",
        "official_5h_utilization",
        "official_5h_status",
        "reset_at",
        "reset_source",
        "window_rule",
    ]
    if col is not None:
        df = df.with_columns(pl.when(pl.col("g") == "").then(None).otherwise(pl.col("g")).alias(col)).sort(
            [col, "window_start", "is_gap"], nulls_last=True
        )
        return df.select([col, *order])
    return df.sort(["window_start", "is_gap"]).select(order)


def active_window(
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime | None = None,
    plan: str | int = "p90",
    billing: Sequence[str] | str | None = None,
    granularity_minutes: int = DEFAULT_GRANULARITY_MINUTES,
    length_hours: float = DEFAULT_LENGTH_HOURS,
    frame: pl.DataFrame | None = None,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The current window over all (or ``billing``-filtered) traffic, as a plain dict, or None when there is
    neither an active estimated window nor a logged official 5-hour reset still in the future.

    Keys: window_start, window_end, actual_end, requests, total_tokens, io_tokens, cost_usd, spend_usd,
    tokens_per_minute, cost_per_hour, remaining_minutes, projected_total_tokens, projected_cost_usd,
    limit_tokens, limit_measure, limit_label, percent_of_limit, projected_percent_of_limit, limit_status
    (estimate; None when no estimated window is active); reset_at and reset_source ('official' when the latest
    logged anthropic-ratelimit-unified-5h-reset is still ahead, else 'estimate' = window_end);
    official_5h_utilization / official_5h_status / official_logged_at (latest logged, with that reset).

    ``frame``: a :func:`windows` result computed with the same arguments (all traffic, no ``by``/range) to reuse
    instead of computing it again; ``headers``: :func:`latest_headers`, when the caller has them.
    """
    when = _utc(now) or datetime.now(UTC)
    df = (
        frame
        if frame is not None
        else windows(
            con,
            now=when,
            plan=plan,
            billing=billing,
            granularity_minutes=granularity_minutes,
            length_hours=length_hours,
        )
    )
    act = df.filter(df["is_active"]) if df.height else df
    head = headers if headers is not None else latest_headers(con)
    official_reset = head.get("rl_5h_reset")
    live = official_reset is not None and _utc(official_reset) > when  # type: ignore[operator]
    if not act.height and not live:
        return None
    keys = [
        "window_start",
        "window_end",
        "actual_end",
        "requests",
        "total_tokens",
        "io_tokens",
        "cost_usd",
        "spend_usd",
        "tokens_per_minute",
        "cost_per_hour",
        "remaining_minutes",
        "projected_total_tokens",
        "projected_cost_usd",
        "limit_tokens",
        "limit_measure",
        "limit_label",
        "percent_of_limit",
        "projected_percent_of_limit",
        "limit_status",
    ]
    out: dict[str, Any] = dict.fromkeys(keys)
    if act.height:
        out.update({k: v for k, v in act.row(-1, named=True).items() if k in keys})
    if live:
        out["reset_at"] = _utc(official_reset)
        out["reset_source"] = "official"
        out["official_5h_utilization"] = head.get("rl_5h_utilization")
        out["official_5h_status"] = head.get("rl_5h_status")
        out["official_logged_at"] = _utc(head.get("rl_5h_logged_at"))
    else:
        out["reset_at"] = out["window_end"]
        out["reset_source"] = "estimate"
        out["official_5h_utilization"] = None
        out["official_5h_status"] = None
        out["official_logged_at"] = None
    return out


# ---------------------------------------------------------------------------------------------- weekly


def weekly(
    con: duckdb.DuckDBPyConnection,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    tz: str = "UTC",
    now: datetime | None = None,
    billing: Sequence[str] | str | None = None,
    rollup: str | None = None,
    headers: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """One row per 7-day period with successful requests.

    Periods are anchored on the latest logged ``anthropic-ratelimit-unified-7d-reset`` (any request) when there
    is one: they end at that reset and step by exactly 7 days, back (and forward, for requests after it); anchor =
    'official 7d reset'. Otherwise they are calendar weeks from Monday 00:00 in ``tz``; anchor = 'calendar week
    (estimate)'. ``since``/``until`` filter requests by start time.

    Columns: period_start, period_end, anchor, is_current (``now`` in the period), requests, input_tokens,
    output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, io_tokens, spend_usd (LiteLLM logged),
    cost_usd (computed, genai-prices), unpriced_requests, official_7d_utilization, official_7d_reset,
    official_7d_status (latest logged in the period). Timestamps UTC.

    ``rollup``: a relation from :func:`analyzer.rollup.current`, summed instead of the requests when there is no
    ``since``/``until`` (same result; an hour that spans two periods is placed request by request). ``headers``:
    :func:`latest_headers`, when the caller has them.
    """
    import polars as pl

    when = _utc(now) or datetime.now(UTC)
    head = headers if headers is not None else latest_headers(con)
    reset = head.get("rl_7d_reset")
    anchor_ms = _ms(_utc(reset)) if reset is not None else None  # type: ignore[arg-type]
    if rollup is not None and since is None and until is None:
        from . import rollup as rollups

        keys = {"anchor_ms": anchor_ms, "tz": tz}
        raw, split = rollups.split_hours(con, rollup, rollups.WEEK_KEY, keys)
        query = sql("windows_weekly_rollup").format(rollup=rollup, raw=raw)
        df = frame_of(con, query, {**keys, **split, "billing": _billing_param(billing)})
    else:
        pricing.register_prices(con)
        df = frame_of(
            con,
            _source_query("windows_weekly", billing is not None),
            {
                "anchor_ms": anchor_ms,
                "tz": tz,
                "since": _utc(since),
                "until": _utc(until),
                "billing": _billing_param(billing),
            },
        )
    df = _to_utc_frame(df)
    label = "official 7d reset" if anchor_ms is not None else "calendar week (estimate)"
    df = df.with_columns(
        pl.lit(label).alias("anchor"),
        ((pl.col("period_start") <= when) & (pl.lit(when) < pl.col("period_end"))).alias("is_current"),
    )
    first = ["period_start", "period_end", "anchor", "is_current"]
    return df.select([*first, *[c for c in df.columns if c not in first]])
