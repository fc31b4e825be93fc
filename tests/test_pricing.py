"""Computed API-price cost (genai-prices unit prices, arithmetic in SQL) against LiteLLM's logged spend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from genai_prices import Usage, calc_price

from analyzer import db, pricing
from analyzer.ingest import after_ingest, ingest_file

SONNET_45 = "claude-sonnet-4-5-20250929"


def spend_row(request_id: str, model: str, inp: int, cw: int, cr: int, out: int, spend: float) -> dict:
    """A LiteLLM spend-log row; prompt_tokens includes the cache tokens (litellm-logs.md section 1)."""
    meta = {
        "user_api_key": "hash-1",
        "additional_usage_values": {
            "cache_creation_input_tokens": cw,
            "cache_read_input_tokens": cr,
            "prompt_tokens_details": {"text_tokens": inp, "cached_tokens": cr, "cache_write_tokens": cw},
        },
    }
    return {
        "request_id": request_id,
        "call_type": "anthropic_messages",
        "api_key": "hash-1",
        "spend": spend,
        "prompt_tokens": inp + cw + cr,
        "completion_tokens": out,
        "total_tokens": inp + cw + cr + out,
        "startTime": "2025-10-06T10:15:00.123000+00:00",
        "endTime": "2025-10-06T10:15:03.000000+00:00",
        "model": model,
        "model_group": model.rsplit("/", 1)[-1],
        "custom_llm_provider": "anthropic",
        "metadata": json.dumps(meta),
        "status": "success",
        "session_id": "s1",
    }


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    rows = [
        spend_row("msg_example", f"anthropic/{SONNET_45}", 32, 1536, 20480, 27, 0.012405),
        spend_row("msg_unknown", "anthropic/claude-imaginary-9", 100, 0, 0, 10, 0.0),
    ]
    path = tmp_path / "spend.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    c = db.connect(tmp_path / "store.duckdb")
    assert ingest_file(c, path).rows_added == 2
    after_ingest(c)
    yield c
    c.close()


def test_genai_prices_reproduces_litellm_spend_with_total_prompt_tokens() -> None:
    usage = Usage(
        input_tokens=32 + 1536 + 20480, cache_write_tokens=1536, cache_read_tokens=20480, output_tokens=27
    )
    assert calc_price(usage, SONNET_45, provider_id="anthropic").total_price == Decimal("0.012405")


def test_example_request_cost_equals_logged_spend(con: duckdb.DuckDBPyConnection) -> None:
    df = pricing.request_costs(con).pl()
    ex = df.filter(df["request_id"] == "msg_example").row(0, named=True)
    assert (
        ex["input_tokens"],
        ex["cache_creation_tokens"],
        ex["cache_read_tokens"],
        ex["output_tokens"],
    ) == (32, 1536, 20480, 27)
    assert ex["spend_usd"] == 0.012405
    assert ex["cost_usd"] == pytest.approx(32 * 3e-6 + 1536 * 3.75e-6 + 20480 * 3e-7 + 27 * 1.5e-5, abs=1e-15)
    assert ex["cost_usd"] == pytest.approx(0.012405, abs=1e-12)
    assert (ex["model"], ex["price_model"], ex["prices_source"]) == (
        f"anthropic/{SONNET_45}",
        "claude-sonnet-4-5",
        pricing.prices_source(),
    )
    assert pricing.prices_source().startswith("genai-prices ")


def test_unknown_model_costs_null_not_an_exception(con: duckdb.DuckDBPyConnection) -> None:
    df = pricing.request_costs(con).pl()
    unk = df.filter(df["request_id"] == "msg_unknown").row(0, named=True)
    assert (unk["cost_usd"], unk["price_model"], unk["spend_usd"]) == (None, None, 0.0)
    p = pricing.unit_prices("claude-imaginary-9")
    assert (p.price_model, p.input_usd, p.output_usd, p.tier_start) == (None, None, None, None)
    assert pricing.unit_prices("").price_model is None


def test_persistent_prices_are_filled_on_ingest(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select model, price_model, price_provider, input_usd, output_usd, cache_write_usd, cache_read_usd, "
        "tier_start, input_tier_usd from model_prices order by model"
    ).fetchall()
    assert rows == [
        ("anthropic/claude-imaginary-9", None, None, None, None, None, None, None, None),
        (
            f"anthropic/{SONNET_45}",
            "claude-sonnet-4-5",
            "anthropic",
            3e-6,
            1.5e-5,
            3.75e-6,
            3e-7,
            200_000,
            6e-6,
        ),
    ]
    assert pricing.store_prices(con) == 0  # nothing new to price
    view = con.execute("select requests, cost_usd, spend_usd from windows_5h").fetchall()
    assert view[0][0] == 2
    assert view[0][1] == pytest.approx(0.012405, abs=1e-12)  # the unknown model counts 0


def test_cost_relation_prices_each_model_once() -> None:
    con = db.connect(":memory:")
    rel = pricing.cost_relation(
        con, ["claude-haiku-4-5-20251001", "claude-opus-4-1-20250805", None, "nope-1"]
    )
    got = {
        r[0]: r[1:]
        for r in rel.select(
            "model, price_model, input_usd, output_usd, cache_write_usd, cache_read_usd, tier_start"
        ).fetchall()
    }
    assert got == {
        "claude-haiku-4-5-20251001": ("claude-haiku-4-5", 1e-6, 5e-6, 1.25e-6, 1e-7, None),
        "claude-opus-4-1-20250805": ("claude-opus-4-1", 1.5e-5, 7.5e-5, 1.875e-5, 1.5e-6, None),
        "nope-1": (None, None, None, None, None, None),
    }


@pytest.mark.parametrize(
    ("tokens", "usd"),
    [
        # ccusage 20.0.24's rule: the first 200k tokens of each type at the base rate, the rest at the tier rate
        ((1_000_000, 0, 0, 0), 5.40),  # 200k * $3 + 800k * $6
        ((200_000, 0, 0, 0), 0.60),
        ((0, 1_000_000, 0, 0), 21.00),  # 200k * $15 + 800k * $22.50
        ((0, 0, 1_000_000, 0), 6.75),  # 200k * $3.75 + 800k * $7.50
        ((0, 0, 0, 1_000_000), 0.54),  # 200k * $0.30 + 800k * $0.60
        (
            (150_000, 10_000, 0, 150_000),
            0.45 + 0.15 + 0.045,
        ),  # 300k prompt, but no type over 200k: base rates
    ],
)
def test_long_context_tier_follows_ccusage(tokens: tuple[int, int, int, int], usd: float) -> None:
    con = db.connect(":memory:")
    inp, out, cw, cr = tokens
    con.execute(
        "insert into request_log (request_id, origin, started_at, status, model, input_tokens, output_tokens, "
        "cache_creation_tokens, cache_read_tokens, spend_usd, ingested_at) values (?, 'spend_log', ?, 'success', ?, "
        "?, ?, ?, ?, 0, now())",
        ["msg_1", datetime(2025, 10, 6, 10, tzinfo=UTC), SONNET_45, inp, out, cw, cr],
    )
    (cost,) = pricing.request_costs(con).select("cost_usd").fetchall()[0]
    assert cost == pytest.approx(usd, abs=1e-9)
