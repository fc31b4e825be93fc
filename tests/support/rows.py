"""Builders for LiteLLM log records as LiteLLM writes them, for tests that ingest small JSONL files.

* :func:`spend_row`: a ``LiteLLM_SpendLogs`` row (litellm-logs.md section 1): ``metadata`` is a JSON *string*.
* :func:`callback_event`: a ``StandardLoggingPayload`` (section 2): epoch-float times, one event per hop.
* :func:`proxy_line`: a proxy JSON log line (section 3): local-time ``timestamp`` without offset.
* :func:`write_jsonl`, :func:`load`: write records and ingest them into a real DuckDB file.

Keyword arguments with a builder-specific meaning are documented on each builder; any other keyword replaces
(or adds) the top-level key of the same name.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"
HAIKU = "claude-haiku-4-5-20251001"
T0 = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)

_NS = uuid.UUID("0b7c1e4a-3d2f-4f6e-9a1b-5c8d7e6f4a3b")


def at(seconds: float) -> datetime:
    """T0 + seconds (UTC)."""
    return T0 + timedelta(seconds=seconds)


def _dt(value: datetime | str | float) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return at(value)
    return datetime.fromisoformat(value)


def call_id(name: str) -> str:
    """A stable UUID for a readable name (litellm_call_id values)."""
    return str(uuid.uuid5(_NS, name))


def spend_row(
    *,
    request_id: str | None = None,
    start: datetime | str | float = 0,
    duration_s: float = 1.0,
    model_group: str = SONNET,
    status: str = "success",
    session_id: str = "sess-1",
    litellm_call_id: str | None = None,
    input_tokens: int = 100,
    output_tokens: int = 50,
    cache_creation: int = 0,
    cache_read: int = 0,
    spend: float | None = None,
    used_client_oauth_token: bool | None = True,
    attempted_fallbacks: int | None = 0,
    attempted_retries: int | None = 0,
    original_model_group: str | None = None,
    error_code: str | None = None,
    error_class: str | None = None,
    error_message: str | None = None,
    key_hash: str = "hash-team-key",
    key_alias: str | None = "team-key",
    user: str = "user-1",
    call_type: str = "anthropic_messages",
    provider: str = "anthropic",
    metadata: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A spend-log row. ``start`` is a datetime, ISO string or seconds after T0. Failure rows (``status='failure'``)
    get ``request_id`` = call id, spend 0 and ``metadata.error_information``; ``metadata`` merges extra keys."""
    begin = _dt(start)
    end = begin + timedelta(seconds=duration_s)
    cid = litellm_call_id or call_id(f"spend:{request_id}:{begin.isoformat()}")
    failed = status != "success"
    rid = request_id or (cid if failed else f"msg_{uuid.uuid5(_NS, cid).hex[:20]}")
    prompt = input_tokens + cache_creation + cache_read
    meta: dict[str, Any] = {
        "user_api_key": key_hash,
        "user_api_key_alias": key_alias,
        "user_api_key_user_id": user,
        "user_api_key_team_id": None,
        "user_api_key_org_id": None,
        "requester_ip_address": "127.0.0.1",
        "user_agent": "claude-cli/2.0.14 (external, cli)",
        "litellm_call_id": cid,
        "status": status,
        "error_information": (
            {
                "error_code": error_code,
                "error_class": error_class,
                "llm_provider": provider,
                "error_message": error_message,
                "traceback": "",
            }
            if failed or error_code or error_class
            else None
        ),
        "additional_usage_values": None
        if failed
        else {
            "cache_creation_input_tokens": cache_creation,
            "cache_read_input_tokens": cache_read,
            "prompt_tokens_details": {
                "text_tokens": input_tokens,
                "cached_tokens": cache_read,
                "cache_write_tokens": cache_creation,
            },
            "service_tier": "standard",
        },
        "attempted_retries": attempted_retries,
        "max_retries": 1,
        "attempted_fallbacks": attempted_fallbacks,
        "original_model_group": original_model_group,
        "used_client_oauth_token": used_client_oauth_token,
    }
    if used_client_oauth_token is None:
        del meta["used_client_oauth_token"]
    meta.update(metadata or {})
    row: dict[str, Any] = {
        "request_id": rid,
        "call_type": call_type,
        "api_key": key_hash,
        "spend": (0.0 if failed else round(input_tokens * 3e-6 + output_tokens * 1.5e-5, 6))
        if spend is None
        else spend,
        "total_tokens": 0 if failed else prompt + output_tokens,
        "prompt_tokens": 14 if failed else prompt,
        "completion_tokens": 0 if failed else output_tokens,
        "startTime": begin.isoformat(),
        "endTime": end.isoformat(),
        "completionStartTime": end.isoformat(),
        "request_duration_ms": duration_s * 1000,
        "model": f"{provider}/{model_group}",
        "model_id": uuid.uuid5(_NS, model_group).hex,
        "model_group": model_group,
        "custom_llm_provider": provider,
        "api_base": "https://api.anthropic.com/v1/messages",
        "user": user,
        "metadata": json.dumps(meta),
        "cache_hit": "None",
        "cache_key": "Cache OFF",
        "request_tags": json.dumps(["User-Agent: claude-cli"]),
        "team_id": "",
        "organization_id": "",
        "end_user": "",
        "requester_ip_address": "127.0.0.1",
        "messages": "{}",
        "response": "{}",
        "proxy_server_request": "{}",
        "session_id": session_id,
        "status": status,
        "litellm_call_id": cid,
    }
    row.update(overrides)
    return row


def callback_event(
    *,
    litellm_call_id: str | None = None,
    id: str | None = None,  # noqa: A002 - the payload's key
    start: datetime | str | float = 0,
    duration_s: float = 1.0,
    model_group: str = SONNET,
    status: str = "success",
    trace_id: str = "sess-1",
    input_tokens: int = 100,
    output_tokens: int = 50,
    cache_creation: int = 0,
    cache_read: int = 0,
    response_cost: float | None = None,
    used_client_oauth_token: bool | None = True,
    error_code: str | None = None,
    error_class: str | None = None,
    error_message: str | None = None,
    additional_headers: dict[str, Any] | None = None,
    key_hash: str = "hash-team-key",
    key_alias: str | None = "team-key",
    user: str = "user-1",
    provider: str = "anthropic",
    metadata: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """One logging-callback payload (one hop). A failure hop's ``id`` is the call id; a success's is the message
    id. ``additional_headers`` go to ``hidden_params.additional_headers`` as given (use the ``llm_provider-...``
    names for success events)."""
    begin = _dt(start)
    end = begin + timedelta(seconds=duration_s)
    cid = litellm_call_id or call_id(f"cb:{begin.isoformat()}:{model_group}")
    failed = status != "success"
    eid = id or (cid if failed else f"msg_{uuid.uuid5(_NS, cid).hex[:20]}")
    meta: dict[str, Any] = {
        "user_api_key_hash": key_hash,
        "user_api_key_alias": key_alias,
        "user_api_key_user_id": user,
        "user_api_key_request_route": "/v1/messages",
        "user_agent": "claude-cli/2.0.14 (external, cli)",
        "used_client_oauth_token": used_client_oauth_token,
        "requester_ip_address": "127.0.0.1",
        "usage_object": None
        if failed
        else {
            "cache_creation_input_tokens": cache_creation,
            "cache_read_input_tokens": cache_read,
            "prompt_tokens_details": {"text_tokens": input_tokens, "cached_tokens": cache_read},
        },
    }
    meta.update(metadata or {})
    prompt = input_tokens + cache_creation + cache_read
    ev: dict[str, Any] = {
        "id": eid,
        "trace_id": trace_id,
        "session_id": "",
        "litellm_call_id": cid,
        "call_type": "anthropic_messages",
        "stream": False,
        "status": status,
        "response_cost": (0.0 if failed else round(input_tokens * 3e-6 + output_tokens * 1.5e-5, 6))
        if response_cost is None
        else response_cost,
        "custom_llm_provider": provider,
        "prompt_tokens": 0 if failed else prompt,
        "completion_tokens": 0 if failed else output_tokens,
        "total_tokens": 0 if failed else prompt + output_tokens,
        "startTime": begin.timestamp(),
        "endTime": end.timestamp(),
        "completionStartTime": end.timestamp(),
        "model": f"{provider}/{model_group}",
        "model_id": uuid.uuid5(_NS, model_group).hex,
        "model_group": model_group,
        "api_base": "https://api.anthropic.com/v1/messages",
        "metadata": meta,
        "end_user": "",
        "requester_ip_address": "127.0.0.1",
        "request_tags": ["User-Agent: claude-cli"],
        "error_str": error_message,
        "error_information": {
            "error_code": error_code,
            "error_class": error_class,
            "llm_provider": provider,
            "error_message": error_message,
        }
        if failed
        else None,
        "hidden_params": {"model_id": None, "api_base": None, "additional_headers": additional_headers or {}},
    }
    ev.update(overrides)
    return ev


def proxy_line(
    *,
    message: str = "Falling back to model_group = " + SONNET,
    at_time: datetime | str | float = 0,
    level: str = "INFO",
    component: str = "LiteLLM Router",
    logger: str = "core.py:4667",
    **overrides: Any,
) -> dict[str, Any]:
    """A proxy JSON log line; ``timestamp`` is written without an offset (ingest it with log_tz='UTC')."""
    when = _dt(at_time).astimezone(UTC).replace(tzinfo=None)
    line: dict[str, Any] = {
        "message": message,
        "level": level,
        "timestamp": when.isoformat(),
        "component": component,
        "logger": logger,
    }
    line.update(overrides)
    return line


def write_jsonl(path: Path | str, rows: Iterable[dict[str, Any]]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return p


def load(
    tmp_path: Path,
    *,
    spend: Iterable[dict[str, Any]] = (),
    callbacks: Iterable[dict[str, Any]] = (),
    proxy: Iterable[dict[str, Any]] = (),
    db_name: str = "store.duckdb",
) -> duckdb.DuckDBPyConnection:
    """Write the records as JSONL files in ``tmp_path`` and ingest them (spend, callbacks, proxy) into a real
    DuckDB file there; returns the open connection."""
    from analyzer import db, ingest

    con = db.connect(tmp_path / db_name)
    for kind, rows in (("spend", list(spend)), ("callback", list(callbacks)), ("proxy", list(proxy))):
        if not rows:
            continue
        path = write_jsonl(tmp_path / f"{kind}.jsonl", rows)
        summary = ingest.ingest_file(con, path, ingest.IngestOptions(kind=kind, log_tz="UTC"))
        assert not summary.error and summary.quarantined == 0, summary.as_dict()
    ingest.after_ingest(con)
    return con
