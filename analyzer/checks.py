"""`ccstats check`: yes / no / unknown answers, each with evidence a person can act on.

Each answer is a dict: ``id`` (stable key), ``question``, ``answer`` ('yes' | 'no' | 'unknown'), ``evidence``
(one or a few sentences) and ``details`` (list of dicts, possibly empty).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from .billing import PAY_PER_USE_ROUTES, billing_cube
from .db import frame, sql

#: The tables the failure checks read by default; :func:`check` passes their failed rows, fetched once.
_FAILURE_SOURCES = {"failed_requests": "request_log", "failed_callbacks": "callback_events"}


def _failure_summary(
    con: duckdb.DuckDBPyConnection, name: str, sources: dict[str, str] | None
) -> dict[str, dict[str, Any]]:
    """Per category of failure check ``name`` (check_failures_summary.sql): count, first_at, last_at, models, keys,
    request_ids, example."""
    rows = sql(name).format(**(sources or _FAILURE_SOURCES))
    cur = con.execute(sql("check_failures_summary").format(rows=rows))
    cols = [d[0] for d in cur.description]  # type: ignore[union-attr]
    return {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


Answer = dict[str, Any]

Q_OAUTH = "oauth_reaching_anthropic"
Q_API = "api_billing"
Q_RATE = "rate_limit_rejections"
Q_OAUTH_FAIL = "oauth_failures"
Q_SOURCES = "sources_flowing"


def _ts(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if isinstance(value, datetime) else "never"


def _answer(
    qid: str, question: str, answer: str, evidence: str, details: list[dict[str, Any]] | None = None
) -> Answer:
    return {"id": qid, "question": question, "answer": answer, "evidence": evidence, "details": details or []}


def check_oauth(con: duckdb.DuckDBPyConnection) -> Answer:
    q = "Is the client OAuth token reaching Anthropic?"
    r = frame(con, "check_oauth").row(0, named=True)
    if not r["requests"]:
        return _answer(
            Q_OAUTH, q, "unknown", "No requests in the store yet: ingest spend logs or callback events."
        )
    if r["oauth_requests"]:
        ev = (
            f"{r['oauth_requests']} of {r['requests']} requests carried the client OAuth token "
            f"(used_client_oauth_token=true: {r['oauth_flag']}; upstream unified rate-limit headers: "
            f"{r['unified_headers']}); latest {_ts(r['latest_oauth'])} (request {r['latest_oauth_request']}); "
            f"{r['oauth_successes']} succeeded, latest success {_ts(r['latest_oauth_success'])}."
        )
        return _answer(Q_OAUTH, q, "yes", ev)
    if r["flag_false"] or r["api_headers_only"]:
        ev = (
            f"None of {r['requests']} requests carried the OAuth token: {r['flag_false']} have "
            f"used_client_oauth_token=false and {r['api_headers_only']} show API-key rate-limit headers only. "
            "Check that clients send the LiteLLM key in x-litellm-api-key (ANTHROPIC_CUSTOM_HEADERS) and not in "
            "Authorization, and that ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN / apiKeyHelper are unset."
        )
        return _answer(Q_OAUTH, q, "no", ev)
    ev = (
        f"{r['requests']} requests, none with a credential signal (no used_client_oauth_token: LiteLLM < 1.105 or "
        "/anthropic pass-through; no upstream rate-limit headers). Upgrade LiteLLM to >= 1.105 or add callback "
        f"logging to see it. Latest request {_ts(r['latest_request'])}."
    )
    return _answer(Q_OAUTH, q, "unknown", ev)


def _mode(df: pl.DataFrame, keys: list[str], col: str, name: str) -> pl.DataFrame:
    """Per ``keys``: the value of ``col`` with the most requests (ties: the first in order)."""
    return (
        df.group_by([*keys, col])
        .agg(pl.col("requests").sum().alias("_n"))
        .sort([*keys, "_n", col], descending=[False] * len(keys) + [True, False], nulls_last=True)
        .group_by(keys, maintain_order=True)
        .agg(pl.col(col).first().alias(name))
    )


def check_api_billing(con: duckdb.DuckDBPyConnection, cube: pl.DataFrame | None = None) -> Answer:
    """``cube``: an analyzer.billing.billing_cube over all requests (any zone), to avoid classifying them again."""
    q = "Is any traffic billed to the API (pay-per-use)?"
    if cube is None:
        cube = billing_cube(con)
    leaks = cube.filter(pl.col("billing_route").is_in(PAY_PER_USE_ROUTES))
    total = con.execute("select count(*) from request_log").fetchall()[0][0]
    if leaks.height:
        n_leaks = int(leaks["requests"].sum())
        routes = dict(leaks.group_by("billing_route").agg(pl.col("requests").sum()).iter_rows())
        leaks = leaks.with_columns(pl.coalesce(pl.col("key_alias"), pl.lit("(no alias)")).alias("alias"))
        group = ["alias", "key_hash"]
        keys = (
            leaks.group_by(group)
            .agg(
                pl.col("requests").sum().alias("requests"),
                pl.col("requests").filter(pl.col("status") == "success").sum().alias("successes"),
                pl.col("first_at").min().alias("first_at"),
                pl.col("last_at").max().alias("last_at"),
                pl.col("spend_usd").sum().alias("spend_usd"),
            )
            .join(_mode(leaks, group, "billing_route", "route"), on=group, nulls_equal=True)
            .join(_mode(leaks, group, "billing_evidence", "evidence"), on=group, nulls_equal=True)
            .sort("requests", "key_hash", descending=[True, False])
        )
        key_text = ", ".join(
            f"{k['alias']} [{(k['key_hash'] or '?')[:12]}] {k['requests']} requests "
            f"({_ts(k['first_at'])} .. {_ts(k['last_at'])})"
            for k in keys.head(5).iter_rows(named=True)
        )
        route_text = ", ".join(f"{name}: {n}" for name, n in sorted(routes.items()))
        ev = (
            f"{n_leaks} requests billed to pay-per-use ({route_text}), "
            f"{_ts(leaks['first_at'].min())} .. {_ts(leaks['last_at'].max())}, "
            f"${leaks['spend_usd'].sum():.4f} at API list price. Keys: {key_text}. "
            f"Most common reason: {keys.row(0, named=True)['evidence']}. See `api_leaks` for every request."
        )
        return _answer(Q_API, q, "yes", ev, keys.to_dicts())
    if not total:
        return _answer(
            Q_API, q, "unknown", "No requests in the store yet: ingest spend logs or callback events."
        )
    unknown = cube.filter(pl.col("billing_route") == "unknown")
    if unknown.height:
        reason = _mode(unknown.with_columns(pl.lit(1).alias("_k")), ["_k"], "billing_evidence", "e")["e"][0]
        ev = (
            f"No request was classified as API-billed, but {int(unknown['requests'].sum())} of {total} requests "
            f"have no billing signal ({reason}); those could be either."
        )
        return _answer(Q_API, q, "unknown", ev)
    return _answer(Q_API, q, "no", f"All {total} requests are classified, none billed to pay-per-use.")


_CATEGORY_TEXT = {
    "subscription_quota": "subscription quota (your account's rate limit / unified status rejected)",
    "api_limit": "API organization rate limit",
    "litellm_cooldown": "LiteLLM cooldown (No deployments available)",
    "other": "other 429 (server throttle or spend cap)",
}


def check_rate_limits(con: duckdb.DuckDBPyConnection, sources: dict[str, str] | None = None) -> Answer:
    """``sources``: relation names for ``failed_requests`` / ``failed_callbacks`` (default: the tables)."""
    q = "Were there rate-limit rejections (429), and of which kind?"
    found = _failure_summary(con, "check_rate_limits", sources)
    total = con.execute("select count(*) from request_log").fetchall()[0][0]
    if not found:
        if not total:
            return _answer(Q_RATE, q, "unknown", "No requests in the store yet.")
        return _answer(
            Q_RATE, q, "no", f"No 429 / rate_limit_error / cooldown failure among {total} requests."
        )
    details = []
    parts = []
    for cat in ("subscription_quota", "api_limit", "litellm_cooldown", "other"):
        sub = found.get(cat)
        if sub is None:
            continue
        details.append({k: sub[k] for k in ("count", "first_at", "last_at", "models", "keys", "request_ids")})
        details[-1] = {"category": cat, **details[-1]}
        parts.append(f"{sub['count']} {_CATEGORY_TEXT[cat]} (latest {_ts(sub['last_at'])})")
    n = sum(sub["count"] for sub in found.values())
    ev = f"{n} rate-limit rejections: " + "; ".join(parts) + "."
    if any(d["category"] == "litellm_cooldown" for d in details):
        ev += " Cooldowns block every user of the group: consider router_settings disable_cooldowns or cooldown_time 0."
    return _answer(Q_RATE, q, "yes", ev, details)


_OAUTH_TEXT = {
    "expired_or_invalid": "token expired or invalid: run `claude /login` again",
    "revoked": "token revoked: sign in again",
    "oauth_not_supported": "OAuth beta header missing: the proxy or client dropped anthropic-beta oauth-2025-04-20",
    "not_claude_code": "subscription token used by a non-Claude-Code client",
    "token_not_forwarded": "LiteLLM did not forward the token (401 Missing Anthropic API Key)",
    "other_oauth": "other OAuth/auth failure on a request carrying the OAuth token",
}


def check_oauth_failures(con: duckdb.DuckDBPyConnection, sources: dict[str, str] | None = None) -> Answer:
    """``sources``: relation names for ``failed_requests`` / ``failed_callbacks`` (default: the tables)."""
    q = "Were there OAuth failures (expired, revoked or rejected token)?"
    found = _failure_summary(con, "check_oauth_failures", sources)
    total = con.execute("select count(*) from request_log").fetchall()[0][0]
    if not found:
        if not total:
            return _answer(Q_OAUTH_FAIL, q, "unknown", "No requests in the store yet.")
        return _answer(Q_OAUTH_FAIL, q, "no", f"No OAuth credential error among {total} requests.")
    details = []
    parts = []
    for cat, text in _OAUTH_TEXT.items():
        sub = found.get(cat)
        if sub is None:
            continue
        details.append(
            {
                "category": cat,
                "count": sub["count"],
                "first_at": sub["first_at"],
                "last_at": sub["last_at"],
                "keys": sub["keys"],
                "example": (sub["example"] or "")[:200],
                "request_ids": sub["request_ids"],
            }
        )
        parts.append(f"{sub['count']} {text} (latest {_ts(sub['last_at'])})")
    n = sum(sub["count"] for sub in found.values())
    return _answer(Q_OAUTH_FAIL, q, "yes", f"{n} OAuth failures: " + "; ".join(parts) + ".", details)


def check_sources(con: duckdb.DuckDBPyConnection) -> Answer:
    q = "Are both kinds of source flowing (spend-log rows and callback events)?"
    df = frame(con, "check_sources")
    rows = {r["source_kind"]: r for r in df.iter_rows(named=True)}
    text = "; ".join(
        f"{kind}: {r['events']} (latest event {_ts(r['latest_event'])}, last ingest {_ts(r['last_ingest'])})"
        for kind, r in rows.items()
    )
    missing = [k for k in ("spend_log", "callback") if not rows[k]["events"]]
    if not missing:
        return _answer(Q_SOURCES, q, "yes", text + ".", df.to_dicts())
    hint = {
        "spend_log": "no spend-log rows: export LiteLLM_SpendLogs (/spend/logs/v2) or add the spend-log sink",
        "callback": "no callback events: add a JSON logging callback (StandardLoggingPayload) to LiteLLM",
    }
    return _answer(
        Q_SOURCES, q, "no", "; ".join(hint[m] for m in missing) + ". Seen: " + text + ".", df.to_dicts()
    )


def check(con: duckdb.DuckDBPyConnection, cube: pl.DataFrame | None = None) -> list[Answer]:
    """All answers, in a fixed order: OAuth reaching Anthropic, API billing, rate limits, OAuth failures, sources.
    ``cube``: an analyzer.billing.billing_cube over all requests, when the caller has one."""
    return with_api_billing(check_store(con), check_api_billing(con, cube))


def with_api_billing(store_answers: list[Answer], api_billing: Answer) -> list[Answer]:
    """The answers of :func:`check` in its order, from :func:`check_store`'s and :func:`check_api_billing`'s."""
    return [store_answers[0], api_billing, *store_answers[1:]]


def check_store(con: duckdb.DuckDBPyConnection) -> list[Answer]:
    """The answers of :func:`check` that read the store rather than the billing cube, in :func:`check`'s order:
    OAuth reaching Anthropic, rate limits, OAuth failures, sources. The two failure checks read the failed
    requests and callback hops that the last ingest stored (tables failed_requests, failed_callbacks), or, when
    rows were ingested or deleted since (an ingest that stopped before its refresh), fetch them once for both."""
    from .fallbacks import refreshed

    stored = refreshed(con)
    sources = (
        {"failed_requests": "failed_requests", "failed_callbacks": "failed_callbacks"}
        if stored
        else {"failed_requests": "_ccstats_failed_requests", "failed_callbacks": "_ccstats_failed_callbacks"}
    )
    if not stored:
        for key, name in sources.items():  # temp tables: DuckDB scans them faster than registered Arrow
            con.execute(f"create or replace temp table {name} as {sql(f'check_{key}')}")
    try:
        return [
            check_oauth(con),
            check_rate_limits(con, sources),
            check_oauth_failures(con, sources),
            check_sources(con),
        ]
    finally:
        if not stored:
            for name in sources.values():
                con.execute(f"drop table if exists {name}")


def check_exit_code(answers: list[Answer]) -> int:
    """1 when traffic went to API (pay-per-use) billing, else 0."""
    return int(any(a.get("id") == Q_API and a.get("answer") == "yes" for a in answers))
