"""Computed API-price cost per request, from the maintained ``genai-prices`` package (offline snapshot).

Two cost columns exist and must never be confused:

* ``spend_usd``: what LiteLLM logged (``spend`` / ``response_cost``): its own API list price, computed for every
  request, subscription traffic included. Not a bill.
* ``cost_usd``: computed here, from ``genai-prices`` (see :data:`PRICES_SOURCE` for the version) unit prices and
  the logged token counts. Also an API list price, not a bill; it exists so that totals can be compared with
  ccusage and checked against ``spend_usd``.

How: unit prices are looked up once per distinct model string (Python, genai-prices) into a small relation, and
the arithmetic runs in SQL, so millions of requests cost one join. Per token type (input, output, cache write,
cache read), a request pays::

    min(n, tier_start) * base + max(n - tier_start, 0) * tier_price      (models with a >200k tier)
    n * base                                                             (others)

which is how ccusage 20.0.24 prices (the first 200k tokens of *each* token type at the base rate, the rest at the
long-context rate, per entry). genai-prices' own ``calc_price`` applies the tier price to all tokens once the
*total prompt* passes the threshold (Anthropic's published rule); the two agree below 200k tokens per type, which
is nearly all Claude Code traffic. Cache writes are priced at the 5-minute rate (the store does not keep the
5m/1h split). Unknown models get ``cost_usd`` NULL, never an exception.

This module is imported on the ingest path (``refresh_window_bounds``): it imports only duckdb at module level;
genai-prices is imported when a model has to be priced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import duckdb

from .db import sql

#: Name under which :func:`register_prices` exposes the unit-price relation on a connection.
PRICES_RELATION = "_ccstats_prices"

#: Columns of the unit-price relation (and of the persistent ``model_prices`` table): USD per token.
PRICE_COLUMNS = (
    "model",  # the model string as logged (request_log.model, else model_group)
    "price_model",  # genai-prices model id it matched, e.g. claude-sonnet-4-5
    "price_provider",  # genai-prices provider id, e.g. anthropic
    "prices_source",  # e.g. "genai-prices 0.2.3"
    "input_usd",
    "output_usd",
    "cache_write_usd",
    "cache_read_usd",
    "tier_start",  # tokens per type above which the tier rates apply (NULL: no tier)
    "input_tier_usd",
    "output_tier_usd",
    "cache_write_tier_usd",
    "cache_read_tier_usd",
)

_MILLION = Decimal(1_000_000)

# LiteLLM provider prefixes -> genai-prices provider ids (a hint; lookups fall back to no provider).
_PROVIDER_HINTS = {
    "anthropic": "anthropic",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "openai": "openai",
    "azure": "azure",
    "gemini": "google",
}


@cache
def load_in_background() -> None:
    """Import genai-prices (about 0.12 s) on a daemon thread, for a caller about to spend seconds in DuckDB (which
    lets the thread run): the prices step at the end of an ingest then finds it loaded."""
    import threading

    def load() -> None:
        try:
            import genai_prices  # noqa: F401

            prices_source()
        except Exception:  # pragma: no cover - the prices step reports a missing or broken package itself
            pass

    threading.Thread(target=load, name="ccstats-load-prices", daemon=True).start()


def prices_source() -> str:
    """``"genai-prices <version>"``: where ``cost_usd`` comes from (label it in outputs)."""
    try:
        from importlib.metadata import version

        return f"genai-prices {version('genai-prices')}"
    except Exception:  # pragma: no cover - package metadata missing
        return "genai-prices (unknown version)"


@dataclass(frozen=True)
class UnitPrices:
    """USD per token for one logged model string; tier_* are None when the model has no long-context tier."""

    model: str
    price_model: str | None
    price_provider: str | None
    prices_source: str
    input_usd: float | None
    output_usd: float | None
    cache_write_usd: float | None
    cache_read_usd: float | None
    tier_start: int | None = None
    input_tier_usd: float | None = None
    output_tier_usd: float | None = None
    cache_write_tier_usd: float | None = None
    cache_read_tier_usd: float | None = None

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in PRICE_COLUMNS)


def _candidates(model: str) -> list[tuple[str, str | None]]:
    """(model_ref, provider_id) pairs to try for a logged model string."""
    out: list[tuple[str, str | None]] = []
    bare = model.rsplit("/", 1)[-1]
    if "/" in model:
        hint = _PROVIDER_HINTS.get(model.split("/", 1)[0].lower())
        if hint:
            out.append((bare, hint))
    out.append((bare, None))
    if "@" in bare:  # vertex: claude-sonnet-4-5@20250929
        out.append((bare.replace("@", "-"), None))
    if bare != model:
        out.append((model, None))
    return out


def _per_token(mtok: Any) -> float:
    """USD per token from a USD-per-million Decimal, rounded once (0.1 / 1e6 -> 1e-07, not 1.0000000000000001e-07)."""
    return float(Decimal(mtok) / _MILLION)


def _split(value: Any) -> tuple[float | None, int | None, float | None]:
    """(base per token, tier start, tier price per token) from a genai-prices per-MTok price."""
    if value is None:
        return None, None, None
    base = getattr(value, "base", None)
    if base is None:  # plain Decimal
        return _per_token(value), None, None
    tiers = list(getattr(value, "tiers", []) or [])
    if not tiers:
        return _per_token(base), None, None
    first = min(tiers, key=lambda t: t.start)
    return _per_token(base), int(first.start), _per_token(first.price)


@cache
def unit_prices(model: str, at: datetime | None = None) -> UnitPrices:
    """Unit prices for one logged model string (cached). Unknown model: all prices None."""
    source = prices_source()
    unknown = UnitPrices(model, None, None, source, None, None, None, None)
    if not model:
        return unknown
    try:
        from genai_prices import Usage, calc_price
    except ImportError:  # pragma: no cover - dependency missing
        return unknown
    when = at or datetime.now(UTC)
    for ref, provider in _candidates(model):
        try:
            calc = calc_price(Usage(input_tokens=1), ref, provider_id=provider, genai_request_timestamp=when)
        except Exception:  # LookupError for unknown models; anything else must not break a report
            continue
        mp = calc.model_price
        inp, start, inp_t = _split(getattr(mp, "input_mtok", None))
        out, s2, out_t = _split(getattr(mp, "output_mtok", None))
        cw, s3, cw_t = _split(getattr(mp, "cache_write_mtok", None))
        cr, s4, cr_t = _split(getattr(mp, "cache_read_mtok", None))
        starts = {s for s in (start, s2, s3, s4) if s is not None}
        tier_start = min(starts) if starts else None
        return UnitPrices(
            model=model,
            price_model=calc.model.id,
            price_provider=calc.provider.id,
            prices_source=source,
            input_usd=inp,
            output_usd=out,
            # genai-prices leaves cache prices unset for models without caching: those tokens cost the input rate
            cache_write_usd=cw if cw is not None else inp,
            cache_read_usd=cr if cr is not None else inp,
            tier_start=tier_start,
            input_tier_usd=inp_t,
            output_tier_usd=out_t,
            cache_write_tier_usd=cw_t if cw is not None else inp_t,
            cache_read_tier_usd=cr_t if cr is not None else inp_t,
        )
    return unknown


def price_rows(models: Iterable[str | None]) -> list[UnitPrices]:
    """Unit prices for each distinct non-empty model string, sorted by model."""
    return [unit_prices(m) for m in sorted({m for m in models if m})]


def logged_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Distinct model strings that requests are priced by (``coalesce(model, model_group)``)."""
    return [r[0] for r in con.execute(sql("windows_models")).fetchall()]


def _arrow(rows: list[UnitPrices]) -> Any:
    import pyarrow as pa

    types = {"tier_start": pa.int64()}
    fields = [
        pa.field(c, types.get(c, pa.float64() if c.endswith("_usd") else pa.string())) for c in PRICE_COLUMNS
    ]
    data = {c: [getattr(r, c) for r in rows] for c in PRICE_COLUMNS}
    return pa.table(data, schema=pa.schema(fields))


def register_prices(con: duckdb.DuckDBPyConnection, models: Iterable[str | None] | None = None) -> str:
    """Expose unit prices for ``models`` (default: every model in the store) as a relation on ``con``.

    Works on read-only connections (nothing is written). Returns the relation name (:data:`PRICES_RELATION`).
    Missing prices are SQL NULL. When the store holds them all (``model_prices``, with the installed genai-prices
    version) they are copied in SQL into a temp table: neither genai-prices nor pyarrow is loaded.
    """
    wanted = sorted({m for m in (logged_models(con) if models is None else models) if m})
    try:
        con.unregister(PRICES_RELATION)  # the Arrow prices of an earlier call
    except duckdb.Error:  # nothing registered under the name
        pass
    con.execute(f"drop table if exists temp.{PRICES_RELATION}")
    if not _copy_stored_prices(con, wanted):
        con.register(PRICES_RELATION, _arrow(price_rows(wanted)))
    return PRICES_RELATION


def _copy_stored_prices(con: duckdb.DuckDBPyConnection, models: list[str]) -> bool:
    """Copy the ``model_prices`` rows of ``models`` into the temp table :data:`PRICES_RELATION` when every one is
    stored with the installed genai-prices version (the same values :func:`unit_prices` gives); else False."""
    if not models:
        return False
    params = {"source": prices_source(), "models": models}
    try:
        con.execute(
            f"create temp table {PRICES_RELATION} as select {', '.join(PRICE_COLUMNS)} from model_prices "
            "where prices_source = $source and list_contains($models, model) order by model",
            params,
        )
    except duckdb.Error:  # a store without the table
        return False
    if con.execute(f"select count(*) from temp.{PRICES_RELATION}").fetchall()[0][0] == len(models):
        return True
    con.execute(f"drop table temp.{PRICES_RELATION}")
    return False


def cost_relation(
    con: duckdb.DuckDBPyConnection, models: Iterable[str | None] | None = None
) -> duckdb.DuckDBPyRelation:
    """Unit prices (USD per token, see :data:`PRICE_COLUMNS`) for ``models`` (default: all in the store)."""
    register_prices(con, models)
    return con.sql("select * from _ccstats_prices order by model")


def request_costs(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """One row per request: request_id, started_at, status, model, price_model, the four token counts,
    ``spend_usd`` (LiteLLM's logged API list price) and ``cost_usd`` (computed from genai-prices unit prices,
    ccusage's per-type tier rule; NULL for unknown models), plus ``prices_source``.

    Lazy DuckDB relation: call ``.pl()`` / ``.fetchall()``; filter or aggregate it in SQL for big stores.
    """
    register_prices(con)
    return con.sql(sql("windows_request_costs"))


def store_prices(con: duckdb.DuckDBPyConnection) -> int:
    """Fill the persistent ``model_prices`` table (behind the ``windows_5h`` view) for models not yet priced
    with the installed genai-prices version. Returns the number of models added. Needs a writable connection.
    """
    source = prices_source()
    have = {
        r[0]
        for r in con.execute("select model from model_prices where prices_source = ?", [source]).fetchall()
    }
    missing = [m for m in logged_models(con) if m not in have]
    if not missing:
        return 0
    rows = price_rows(missing)
    con.execute("delete from model_prices where list_contains(?, model)", [missing])
    con.executemany(sql("windows_store_price"), [r.row() for r in rows])
    return len(rows)
