"""A fake Anthropic Messages API upstream for fixture capture (stdlib only, 127.0.0.1 only).

Serves POST /v1/messages (JSON and SSE streaming) and POST /v1/messages/count_tokens.
Never talks to the network. Deterministic: every reply is chosen by

  * the model name: any model containing "opus" answers 529 overloaded_error;
  * a request header ``x-fake-scenario: <name>`` (reaches us on /anthropic pass-through only,
    LiteLLM's router does not forward client headers), or
  * a marker ``[[fake:<name>]]`` anywhere in the message text (works on every route, since
    LiteLLM forwards the body).

Scenarios: ``ok`` (default), ``overloaded`` (529), ``rate_limit`` (429 rate_limit_error; the
subscription flavour with unified headers ``status: rejected`` for OAuth callers, the
organisation flavour with ``anthropic-ratelimit-*`` headers for API-key callers),
``fail_once`` (500 api_error the first time a given body is seen, success on the retry).

Credential kind is read from the request: ``Authorization: Bearer sk-ant-oat01-...`` is OAuth
(subscription headers ``anthropic-ratelimit-unified-*`` are returned), ``x-api-key`` is an API key
(``anthropic-ratelimit-requests/tokens/input-tokens/output-tokens-*`` are returned). If both are
present the API key wins (as Anthropic does, see billing-and-fallbacks.md PR #37418).

Each request received is appended (credentials reduced to a prefix) to the JSONL file named by
``--log``, so what LiteLLM actually forwarded upstream can be checked.

Usage: python fake_anthropic.py --port 0 --port-file /tmp/port --log upstream_requests.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = re.compile(r"\[\[fake:([a-z_]+)\]\]")

# A fixed clock for the rate-limit reset headers, so fixtures do not depend on when they were made.
BASE_EPOCH = 1795772400  # 2026-11-27T09:00:00Z
FIVE_H_RESET = BASE_EPOCH + 5 * 3600
SEVEN_D_RESET = BASE_EPOCH + 4 * 86400

_lock = threading.Lock()
_state = {"msg": 0, "req": 0, "seen_fail_once": set()}
_log_path: str | None = None


def _next(kind: str) -> int:
    with _lock:
        _state[kind] += 1
        return _state[kind]


def _request_id(n: int) -> str:
    return "req_fake_" + hashlib.sha256(f"req-{n}".encode()).hexdigest()[:20]


def _texts(body: dict) -> str:
    parts: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, str):
            parts.append(v)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                if k in ("text", "content", "system", "messages"):
                    walk(x)

    walk(body.get("system"))
    walk(body.get("messages"))
    return "\n".join(parts)


def _credential(headers) -> tuple[str, str | None, str | None]:
    auth = headers.get("authorization") or ""
    xkey = headers.get("x-api-key") or ""
    bearer = auth[7:] if auth.lower().startswith("bearer ") else ""
    if xkey:
        kind = "api_key"
    elif bearer.startswith("sk-ant-oat"):
        kind = "oauth"
    elif bearer:
        kind = "bearer_other"
    else:
        kind = "none"
    return kind, (bearer[:14] + "...") if bearer else None, (xkey[:14] + "...") if xkey else None


def _usage(n: int, model: str) -> dict:
    if "haiku" in model:
        # background calls (titles, quota probe): small, no cache
        inp, cw, cr, out = 180 + 11 * (n % 5), 0, 0, 12 + (n % 4)
    else:
        inp = 32 + 4 * (n - 1)
        cw = 1536 if n % 3 == 1 else 512 * (n % 3)
        cr = 20480 + 1024 * (n - 1)
        out = 27 + 3 * (n - 1)
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
        "cache_creation": {"ephemeral_5m_input_tokens": cw, "ephemeral_1h_input_tokens": 0},
        "output_tokens": out,
        "service_tier": "standard",
    }


def _ratelimit_headers(kind: str, n: int, rejected: bool = False) -> dict[str, str]:
    if kind == "oauth":
        util5 = 1.02 if rejected else round(0.37 + 0.01 * (n % 10), 2)
        status = "rejected" if rejected else "allowed"
        return {
            "anthropic-ratelimit-unified-status": status,
            "anthropic-ratelimit-unified-reset": str(FIVE_H_RESET),
            "anthropic-ratelimit-unified-5h-status": status,
            "anthropic-ratelimit-unified-5h-utilization": str(util5),
            "anthropic-ratelimit-unified-5h-reset": str(FIVE_H_RESET),
            "anthropic-ratelimit-unified-7d-status": "allowed",
            "anthropic-ratelimit-unified-7d-utilization": "0.12",
            "anthropic-ratelimit-unified-7d-reset": str(SEVEN_D_RESET),
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
            "anthropic-ratelimit-unified-fallback-percentage": "0.5",
            "anthropic-ratelimit-unified-overage-status": "rejected",
            "anthropic-ratelimit-unified-overage-disabled-reason": "org_level_disabled",
        }
    if kind == "api_key":
        reset = (datetime.fromtimestamp(BASE_EPOCH, UTC) + timedelta(seconds=60)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        return {
            "anthropic-ratelimit-requests-limit": "4000",
            "anthropic-ratelimit-requests-remaining": "0" if rejected else str(4000 - n),
            "anthropic-ratelimit-requests-reset": reset,
            "anthropic-ratelimit-tokens-limit": "2400000",
            "anthropic-ratelimit-tokens-remaining": "0" if rejected else str(2400000 - 1000 * n),
            "anthropic-ratelimit-tokens-reset": reset,
            "anthropic-ratelimit-input-tokens-limit": "2000000",
            "anthropic-ratelimit-input-tokens-remaining": "0" if rejected else str(2000000 - 1000 * n),
            "anthropic-ratelimit-input-tokens-reset": reset,
            "anthropic-ratelimit-output-tokens-limit": "400000",
            "anthropic-ratelimit-output-tokens-remaining": str(400000 - 30 * n),
            "anthropic-ratelimit-output-tokens-reset": reset,
        }
    return {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-anthropic/1"

    def log_message(self, fmt: str, *args: object) -> None:  # quiet; we log JSONL instead
        pass

    # --- helpers -------------------------------------------------------------------------
    def _send_json(self, status: int, obj: dict, headers: dict[str, str]) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _record(self, entry: dict) -> None:
        if _log_path:
            with _lock, open(_log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")

    # --- routes --------------------------------------------------------------------------
    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("", "/health"):
            self._send_json(200, {"ok": True}, {})
        else:
            self._send_json(
                404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}}, {}
            )

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?")[0]
        rn = _next("req")
        rid = _request_id(rn)
        kind, bearer_prefix, xkey_prefix = _credential(self.headers)
        model = str(body.get("model", ""))
        text = _texts(body)
        m = MARKER.search(text)
        scenario = self.headers.get("x-fake-scenario") or (m.group(1) if m else None)
        if scenario is None:
            scenario = "overloaded" if "opus" in model else "ok"
        entry = {
            "n": rn,
            "ts": datetime.now(UTC).isoformat(),
            "path": path,
            "model": model,
            "stream": bool(body.get("stream")),
            "credential_kind": kind,
            "authorization_prefix": bearer_prefix,
            "x_api_key_prefix": xkey_prefix,
            "anthropic_beta": self.headers.get("anthropic-beta"),
            "anthropic_version": self.headers.get("anthropic-version"),
            "user_agent": self.headers.get("user-agent"),
            "x_claude_code_session_id": self.headers.get("x-claude-code-session-id"),
            "anthropic_dangerous_direct_browser_access": self.headers.get(
                "anthropic-dangerous-direct-browser-access"
            ),
            "scenario": scenario,
            "request_id": rid,
        }

        if path.endswith("/v1/messages/count_tokens"):
            entry["status"] = 200
            self._record(entry)
            self._send_json(200, {"input_tokens": 2048 + len(text) // 4}, {"request-id": rid})
            return
        if not path.endswith("/v1/messages"):
            entry["status"] = 404
            self._record(entry)
            self._send_json(
                404,
                {
                    "type": "error",
                    "error": {"type": "not_found_error", "message": "Not found"},
                    "request_id": rid,
                },
                {"request-id": rid},
            )
            return

        if scenario == "fail_once":
            key = hashlib.sha256(raw).hexdigest()
            with _lock:
                first = key not in _state["seen_fail_once"]
                _state["seen_fail_once"].add(key)
            if first:
                entry["status"] = 500
                self._record(entry)
                self._send_json(
                    500,
                    {
                        "type": "error",
                        "error": {"type": "api_error", "message": "Internal server error"},
                        "request_id": rid,
                    },
                    {"request-id": rid, "x-should-retry": "true"},
                )
                return
        if scenario == "overloaded":
            entry["status"] = 529
            self._record(entry)
            self._send_json(
                529,
                {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                    "request_id": rid,
                },
                {"request-id": rid, "x-should-retry": "true"},
            )
            return
        if scenario == "rate_limit":
            entry["status"] = 429
            self._record(entry)
            if kind == "oauth":
                msg = "This request would exceed your account's rate limit. Please try again later."
            else:
                msg = (
                    "This request would exceed your organization's rate limit of 2,000,000 input tokens per "
                    "minute (org: 00000000-fake-org, model: " + model + "). For details, refer to: "
                    "https://docs.claude.com/en/api/rate-limits."
                )
            headers = {"request-id": rid, "retry-after": "2892", "x-should-retry": "false"}
            headers.update(_ratelimit_headers(kind, rn, rejected=True))
            self._send_json(
                429,
                {"type": "error", "error": {"type": "rate_limit_error", "message": msg}, "request_id": rid},
                headers,
            )
            return

        n = _next("msg")
        msg_id = f"msg_fake_{n:04d}"
        usage = _usage(n, model)
        reply = f"Fake reply {n} from {model or 'unknown'}."
        entry.update(status=200, message_id=msg_id, usage=usage)
        self._record(entry)
        headers = {"request-id": rid, "anthropic-organization-id": "00000000-0000-4000-8000-00000000fa4e"}
        headers.update(_ratelimit_headers(kind, n))

        if not body.get("stream"):
            self._send_json(
                200,
                {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": "text", "text": reply}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": usage,
                },
                headers,
            )
            return

        # SSE stream; Connection: close marks the end of the body.
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        start_usage = dict(usage, output_tokens=1)
        words = reply.split(" ")
        events = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": msg_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": start_usage,
                    },
                },
            ),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ),
            ("ping", {"type": "ping"}),
        ]
        for i, w in enumerate(words):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": (w if i == 0 else " " + w)},
                    },
                )
            )
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": usage["output_tokens"]},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        for ev, data in events:
            self.wfile.write(f"event: {ev}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0.005)
        self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    global _log_path
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--log", help="append one JSON line per request received")
    args = ap.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("loopback only")
    _log_path = args.log
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(str(port))
    print(f"fake anthropic listening on {args.host}:{port}", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
