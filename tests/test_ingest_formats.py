"""Every input format, read from the real-proxy fixtures in sample_logs/, normalises to the same exact rows."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from analyzer import connect
from analyzer.ingest import IngestOptions, ingest_file

from .conftest import SAMPLE_LOGS

UTC = dt.UTC
VOLATILE = ("ingested_at", "source_id", "source_line", "raw")


def _ingest(tmp_path: Path, *files: Path, **opts: Any) -> Any:
    con = connect(tmp_path / "t.duckdb")
    for f in files:
        s = ingest_file(con, f, IngestOptions(**opts))
        assert not s.error, s.error
    return con


def _rows(con: Any, table: str = "request_log", key: str = "request_id") -> dict[str, dict[str, Any]]:
    cur = con.execute(f"select * exclude ({', '.join(VOLATILE)}) from {table} order by {key}")
    cols = [d[0] for d in cur.description]
    return {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


# msg_fake_0002: OAuth client, /v1/messages, non-streaming sonnet. Values checked by hand against the raw row in
# sample_logs/spend_logs.jsonl (prompt_tokens 22564 = 36 text + 1024 cache write + 21504 cache read) and its
# callback event (unified 5h headers).
EXPECTED_0002 = {
    "request_id": "msg_fake_0002",
    "litellm_call_id": "951dc50c-7b78-49d8-a1ad-c7de047c7e66",
    "origin": "spend_log",
    "started_at": dt.datetime(2026, 11, 27, 10, 28, 48, 592150, tzinfo=UTC),
    "ended_at": dt.datetime(2026, 11, 27, 10, 28, 48, 603104, tzinfo=UTC),
    "completion_start_at": dt.datetime(2026, 11, 27, 10, 28, 48, 603104, tzinfo=UTC),
    "duration_ms": 10.0,
    "call_type": "anthropic_messages",
    "route": "/v1/messages",
    "status": "success",
    "model_requested": "claude-sonnet-4-5-20250929",
    "model_group": "claude-sonnet-4-5-20250929",
    "model": "anthropic/claude-sonnet-4-5-20250929",
    "model_id": "1635c13da356b1fac9c76e197284384f419092e47805a8631d07b70513eaa7b4",
    "provider": "anthropic",
    "api_base": "http://127.0.0.1:34445/v1/messages",
    "error_code": None,
    "error_class": None,
    "error_message": None,
    "input_tokens": 36,
    "output_tokens": 30,
    "cache_creation_tokens": 1024,
    "cache_read_tokens": 21504,
    "prompt_tokens_logged": 22564,
    "total_tokens_logged": 22594,
    "spend_usd": 0.0108492,
    "key_hash": "litellm_proxy_master_key",
    "key_alias": None,
    "user_id": "default_user_id",
    "user_email": None,
    "team_id": None,
    "team_alias": None,
    "org_id": None,
    "end_user": "user_" + "3f" * 32 + "_account_0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    "_session_5f0c6f2e-1a7b-4c3d-9e8f-0a1b2c3d4e5a",
    "session_id": "5f0c6f2e-1a7b-4c3d-9e8f-0a1b2c3d4e5a",
    "trace_id": None,
    "user_agent": "claude-cli/2.0.14 (external, cli)",
    "tags": ["User-Agent: claude-cli", "User-Agent: claude-cli/2.0.14 (external, cli)"],
    "used_client_oauth_token": True,
    "attempted_fallbacks": 0,
    "attempted_retries": 0,
    "max_retries": 1,
    "requester_ip": "127.0.0.1",
    "client_sent_api_key": None,
    "hops": None,
    "failed_hops": None,
    "hop_models_json": None,
    "rl_unified_status": None,
    "rl_5h_status": None,
    "rl_5h_utilization": None,
    "rl_5h_reset": None,
    "rl_7d_status": None,
    "rl_7d_utilization": None,
    "rl_7d_reset": None,
    "rl_representative_claim": None,
    "rl_overage_status": None,
    "rl_fallback_percentage": None,
    "rl_has_unified": None,
    "rl_has_api_limits": None,
    "seen_in_litellm": True,
    "seen_in_transcript": False,
}

# What the callback events of the same call add to the spend row.
CALLBACK_ENRICHMENT_0002 = {
    "trace_id": "5f0c6f2e-1a7b-4c3d-9e8f-0a1b2c3d4e5a",
    "client_sent_api_key": False,
    "hops": 1,
    "failed_hops": 0,
    "hop_models_json": '["claude-sonnet-4-5-20250929"]',
    "rl_unified_status": "allowed",
    "rl_5h_status": "allowed",
    "rl_5h_utilization": 0.39,
    "rl_5h_reset": dt.datetime(2026, 11, 27, 14, 40, tzinfo=UTC),
    "rl_7d_status": "allowed",
    "rl_7d_utilization": 0.12,
    "rl_7d_reset": dt.datetime(2026, 12, 1, 9, 40, tzinfo=UTC),
    "rl_representative_claim": "five_hour",
    "rl_overage_status": "rejected",
    "rl_fallback_percentage": 0.5,
    "rl_has_unified": True,
    "rl_has_api_limits": False,
}


def test_spend_jsonl_whole_row(tmp_path: Path) -> None:
    con = _ingest(tmp_path, SAMPLE_LOGS / "spend_logs.jsonl")
    rows = _rows(con)
    assert len(rows) == 35
    assert rows["msg_fake_0002"] == EXPECTED_0002


def test_callbacks_enrich_the_spend_row(tmp_path: Path) -> None:
    con = _ingest(tmp_path, SAMPLE_LOGS / "spend_logs.jsonl", SAMPLE_LOGS / "callbacks.jsonl")
    assert _rows(con)["msg_fake_0002"] == {**EXPECTED_0002, **CALLBACK_ENRICHMENT_0002}


def test_callbacks_first_then_spend_gives_the_same_rows(tmp_path: Path) -> None:
    a = _rows(_ingest(tmp_path / "a", SAMPLE_LOGS / "spend_logs.jsonl", SAMPLE_LOGS / "callbacks.jsonl"))
    b = _rows(_ingest(tmp_path / "b", SAMPLE_LOGS / "callbacks.jsonl", SAMPLE_LOGS / "spend_logs.jsonl"))
    assert a == b
    assert {r["origin"] for r in b.values()} == {"spend_log"}


def test_fallback_row_requested_vs_served(tmp_path: Path) -> None:
    con = _ingest(tmp_path, SAMPLE_LOGS / "spend_logs.jsonl", SAMPLE_LOGS / "callbacks.jsonl")
    row = _rows(con)["msg_fake_0008"]
    assert (
        row["model_requested"],
        row["model_group"],
        row["attempted_fallbacks"],
        row["attempted_retries"],
    ) == ("claude-opus-4-1-20250805", "claude-sonnet-4-5-20250929", 1, 0)
    assert (row["hops"], row["failed_hops"], row["hop_models_json"]) == (
        2,
        1,
        '["claude-opus-4-1-20250805","claude-sonnet-4-5-20250929"]',
    )
    assert (
        row["input_tokens"],
        row["output_tokens"],
        row["cache_creation_tokens"],
        row["cache_read_tokens"],
    ) == (60, 48, 1024, 27648)


def test_failure_row_counts_no_usage(tmp_path: Path) -> None:
    con = _ingest(tmp_path, SAMPLE_LOGS / "spend_logs.jsonl")
    row = _rows(con)["5d3eafe1-9742-4163-8b71-5dd2fcfa61b9"]
    assert (row["status"], row["error_code"], row["error_class"], row["spend_usd"]) == (
        "failure",
        "429",
        "RateLimitError",
        0.0,
    )
    assert row["prompt_tokens_logged"] == 46  # LiteLLM's estimate, kept but not counted as usage
    assert (
        row["input_tokens"],
        row["output_tokens"],
        row["cache_creation_tokens"],
        row["cache_read_tokens"],
    ) == (0, 0, 0, 0)
    assert "exceed your account's rate limit" in row["error_message"]


def test_used_client_oauth_token_per_route(tmp_path: Path) -> None:
    con = _ingest(tmp_path, SAMPLE_LOGS / "spend_logs.jsonl")
    got = dict(
        con.execute(
            "select request_id, used_client_oauth_token from request_log "
            "where request_id in ('msg_fake_0002', 'msg_fake_0011', 'msg_fake_0015', "
            "'chatcmpl-26ebac48-50eb-48af-a6b2-34a8bfe88629')"
        ).fetchall()
    )
    assert got == {
        "msg_fake_0002": True,
        "msg_fake_0011": False,
        "msg_fake_0015": None,
        "chatcmpl-26ebac48-50eb-48af-a6b2-34a8bfe88629": False,
    }


def _ms(v: Any) -> Any:
    return v.replace(microsecond=v.microsecond // 1000 * 1000) if isinstance(v, dt.datetime) else v


@pytest.mark.parametrize("name", ["spend_logs_list.json", "spend_logs_v2_page.json", "spend_logs.csv"])
def test_database_shapes_equal_jsonl_at_millisecond_precision(tmp_path: Path, name: str) -> None:
    # The API pages and psql CSV come from LiteLLM_SpendLogs, whose timestamps are timestamp(3): milliseconds
    # (CSV without an offset, meaning UTC). Everything else must be identical to the JSONL rows.
    want = _rows(_ingest(tmp_path / "a", SAMPLE_LOGS / "spend_logs.jsonl"))
    got = _rows(_ingest(tmp_path / "b", SAMPLE_LOGS / name))
    assert set(got) == set(want)
    for rid, row in want.items():
        expected = {k: _ms(v) for k, v in row.items()}
        expected["duration_ms"] = got[rid]["duration_ms"]  # request_duration_ms column, same source value
        assert got[rid] == expected, rid


def test_gzip_is_read_like_plain(tmp_path: Path) -> None:
    gz = tmp_path / "spend_logs.jsonl.gz"
    with gzip.open(gz, "wb") as f:
        f.write((SAMPLE_LOGS / "spend_logs.jsonl").read_bytes())
    want = _rows(_ingest(tmp_path / "a", SAMPLE_LOGS / "spend_logs.jsonl"))
    assert _rows(_ingest(tmp_path / "b", gz)) == want


def test_callbacks_alone_make_requests(tmp_path: Path) -> None:
    con = _ingest(tmp_path, SAMPLE_LOGS / "callbacks.jsonl")
    rows = _rows(con)
    spend = _rows(_ingest(tmp_path / "s", SAMPLE_LOGS / "spend_logs.jsonl"))
    by_call = {r["litellm_call_id"]: r for r in spend.values()}
    assert {r["origin"] for r in rows.values()} == {"callback"}
    # Each callback-only request has the spend row's request id and usage (one request per litellm_call_id).
    for rid, row in rows.items():
        s = by_call[row["litellm_call_id"]]
        assert rid == s["request_id"]
        assert (row["status"], row["model_requested"], row["model_group"]) == (
            s["status"],
            s["model_requested"],
            s["model_group"],
        ), rid
        assert (
            row["input_tokens"],
            row["output_tokens"],
            row["cache_creation_tokens"],
            row["cache_read_tokens"],
        ) == (s["input_tokens"], s["output_tokens"], s["cache_creation_tokens"], s["cache_read_tokens"]), rid
    assert rows["msg_fake_0008"]["attempted_fallbacks"] == 1
    assert len(rows) == 34  # 35 requests; only the pass-through 529 left no callback event


def test_proxy_logs_local_time_to_utc_and_kinds(tmp_path: Path) -> None:
    con = _ingest(
        tmp_path, SAMPLE_LOGS / "proxy_stdout.log", SAMPLE_LOGS / "proxy_stderr.log", log_tz="Europe/Berlin"
    )
    first = con.execute("select min(logged_at) from proxy_events").fetchone()[0]
    # The first line reads 2026-11-27T11:28:46.400352 (Berlin, UTC+1 in November).
    assert first == dt.datetime(2026, 11, 27, 10, 28, 46, 400352, tzinfo=UTC)
    kinds = dict(con.execute("select kind, count(*) from proxy_events group by kind").fetchall())
    assert (
        kinds["fallback"]
        == con.execute(
            "select count(*) from proxy_events where message like 'Falling back to model_group%' "
            "or message like 'Successful fallback%' or message like '%trying to do fallbacks%'"
        ).fetchone()[0]
    )
    targets = con.execute(
        "select distinct target_model_group from proxy_events where target_model_group is not null"
    ).fetchall()
    assert targets == [("claude-sonnet-4-5-20250929",)]
    cooldown = con.execute(
        "select litellm_call_id from proxy_events where kind = 'cooldown' "
        "and litellm_call_id is not null order by logged_at"
    ).fetchall()
    assert ("46e7387e-17fb-4d98-ace1-9291c3750456",) in cooldown
    access = con.execute(
        "select http_method, http_path, http_status, count(*) from proxy_events where kind = 'access' "
        "and http_path = '/v1/messages' group by all order by all"
    ).fetchall()
    # One access line per request the capture client sent to /v1/messages, with the status it received.
    sent = [json.loads(ln) for ln in (SAMPLE_LOGS / "requests_sent.jsonl").read_text().splitlines()]
    statuses = sorted(r["status"] for r in sent if r["route"] == "/v1/messages")
    want = sorted((s, statuses.count(s)) for s in set(statuses))
    assert access == [("POST", "/v1/messages", s, n) for s, n in want]


def test_json_columns_as_strings_or_objects(tmp_path: Path) -> None:
    line = json.loads((SAMPLE_LOGS / "spend_logs.jsonl").read_text().splitlines()[2])
    as_objects = {
        **line,
        "metadata": json.loads(line["metadata"]),
        "request_tags": json.loads(line["request_tags"]),
    }
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps(line) + "\n")
    b.write_text(json.dumps(as_objects) + "\n")
    assert _rows(_ingest(tmp_path / "x", a)) == _rows(_ingest(tmp_path / "y", b))


def test_sample_folder_ingests_without_quarantine(sample_db: Path) -> None:
    con = connect(sample_db, read_only=True)
    assert con.execute("select count(*) from quarantine").fetchone()[0] == 0
    assert con.execute("select count(*) from request_log").fetchone()[0] == 35
    assert con.execute("select count(*) from callback_events").fetchone()[0] == 39
    shutil.rmtree  # noqa: B018 (keep import used for helpers in other tests)
