"""Deterministic generator of realistic LiteLLM 1.110.2 logs (and matching Claude Code transcripts).

The shapes are the real ones: ``analyzer/data/synth_templates.json`` holds rows and events captured from a real
LiteLLM 1.110.2 proxy (``sample_logs/``), turned into format strings by :func:`build_templates`. Each generated
request fills those strings with its own ids, times, tokens, costs, key and credential kind, so a spend row is
the same ~14 KB JSON line LiteLLM writes (JSON columns as JSON strings, 9 KB of it the price-map entry in
``metadata.model_map_information``), built without a ``json.dumps`` of a deep dict per row.

Traffic: K developers (one LiteLLM key each, most on a Claude subscription via OAuth, some on API keys, a few
switching), working hours on weekdays (nights and weekends idle: gaps > 5 h), Claude Code sessions with
``x-claude-code-session-id`` UUIDs, sonnet 4.5 mostly, opus 4.1 sometimes (some falling back to sonnet after
529s: ``attempted_fallbacks`` 1 plus a failed hop in the callbacks sharing ``litellm_call_id``), haiku 4.5
background calls (no cache), retries after a 500, 429 quota failures, 529 overload failures, a little
pass-through and /chat/completions traffic. Same arguments, same bytes.

CLI: ``python -m analyzer.synth spend OUT.jsonl -n 100000 --seed 1`` (also ``callbacks``, ``proxy``,
``transcripts``; ``build-templates SAMPLE_DIR`` regenerates the data file from captured logs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DATA_FILE = Path(__file__).with_name("data") / "synth_templates.json"
DEFAULT_START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
DEFAULT_DAYS = 28
DEFAULT_DEVELOPERS = 12

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"
HAIKU = "claude-haiku-4-5-20251001"
# USD per token: input, output, cache write (5 min), cache read (the LiteLLM price map of 1.110.2)
PRICES = {
    SONNET: (3e-06, 1.5e-05, 3.75e-06, 3e-07),
    OPUS: (1.5e-05, 7.5e-05, 1.875e-05, 1.5e-06),
    HAIKU: (1e-06, 5e-06, 1.25e-06, 1e-07),
}
CLAUDE_CODE_VERSION = "2.0.14"
USER_AGENT = f"claude-cli/{CLAUDE_CODE_VERSION} (external, cli)"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PROJECTS = ("api-gateway", "billing-service", "web-frontend", "data-pipeline", "infra", "mobile-app", "docs")

Request = dict[str, Any]


# ---------------------------------------------------------------- building the templates from captured logs

# key name -> template slot; "r_" = raw JSON token (number, true/false), "s_" = string, "j_" = a JSON value.
_COMMON_KEYS = {
    "used_client_oauth_token": "r_oauth",
    "model_id": "s_mid",
    "model_map_information": "j_mmi",
    "user_api_key_alias": "s_alias",
    "litellm_overhead_time_ms": "r_ovh",
    "request_duration_ms": "r_dur",
    "response_time": "r_rtime",
    "created": "r_created",
}
_CB_TIME_KEYS = {"startTime": "r_t0", "endTime": "r_t1", "completionStartTime": "r_t1"}
_USAGE_KEYS = {
    "prompt_tokens": "r_pt",
    "completion_tokens": "r_ct",
    "total_tokens": "r_tt",
    "cache_read_input_tokens": "r_cr",
    "cached_tokens": "r_cr",
    "cache_creation_input_tokens": "r_cw",
    "cache_write_tokens": "r_cw",
    "cache_creation_tokens": "r_cw",
    "ephemeral_5m_input_tokens": "r_cw",
    "input_cost": "r_c_in",
    "cache_read_cost": "r_c_cr",
    "cache_creation_cost": "r_c_cw",
    "output_cost": "r_c_out",
    "total_cost": "r_spend",
    "original_cost": "r_spend",
    "response_cost": "r_spend",
    "spend": "r_spend",
    "attempted_fallbacks": "r_fb",
    "attempted_retries": "r_rt",
    "original_model_group": "s_orig",
}
_TEXT_DETAILS = {"prompt_tokens_details": "r_in", "completion_tokens_details": "r_ct"}


def _templatize(obj: Any, keys: dict[str, str], parent: str = "") -> Any:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "text_tokens" and parent in _TEXT_DETAILS and "r_pt" in keys.values() and v is not None:
                out[k] = f"@@{_TEXT_DETAILS[parent]}@@"
            elif k == "user_api_key_alias":
                out[k] = "@@s_alias@@"  # null in the capture (master key); a named key per developer here
            elif (
                k in keys
                and v not in (None, "")
                and not isinstance(v, (dict, list))
                or k == "model_map_information"
                and v
            ):
                out[k] = f"@@{keys.get(k, 'j_mmi')}@@"
            else:
                out[k] = _templatize(v, keys, k)
        return out
    if isinstance(obj, list):
        return [_templatize(v, keys, parent) for v in obj]
    return obj


def _replace_strings(obj: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(obj, dict):
        return {k: _replace_strings(v, pairs) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_strings(v, pairs) for v in obj]
    if isinstance(obj, str):
        obj = re.sub(r"req_fake_[0-9a-f]{20}", "@@s_upreq@@", obj)
        for old, new in pairs:
            if old:
                obj = obj.replace(old, new)
    return obj


def _to_format(text: str) -> str:
    def unquote(m: re.Match[str]) -> str:
        name = m.group(2)
        if name.startswith("j_") and m.group(1):
            name += "_esc"
        return "@@" + name + "@@"

    text = re.sub(r'(\\*)"@@([rj]_\w+)@@\\*"', unquote, text)
    text = text.replace("{", "{{").replace("}", "}}")
    return re.sub(r"@@(\w+)@@", r"{\1}", text)


def _string_pairs(rec: dict[str, Any], *, served: str, start: str, end: str) -> list[tuple[str, str]]:
    pairs = [
        (str(rec.get("end_user") or ""), "@@s_eu@@"),
        ("http://127.0.0.1:34445", "https://api.anthropic.com"),
        ("fake-anthropic/1 Python/3.11.7", "cloudflare"),
        (start, "@@s_t0@@"),
        (end, "@@s_t1@@"),
        (str(rec.get("litellm_call_id") or ""), "@@s_cid@@"),
        (str(rec.get("request_id") or rec.get("id") or ""), "@@s_rid@@"),
        (str(rec.get("session_id") or rec.get("trace_id") or ""), "@@s_sess@@"),
        ("litellm_proxy_master_key", "@@s_key@@"),
        ("default_user_id", "@@s_user@@"),
        (served, "@@s_model@@"),
        ("127.0.0.1", "@@s_ip@@"),
    ]
    return sorted((p for p in pairs if p[0]), key=lambda p: -len(p[0]))


def _spend_template(row: dict[str, Any], usage: bool) -> str:
    row = dict(row)
    for col in ("messages", "response", "proxy_server_request"):
        row[col] = "{}"  # prompts not stored (the default)
    served = row["model_group"]
    pairs = _string_pairs(row, served=served, start=row["startTime"], end=row["endTime"])
    keys = {**_COMMON_KEYS, **(_USAGE_KEYS if usage else {})}
    meta = _templatize(json.loads(row["metadata"]), keys)
    meta = _replace_strings(meta, pairs)
    top = {k: v for k, v in row.items() if k != "metadata"}
    top = _templatize(top, keys)
    top = _replace_strings(top, pairs)
    top["completionStartTime"] = "@@s_t1@@"
    top["metadata"] = json.dumps(meta)
    return _to_format(json.dumps({k: top[k] for k in row}))


def _callback_template(ev: dict[str, Any], usage: bool) -> str:
    served = ev["model_group"]
    pairs = _string_pairs(ev, served=served, start="", end="")
    keys = {**_COMMON_KEYS, **_CB_TIME_KEYS, **(_USAGE_KEYS if usage else {})}
    return _to_format(json.dumps(_replace_strings(_templatize(ev, keys), pairs)))


def build_templates(sample_dir: str | Path) -> dict[str, Any]:
    """Format strings from the captured fixtures (phase-B rows: prompts not stored). Written to DATA_FILE."""
    d = Path(sample_dir)
    rows = {r["request_id"]: r for r in map(json.loads, (d / "spend_logs.jsonl").read_text().splitlines())}
    evs = [json.loads(x) for x in (d / "callbacks.jsonl").read_text().splitlines()]
    by_id = {(e["id"], e["status"]): e for e in evs}

    def row_where(**kw: Any) -> dict[str, Any]:
        for r in rows.values():
            m = json.loads(r["metadata"])
            if all((m.get(k[5:]) if k.startswith("meta_") else r.get(k)) == v for k, v in kw.items()):
                return r
        raise LookupError(kw)

    fail_429_oauth = row_where(status="failure", meta_used_client_oauth_token=True, prompt_tokens=47)
    fail_429_key = row_where(status="failure", meta_used_client_oauth_token=False, prompt_tokens=47)
    fail_529 = next(
        r
        for r in rows.values()
        if r["status"] == "failure"
        and '"error_code": "529"' in r["metadata"]
        and r["model"].startswith("anthropic/")
    )
    ok_fallback = row_where(status="success", meta_attempted_fallbacks=1, call_type="anthropic_messages")
    ok_pass = row_where(status="success", call_type="pass_through_endpoint")
    ok_chat = row_where(status="success", call_type="acompletion", meta_attempted_fallbacks=0)
    spend = {
        "ok": _spend_template(ok_fallback, True),
        "ok_pass": _spend_template(ok_pass, True),
        "ok_chat": _spend_template(ok_chat, True),
        "fail_429_oauth": _spend_template(fail_429_oauth, False),
        "fail_429_key": _spend_template(fail_429_key, False),
        "fail_529": _spend_template(fail_529, False),
    }

    def ev_of(rid: str, status: str = "success") -> dict[str, Any]:
        return by_id[(rid, status)]

    def fail_ev(call_id: str) -> dict[str, Any]:
        return next(e for e in evs if e["litellm_call_id"] == call_id and e["status"] == "failure")

    ok_oauth_ev = next(
        e
        for e in evs
        if e["status"] == "success"
        and e["call_type"] == "anthropic_messages"
        and e["metadata"].get("used_client_oauth_token") is True
        and e["model_group"] == SONNET
        and e["hidden_params"].get("additional_headers")
    )
    ok_key_ev = next(
        e
        for e in evs
        if e["status"] == "success"
        and e["call_type"] == "anthropic_messages"
        and e["metadata"].get("used_client_oauth_token") is False
        and e["model_group"] == SONNET
        and e["hidden_params"].get("additional_headers")
    )
    callback = {
        "ok_oauth": _callback_template(ok_oauth_ev, True),
        "ok_key": _callback_template(ok_key_ev, True),
        "ok_pass": _callback_template(ev_of(ok_pass["request_id"]), True),
        "ok_chat": _callback_template(ev_of(ok_chat["request_id"]), True),
        "fail_fallback_hop": _callback_template(fail_ev(ok_fallback["litellm_call_id"]), False),
        "fail_retry_hop": _callback_template(
            fail_ev(row_where(status="success", meta_attempted_retries=1)["litellm_call_id"]), False
        ),
        "fail_429_oauth": _callback_template(fail_ev(fail_429_oauth["litellm_call_id"]), False),
        "fail_429_key": _callback_template(fail_ev(fail_429_key["litellm_call_id"]), False),
        "fail_529": _callback_template(fail_ev(fail_529["litellm_call_id"]), False),
    }
    mmi: dict[str, Any] = {}
    for e in evs:
        g = e.get("model_group")
        if g in PRICES and e.get("model_map_information") and g not in mmi:
            mmi[g] = e["model_map_information"]
    missing = set(PRICES) - set(mmi)
    if missing:
        raise LookupError(f"no price-map entry captured for {sorted(missing)}")
    return {"source": "sample_logs/ (LiteLLM 1.110.2)", "spend": spend, "callback": callback, "mmi": mmi}


@cache
def _templates() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    mmi = {}
    for model, entry in doc["mmi"].items():
        once = json.dumps(entry)
        mmi[model] = (once, json.dumps(once)[1:-1])  # as a JSON value; inside a JSON string (spend metadata)
    doc["mmi_text"] = mmi
    return doc


# ---------------------------------------------------------------- traffic


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _b62(rng: random.Random, n: int) -> str:
    x = rng.getrandbits(6 * n)
    out = []
    for _ in range(n):
        x, r = divmod(x, 62)
        out.append(_B62[r])
    return "".join(out)


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def _developers(rng: random.Random, k: int) -> list[dict[str, Any]]:
    names = [
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
        "frank",
        "grace",
        "heidi",
        "ivan",
        "judy",
        "mallory",
        "oscar",
    ]
    devs = []
    for i in range(k):
        name = names[i % len(names)] + ("" if i < len(names) else str(i // len(names)))
        kind = "oauth" if i % 10 < 7 else ("api_key" if i % 10 < 9 else "mixed")
        account = _uuid(rng)
        devs.append(
            {
                "name": name,
                "key_hash": _sha(f"sk-litellm-{name}-{i}"),
                "key_alias": f"{name}-laptop",
                "user_id": f"{name}@example.com",
                "cc_user": _sha(f"claude-code-{name}"),
                "account": account,
                "ip": f"10.20.{i // 250}.{i % 250 + 1}",
                "kind": kind,
                "project": _PROJECTS[i % len(_PROJECTS)],
                "tz_shift": rng.choice((0, 0, 1, -1, 2)),  # hours their day is shifted from 09:00 UTC
            }
        )
    return devs


def _model_ids(model: str) -> tuple[str, str]:
    return _sha(f"{model}|oauth"), _sha(f"{model}|deployment-key")


def generate_requests(
    n: int,
    seed: int = 1,
    start: datetime = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    developers: int = DEFAULT_DEVELOPERS,
) -> Iterator[Request]:
    """Exactly ``n`` requests in start-time order over ``days`` days from ``start`` (UTC), by ``developers``
    people. Each is a neutral description (see the keys of the dicts); the shapes come from spend_row() etc."""
    if n <= 0:
        return
    rng = random.Random(seed)
    devs = _developers(rng, max(1, developers))
    start = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # working slots: (day, developer) on weekdays, a few weekend slots
    slots: list[tuple[int, int]] = []
    for d in range(days):
        weekday = (start + timedelta(days=d)).weekday()
        for i in range(len(devs)):
            if weekday < 5 and rng.random() < 0.85 or weekday >= 5 and rng.random() < 0.08:
                slots.append((d, i))
    if not slots:
        slots = [(0, 0)]
    weights = [rng.uniform(0.5, 1.5) for _ in slots]
    total_w = sum(weights)
    counts = [int(n * w / total_w) for w in weights]
    for j in range(n - sum(counts)):
        counts[j % len(counts)] += 1
    base = start.timestamp()
    emitted = 0
    by_day: dict[int, list[tuple[int, int]]] = {}
    for (d, i), c in zip(slots, counts, strict=True):
        by_day.setdefault(d, []).append((i, c))
    for d in sorted(by_day):
        day_reqs: list[Request] = []
        for i, c in by_day[d]:
            day_reqs.extend(_slot_requests(rng, devs[i], base + d * 86400, c))
        day_reqs.sort(key=lambda r: (r["start"], r["call_id"]))
        for r in day_reqs:
            r["seq"] = emitted
            emitted += 1
            yield r


def _slot_requests(rng: random.Random, dev: dict[str, Any], day0: float, count: int) -> list[Request]:
    """One developer's working day: sessions of Claude Code traffic between about 09:00 and 18:00."""
    out: list[Request] = []
    t = day0 + (9 + dev["tz_shift"]) * 3600 + rng.uniform(-1800, 3600)
    span = 8.5 * 3600
    mean_gap = span / max(count, 1)
    remaining = count
    while remaining > 0:
        size = min(remaining, max(1, int(rng.expovariate(1 / 60))))
        remaining -= size
        session = _uuid(rng)
        oauth = dev["kind"] == "oauth" or dev["kind"] == "mixed" and rng.random() < 0.5
        context = rng.randint(12000, 30000)
        for _ in range(size):
            out.append(_one_request(rng, dev, session, oauth, t, context))
            context = min(context + rng.randint(200, 4000), 180000)
            if rng.random() < 0.04:
                context = rng.randint(12000, 30000)  # /compact or a fresh task
            t += rng.expovariate(1 / mean_gap)
        t += rng.uniform(60, 900)  # between sessions
    return out


def _one_request(
    rng: random.Random, dev: dict[str, Any], session: str, oauth: bool, t0: float, context: int
) -> Request:
    u = rng.random()
    route = "/v1/messages"
    if u < 0.015:
        route = "/anthropic/v1/messages"
    elif u < 0.025:
        route = "/chat/completions"
    p = rng.random()
    model_requested = HAIKU if p < 0.18 else (OPUS if p < 0.26 else SONNET)
    if route != "/v1/messages":
        model_requested = SONNET
    served = model_requested
    outcome = "success"
    fallback = retries = 0
    f = rng.random()
    if model_requested == OPUS and f < 0.25:
        served, fallback = SONNET, 1  # opus overloaded (529 twice), served by sonnet
    elif route == "/v1/messages" and f < 0.012:
        outcome = "429"
    elif route == "/v1/messages" and f < 0.017:
        outcome = "529"
    elif route == "/v1/messages" and f < 0.027:
        retries = 1  # a 500 once, then 200
    if served == HAIKU:
        inp, cw, cr, outp = rng.randint(80, 600), 0, 0, rng.randint(8, 60)
    else:
        inp = rng.randint(1, 400)
        first = rng.random() < 0.03
        cw = (
            rng.randint(8000, 30000)
            if first
            else (rng.choice((0, 0, 0, 512, 1024, 1536)) + rng.randint(0, 2500))
        )
        cr = 0 if first else context
        outp = max(1, int(rng.lognormvariate(5.3, 1.0)))
    dur = (0.6 + outp / 60.0) * rng.uniform(0.7, 1.4) if outcome == "success" else rng.uniform(0.3, 3.0)
    if fallback:
        dur += rng.uniform(1.5, 4.0)
    call_id = _uuid(rng)
    upstream = "req_011C" + _b62(rng, 20)
    if outcome != "success":
        rid = call_id
    elif route == "/chat/completions":
        rid = "chatcmpl-" + _uuid(rng)
    else:
        rid = "msg_01" + _b62(rng, 22)
    pin, pout, pcw, pcr = PRICES[served]
    c_cr, c_cw, c_out = cr * pcr, cw * pcw, outp * pout
    c_in = inp * pin + c_cr + c_cw
    ok = outcome == "success"
    return {
        "seq": 0,
        "developer": dev["name"],
        "key_hash": dev["key_hash"],
        "key_alias": dev["key_alias"],
        "user_id": dev["user_id"],
        "end_user": f"user_{dev['cc_user']}_account_{dev['account'] if oauth else ''}_session_{session}",
        "ip": dev["ip"],
        "project": dev["project"],
        "session_id": session if route != "/chat/completions" else _uuid(rng),
        "call_id": call_id,
        "request_id": rid,
        "upstream_request_id": upstream,
        "route": route,
        "oauth": oauth,
        "model_requested": model_requested,
        "model": served,
        "outcome": outcome,
        "fallback": fallback,
        "retries": retries,
        "start": round(t0, 6),
        "end": round(t0 + dur, 6),
        "input_tokens": inp if ok else 0,
        "cache_creation_tokens": cw if ok else 0,
        "cache_read_tokens": cr if ok else 0,
        "output_tokens": outp if ok else 0,
        "cost": (c_in, c_cr, c_cw, c_out, c_in + c_out) if ok else (0.0, 0.0, 0.0, 0.0, 0.0),
        "overhead_ms": round(rng.uniform(5, 120), 4),
    }


# ---------------------------------------------------------------- shapes


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _values(req: Request) -> dict[str, Any]:
    model = req["model"]
    mmi_once, mmi_esc = _templates()["mmi_text"][model]
    cost = req["cost"]
    inp, cw, cr, out = (
        req["input_tokens"],
        req["cache_creation_tokens"],
        req["cache_read_tokens"],
        req["output_tokens"],
    )
    pt = inp + cw + cr  # LiteLLM's prompt_tokens include the cache tokens
    mid_oauth, mid_key = _model_ids(model)
    dur = req["end"] - req["start"]
    return {
        "s_rid": req["request_id"],
        "s_cid": req["call_id"],
        "s_sess": req["session_id"],
        "s_eu": req["end_user"],
        "s_key": req["key_hash"],
        "s_user": req["user_id"],
        "s_alias": req["key_alias"],
        "s_ip": req["ip"],
        "s_model": model,
        "s_orig": req["model_requested"],
        "s_mid": mid_oauth if req["oauth"] else mid_key,
        "s_upreq": req["upstream_request_id"],
        "s_t0": _iso(req["start"]),
        "s_t1": _iso(req["end"]),
        "r_t0": repr(req["start"]),
        "r_t1": repr(req["end"]),
        "r_created": int(req["end"]),
        "r_rtime": repr(round(dur, 9)),
        "r_dur": int(dur * 1000),
        "r_ovh": repr(req["overhead_ms"]),
        "r_oauth": "true" if req["oauth"] else "false",
        "r_fb": req["fallback"],
        "r_rt": req["retries"],
        "r_pt": pt,
        "r_ct": out,
        "r_tt": pt + out,
        "r_in": inp,
        "r_cr": cr,
        "r_cw": cw,
        "r_c_in": repr(cost[0]),
        "r_c_cr": repr(cost[1]),
        "r_c_cw": repr(cost[2]),
        "r_c_out": repr(cost[3]),
        "r_spend": repr(cost[4]),
        "j_mmi": mmi_once,
        "j_mmi_esc": mmi_esc,
    }


def _spend_kind(req: Request) -> str:
    if req["outcome"] == "429":
        return "fail_429_oauth" if req["oauth"] else "fail_429_key"
    if req["outcome"] == "529":
        return "fail_529"
    return {"/anthropic/v1/messages": "ok_pass", "/chat/completions": "ok_chat"}.get(req["route"], "ok")


def spend_row_text(req: Request, values: dict[str, Any] | None = None) -> str:
    """The LiteLLM_SpendLogs row of ``req`` as one JSON line (no newline), as LiteLLM 1.110.2 writes it."""
    return str(_templates()["spend"][_spend_kind(req)].format_map(values or _values(req)))


def spend_row(req: Request) -> dict[str, Any]:
    """The LiteLLM_SpendLogs row of ``req`` (JSON columns are JSON strings, as LiteLLM hands them to the DB)."""
    row: dict[str, Any] = json.loads(spend_row_text(req))
    return row


def callback_texts(req: Request, values: dict[str, Any] | None = None) -> list[str]:
    """The StandardLoggingPayload events of ``req`` in order (failed hops first), one JSON text each."""
    t = _templates()["callback"]
    v = values or _values(req)
    if req["outcome"] == "429":
        return [t["fail_429_oauth" if req["oauth"] else "fail_429_key"].format_map(v)]
    if req["outcome"] == "529":
        return [t["fail_529"].format_map(v)]
    if req["route"] == "/anthropic/v1/messages":
        return [t["ok_pass"].format_map(v)]
    ok = t["ok_chat" if req["route"] == "/chat/completions" else ("ok_oauth" if req["oauth"] else "ok_key")]
    events = []
    if req["fallback"]:
        hop_end = req["start"] + 2.0
        hop = dict(
            v,
            s_model=req["model_requested"],
            s_mid=_model_ids(req["model_requested"])[0 if req["oauth"] else 1],
            j_mmi=_templates()["mmi_text"][req["model_requested"]][0],
            r_t1=repr(round(hop_end, 6)),
        )
        events.append(t["fail_fallback_hop"].format_map(hop))
    if req["retries"]:
        events.append(t["fail_retry_hop"].format_map(dict(v, r_t1=repr(round(req["start"] + 0.3, 6)))))
    events.append(ok.format_map(v))
    return events


def callback_events(req: Request) -> list[dict[str, Any]]:
    """The logging-callback payloads of ``req`` (a failed hop shares ``litellm_call_id`` with the success)."""
    return [json.loads(x) for x in callback_texts(req)]


def _local(t: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, tz).replace(tzinfo=None).isoformat()


def proxy_lines(req: Request, tz: str = "UTC") -> list[dict[str, Any]]:
    """Proxy JSON log lines (``json_logs: true``) for ``req``: INFO lines go to stdout, WARNING/ERROR to stderr
    (see write_proxy_logs). Timestamps are naive local times in ``tz``, as the proxy writes them."""
    z = ZoneInfo(tz)
    t0, t1 = req["start"], req["end"]
    group = req["model_requested"]
    path = "/v1/messages" if req["route"] != "/chat/completions" else "/chat/completions"
    port = 40000 + req["seq"] % 20000
    lines: list[dict[str, Any]] = [
        {
            "message": "SESSION REUSE: Attached shared aiohttp session to request (ID: 139678059318288)",
            "level": "INFO",
            "timestamp": _local(t0 + 0.001, z),
            "component": "LiteLLM Proxy",
            "logger": "route_llm_request.py:561",
        }
    ]
    if req["outcome"] != "success":
        err = (
            (
                'litellm.RateLimitError: AnthropicException - {"type": "error", "error": {"type": '
                '"rate_limit_error", "message": "This request would exceed your account\'s rate limit. Please try '
                'again later."}}'
            )
            if req["outcome"] == "429"
            else (
                'litellm.InternalServerError: AnthropicError - {"type": "error", "error": {"type": '
                '"overloaded_error", "message": "Overloaded"}}'
            )
        )
        lines.append(
            {
                "message": f"litellm.proxy.proxy_server._handle_llm_api_exception(): Exception occured - "
                f"litellm_call_id={req['call_id']} - {err} LiteLLM Retried: 1 times, LiteLLM Max Retries: 1",
                "level": "ERROR",
                "timestamp": _local(t1, z),
                "litellm_call_id": req["call_id"],
                "component": "LiteLLM Proxy",
                "logger": "common_request_processing.py:2164",
            }
        )
        status = int(req["outcome"])
    else:
        if req["fallback"]:
            lines.append(
                {
                    "message": f"Falling back to model_group = {req['model']}",
                    "level": "INFO",
                    "timestamp": _local(t0 + 2.0, z),
                    "component": "LiteLLM Router",
                    "logger": "core.py:4667",
                }
            )
        lines.append(
            {
                "message": f"ageneric_api_call_with_fallbacks(model=anthropic/{req['model']}) 200 OK",
                "level": "INFO",
                "timestamp": _local(t1, z),
                "component": "LiteLLM Router",
                "logger": "core.py:4413",
            }
        )
        if req["fallback"]:
            lines.append(
                {
                    "message": "Successful fallback b/w models.",
                    "level": "INFO",
                    "timestamp": _local(t1 + 0.0003, z),
                    "component": "LiteLLM Router",
                    "logger": "core.py:5114",
                }
            )
        status = 200
    del group
    lines.append(
        {
            "message": f'{req["ip"]}:{port} - "POST {path} HTTP/1.1" {status}',
            "level": "INFO",
            "timestamp": _local(t1 + 0.004, z),
            "component": "uvicorn.access",
            "logger": "h11_impl.py:477",
        }
    )
    return lines


def _iso_z(t: float) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def transcript_entry(req: Request) -> dict[str, Any] | None:
    """The Claude Code transcript line (``type: assistant``) for ``req``, or None when Claude Code writes no
    usage for it (failed requests, /chat/completions traffic, which is not Claude Code). message.id is the
    Anthropic message id (= the spend row's request_id), requestId the upstream ``request-id``."""
    if req["outcome"] != "success" or req["route"] == "/chat/completions":
        return None
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": f"/home/{req['developer']}/src/{req['project']}",
        "sessionId": req["session_id"],
        "version": CLAUDE_CODE_VERSION,
        "gitBranch": "main",
        "message": {
            "model": req["model"],
            "id": req["request_id"],
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": req["input_tokens"],
                "cache_creation_input_tokens": req["cache_creation_tokens"],
                "cache_read_input_tokens": req["cache_read_tokens"],
                "cache_creation": {
                    "ephemeral_5m_input_tokens": req["cache_creation_tokens"],
                    "ephemeral_1h_input_tokens": 0,
                },
                "output_tokens": req["output_tokens"],
                "service_tier": "standard",
            },
        },
        "requestId": req["upstream_request_id"],
        "type": "assistant",
        "uuid": req["call_id"],
        "timestamp": _iso_z(req["end"]),
    }


# ---------------------------------------------------------------- writers

_FLUSH = 2000


def write_spend_jsonl(path: str | Path, n: int, seed: int = 1, **kw: Any) -> int:
    """Write the spend-log rows of ``generate_requests(n, seed, **kw)`` as JSONL; returns the row count."""
    buf: list[str] = []
    count = 0
    with open(path, "w", encoding="utf-8") as f:
        for req in generate_requests(n, seed, **kw):
            buf.append(spend_row_text(req))
            count += 1
            if len(buf) >= _FLUSH:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")
    return count


def write_callbacks_jsonl(path: str | Path, n: int, seed: int = 1, **kw: Any) -> int:
    """Write the logging-callback payloads of the same traffic as JSONL; returns the event count."""
    buf: list[str] = []
    count = 0
    with open(path, "w", encoding="utf-8") as f:
        for req in generate_requests(n, seed, **kw):
            evs = callback_texts(req)
            buf.extend(evs)
            count += len(evs)
            if len(buf) >= _FLUSH:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")
    return count


def write_proxy_logs(
    out_dir: str | Path, n: int, seed: int = 1, tz: str = "UTC", **kw: Any
) -> tuple[Path, Path]:
    """Write proxy_stdout.log (INFO) and proxy_stderr.log (WARNING/ERROR) for the same traffic."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    out_p, err_p = d / "proxy_stdout.log", d / "proxy_stderr.log"
    with out_p.open("w", encoding="utf-8") as out, err_p.open("w", encoding="utf-8") as err:
        for req in generate_requests(n, seed, **kw):
            for line in proxy_lines(req, tz):
                (out if line["level"] == "INFO" else err).write(json.dumps(line) + "\n")
    return out_p, err_p


def write_transcripts(config_dir: str | Path, n: int, seed: int = 1, **kw: Any) -> int:
    """Write Claude Code transcripts (``projects/<project>/<session>.jsonl``) for the same traffic; returns the
    number of assistant lines. Lines are compact JSON with ``"usage":{`` as Claude Code writes them."""
    root = Path(config_dir) / "projects"
    root.mkdir(parents=True, exist_ok=True)
    files: dict[tuple[str, str], list[str]] = {}
    parents: dict[tuple[str, str], str | None] = {}
    count = 0
    for req in generate_requests(n, seed, **kw):
        e = transcript_entry(req)
        if e is None:
            continue
        project = "-home-" + req["developer"] + "-src-" + req["project"]
        key = (project, req["session_id"])
        e["parentUuid"] = parents.get(key)
        parents[key] = e["uuid"]
        files.setdefault(key, []).append(json.dumps(e, separators=(",", ":")))
        count += 1
    for (project, session), lines in files.items():
        p = root / project / f"{session}.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return count


# ---------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analyzer.synth", description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["spend", "callbacks", "proxy", "transcripts", "build-templates"])
    ap.add_argument(
        "out", help="output file (spend, callbacks), folder (proxy, transcripts) or sample_logs dir"
    )
    ap.add_argument("-n", type=int, default=10000, help="requests (default 10000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=int, default=DEFAULT_DAYS)
    ap.add_argument("--developers", type=int, default=DEFAULT_DEVELOPERS)
    ap.add_argument("--start", default=DEFAULT_START.date().isoformat(), help="first day, UTC (YYYY-MM-DD)")
    ap.add_argument("--tz", default="UTC", help="zone of proxy log timestamps (proxy)")
    a = ap.parse_args(argv)
    if a.what == "build-templates":
        DATA_FILE.parent.mkdir(exist_ok=True)
        DATA_FILE.write_text(json.dumps(build_templates(a.out), indent=0) + "\n", encoding="utf-8")
        print(f"wrote {DATA_FILE}")
        return 0
    kw: dict[str, Any] = {
        "days": a.days,
        "developers": a.developers,
        "start": datetime.fromisoformat(a.start).replace(tzinfo=UTC),
    }
    if a.what == "spend":
        print(f"{write_spend_jsonl(a.out, a.n, a.seed, **kw)} spend rows -> {a.out}")
    elif a.what == "callbacks":
        print(f"{write_callbacks_jsonl(a.out, a.n, a.seed, **kw)} callback events -> {a.out}")
    elif a.what == "proxy":
        out, err = write_proxy_logs(a.out, a.n, a.seed, a.tz, **kw)
        print(f"proxy logs -> {out}, {err}")
    else:
        print(f"{write_transcripts(a.out, a.n, a.seed, **kw)} transcript lines -> {a.out}/projects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
