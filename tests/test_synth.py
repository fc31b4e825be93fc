"""analyzer.synth: deterministic, LiteLLM-1.110.2-shaped logs that ingest exactly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from analyzer import db, synth
from analyzer.ingest import ingest_file

N = 600


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    assert synth.write_spend_jsonl(a, N, seed=7) == N
    assert synth.write_spend_jsonl(b, N, seed=7) == N
    synth.write_spend_jsonl(c, N, seed=8)
    assert _sha(a) == _sha(b)
    assert _sha(a) != _sha(c)
    ca, cb = tmp_path / "ca.jsonl", tmp_path / "cb.jsonl"
    synth.write_callbacks_jsonl(ca, N, seed=7)
    synth.write_callbacks_jsonl(cb, N, seed=7)
    assert _sha(ca) == _sha(cb)


def test_requests_exact_count_in_time_order_with_the_mix() -> None:
    reqs = list(synth.generate_requests(5000, seed=3))
    assert len(reqs) == 5000
    assert [r["seq"] for r in reqs] == list(range(5000))
    assert all(x["start"] <= y["start"] for x, y in zip(reqs, reqs[1:], strict=False))
    assert len({r["request_id"] for r in reqs}) == 5000
    assert len({r["call_id"] for r in reqs}) == 5000
    assert {r["model"] for r in reqs} == {synth.SONNET, synth.OPUS, synth.HAIKU}
    assert {r["outcome"] for r in reqs} == {"success", "429", "529"}
    assert any(
        r["fallback"] and r["model_requested"] == synth.OPUS and r["model"] == synth.SONNET for r in reqs
    )
    assert any(r["retries"] == 1 for r in reqs)
    assert {r["oauth"] for r in reqs} == {True, False}
    gaps = [y["start"] - x["start"] for x, y in zip(reqs, reqs[1:], strict=False)]
    assert max(gaps) > 5 * 3600  # nights are idle: new 5-hour windows


def test_spend_rows_ingest_exactly_and_tokens_normalise(tmp_path: Path) -> None:
    path = tmp_path / "spend.jsonl"
    synth.write_spend_jsonl(path, N, seed=11)
    reqs = list(synth.generate_requests(N, seed=11))
    con = db.connect(str(tmp_path / "s.duckdb"))
    summary = ingest_file(con, path)
    assert (summary.rows_added, summary.quarantined, summary.skipped) == (N, 0, 0)
    assert con.execute("select count(*) from quarantine").fetchone() == (0,)
    assert con.execute("select count(*) from request_log").fetchone() == (N,)
    r = next(
        r for r in reqs if r["outcome"] == "success" and r["cache_read_tokens"] and r["cache_creation_tokens"]
    )
    row = synth.spend_row(r)
    meta = json.loads(row["metadata"])
    # LiteLLM's prompt_tokens include the cache tokens
    assert row["prompt_tokens"] == r["input_tokens"] + r["cache_creation_tokens"] + r["cache_read_tokens"]
    assert meta["usage_object"]["cache_read_input_tokens"] == r["cache_read_tokens"]
    assert len(meta["model_map_information"]["model_map_value"]) > 10
    got = con.execute(
        "select input_tokens, cache_creation_tokens, cache_read_tokens, output_tokens, used_client_oauth_token, "
        "key_hash, session_id, model_requested from request_log where request_id = ?",
        [r["request_id"]],
    ).fetchone()
    assert got == (
        r["input_tokens"],
        r["cache_creation_tokens"],
        r["cache_read_tokens"],
        r["output_tokens"],
        r["oauth"],
        r["key_hash"],
        r["session_id"],
        r["model_requested"],
    )
    fb = next(r for r in reqs if r["fallback"])
    assert con.execute(
        "select model_requested, model_group, attempted_fallbacks from request_log where request_id = ?",
        [fb["request_id"]],
    ).fetchone() == (synth.OPUS, synth.SONNET, 1)
    failures = sum(1 for r in reqs if r["outcome"] != "success")
    assert con.execute("select count(*) from request_log where status = 'failure'").fetchone() == (failures,)


def test_callbacks_ingest_and_fallback_hop_shares_call_id(tmp_path: Path) -> None:
    reqs = list(synth.generate_requests(N, seed=5))
    fb = next(r for r in reqs if r["fallback"])
    evs = synth.callback_events(fb)
    assert [e["status"] for e in evs] == ["failure", "success"]
    assert {e["litellm_call_id"] for e in evs} == {fb["call_id"]}
    assert [e["model_group"] for e in evs] == [synth.OPUS, synth.SONNET]
    path = tmp_path / "cb.jsonl"
    count = synth.write_callbacks_jsonl(path, N, seed=5)
    assert count == sum(len(synth.callback_texts(r)) for r in reqs)
    con = db.connect(str(tmp_path / "c.duckdb"))
    summary = ingest_file(con, path)
    assert (summary.rows_added, summary.quarantined) == (count, 0)


def test_transcripts_have_usage_bytes_and_ids(tmp_path: Path) -> None:
    lines = synth.write_transcripts(tmp_path, 300, seed=2)
    reqs = list(synth.generate_requests(300, seed=2))
    expected = [r for r in reqs if r["outcome"] == "success" and r["route"] != "/chat/completions"]
    assert lines == len(expected)
    files = sorted((tmp_path / "projects").glob("*/*.jsonl"))
    assert files
    written = [ln for f in files for ln in f.read_text().splitlines()]
    assert len(written) == lines
    assert all('"usage":{' in ln for ln in written)
    first = json.loads(written[0])
    assert first["timestamp"].endswith("Z") and first["requestId"].startswith("req_")
    by_id = {r["request_id"]: r for r in expected}
    for ln in written:
        e = json.loads(ln)
        r = by_id[e["message"]["id"]]
        assert e["message"]["usage"]["cache_read_input_tokens"] == r["cache_read_tokens"]
        assert e["sessionId"] == r["session_id"]


def test_proxy_lines_local_time_and_levels() -> None:
    req = next(r for r in synth.generate_requests(400, seed=9) if r["outcome"] == "429")
    lines = synth.proxy_lines(req, "Europe/Berlin")
    assert [ln["level"] for ln in lines] == ["INFO", "ERROR", "INFO"]
    assert f"litellm_call_id={req['call_id']}" in lines[1]["message"]
    assert lines[-1]["message"].endswith('" 429')
    assert "+" not in lines[0]["timestamp"] and "Z" not in lines[0]["timestamp"]
