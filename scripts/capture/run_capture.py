"""Regenerate the LiteLLM fixture logs in sample_logs/ (see sample_logs/README.md).

Starts fake_anthropic.py and a real LiteLLM proxy (``litellm --config litellm_config.yaml``) on
free 127.0.0.1 ports, waits for both (bounded), sends a fixed scripted sequence of Claude-Code-like
requests with urllib, records what each client got back in requests_sent.jsonl, stops both
servers, and runs derive_shapes.py.

Two proxy runs, appended to the same log files (as a restart would):
  phase A  STORE_PROMPTS_IN_SPEND_LOGS=True  (spend rows carry proxy_server_request / response)
  phase B  prompts not stored                (those columns are "{}")

Usage (LiteLLM lives in its own venv, outside the repo):
  python3 scripts/capture/run_capture.py --venv /work/litellm-venv [--out sample_logs]

Only fake credentials are used: sk-ant-oat01-FAKEOAUTH..., sk-ant-api03-FAKEAPIKEY..., and the
LiteLLM master key sk-<sha256 hex of "ccstats-capture-fake-master-key">.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# Fixed fake LiteLLM master key (1.110 refuses public defaults such as sk-1234).
LITELLM_KEY = "sk-" + hashlib.sha256(b"ccstats-capture-fake-master-key").hexdigest()
OAUTH_TOKEN = "sk-ant-oat01-FAKEOAUTH" + "x" * 60 + "-FAKEAA"
API_KEY = "sk-ant-api03-FAKEAPIKEY" + "y" * 60 + "-FAKEAA"
DEPLOYMENT_KEY = "sk-ant-api03-FAKEDEPLOYMENTKEY" + "z" * 50 + "-FAKEAA"

# One fixed x-claude-code-session-id per simulated Claude Code session.
SESSIONS = {
    "A": "5f0c6f2e-1a7b-4c3d-9e8f-0a1b2c3d4e5a",  # OAuth (subscription) client
    "B": "7d2e9a41-3b6c-4f5e-8a9b-1c2d3e4f5a6b",  # API-key client
    "C": "9a4b1c2d-5e6f-4a7b-8c9d-2e3f4a5b6c7d",  # pass-through client
    "D": "b1c2d3e4-f5a6-4b7c-9d8e-3f4a5b6c7d8e",  # cooldown victims
    "E": "c3d4e5f6-a7b8-4c9d-8e0f-4a5b6c7d8e9f",  # phase B OAuth client
    "F": "d5e6f7a8-b9c0-4d1e-9f2a-5b6c7d8e9f0a",  # phase B API-key client
}
ACCOUNT_UUID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
USER_HASH = "3f" * 32

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
OPUS_FB = "claude-opus-4-1-20250805"
OPUS_CD = "claude-opus-4-5-20251101"

OAUTH_BETA = "oauth-2025-04-20,claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"
APIKEY_BETA = "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"

OUT_FILES = (
    "spend_logs.jsonl",
    "callbacks.jsonl",
    "proxy_stdout.log",
    "proxy_stderr.log",
    "requests_sent.jsonl",
    "upstream_requests.jsonl",
    "spend_log_sink_errors.txt",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early ({proc.returncode}) while waiting for {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout_s}s")


def stop(proc: subprocess.Popen, name: str) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)  # the group of the process we started ourselves
        proc.wait(timeout=20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
    print(f"stopped {name} (rc={proc.returncode})", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


def cc_headers(cred: str, session: str | None, litellm_key: bool = True) -> dict[str, str]:
    h = {
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": "claude-cli/2.0.14 (external, cli)",
        "x-app": "cli",
        "anthropic-version": "2023-06-01",
        "x-stainless-lang": "js",
        "x-stainless-package-version": "0.60.0",
        "x-stainless-runtime": "node",
        "x-stainless-retry-count": "0",
        "x-stainless-timeout": "600",
    }
    if session:
        h["x-claude-code-session-id"] = session
    if litellm_key:
        h["x-litellm-api-key"] = LITELLM_KEY
    if cred == "oauth":
        h["authorization"] = f"Bearer {OAUTH_TOKEN}"
        h["anthropic-beta"] = OAUTH_BETA
        h["anthropic-dangerous-direct-browser-access"] = "true"
    elif cred == "api_key":
        h["x-api-key"] = API_KEY
        h["anthropic-beta"] = APIKEY_BETA
    else:
        h["anthropic-beta"] = APIKEY_BETA
    return h


def cc_body(
    model: str, text: str, session: str, cred: str, stream: bool = False, max_tokens: int = 32000
) -> dict:
    account = ACCOUNT_UUID if cred == "oauth" else ""
    return {
        "model": model,
        "max_tokens": max_tokens,
        "stream": stream,
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
            {
                "type": "text",
                "text": "You are an interactive CLI tool that helps users with software engineering tasks.",
                "cache_control": {"type": "ephemeral"},
            },
        ],
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}],
            }
        ],
        "metadata": {"user_id": f"user_{USER_HASH}_account_{account}_session_{session}"},
    }


def redact_headers(h: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in h.items():
        if k.lower() in ("authorization", "x-api-key", "x-litellm-api-key"):
            token = v.split(" ", 1)[-1]
            out[k] = (v.split(" ", 1)[0] + " " if " " in v else "") + token[:16] + "...(redacted)"
        else:
            out[k] = v
    return out


def response_id(body: bytes, content_type: str) -> str | None:
    text = body.decode("utf-8", "replace")
    if "event-stream" in content_type or text.startswith(("event:", "data:")):
        for line in text.splitlines():
            if line.startswith("data:"):
                payload = line[5:].strip()
                if payload in ("", "[DONE]"):
                    continue
                try:
                    obj = json.loads(payload)
                except ValueError:
                    continue
                if isinstance(obj.get("message"), dict) and obj["message"].get("id"):
                    return obj["message"]["id"]
                if obj.get("id"):
                    return obj["id"]
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj.get("id") if isinstance(obj, dict) else None


class Client:
    def __init__(self, base: str, log_path: Path, phase: str):
        self.base = base
        self.log_path = log_path
        self.phase = phase
        self.seq = 0

    def send(
        self,
        *,
        scenario: str,
        note: str,
        cred: str,
        route: str,
        model: str | None,
        body: dict,
        headers: dict[str, str],
        session: str | None,
    ) -> dict:
        self.seq += 1
        data = json.dumps(body).encode()
        req = urllib.request.Request(self.base + route, data=data, method="POST", headers=headers)
        sent_at = datetime.now(UTC)
        t0 = time.monotonic()
        status, resp_headers, raw = None, {}, b""
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, resp_headers, raw = r.status, dict(r.headers.items()), r.read()
        except urllib.error.HTTPError as e:
            status, resp_headers, raw = e.code, dict(e.headers.items()), e.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            raw = f"{type(e).__name__}: {e}".encode()
        elapsed_ms = round((time.monotonic() - t0) * 1000)
        lower = {k.lower(): v for k, v in resp_headers.items()}
        ctype = lower.get("content-type", "")
        err = None
        if status is None or status >= 400:
            try:
                err_obj = json.loads(raw)
            except ValueError:
                err_obj = raw.decode("utf-8", "replace")[:600]
            err = err_obj
        rec = {
            "phase": self.phase,
            "seq": self.seq,
            "scenario": scenario,
            "note": note,
            "credential_kind": cred,
            "route": route,
            "model_requested": model,
            "stream": bool(body.get("stream")),
            "session_id": session,
            "sent_at": sent_at.isoformat(),
            "elapsed_ms": elapsed_ms,
            "status": status,
            "response_id": response_id(raw, ctype) if status and status < 400 else None,
            "x_litellm_call_id": lower.get("x-litellm-call-id"),
            "x_litellm_model_group": lower.get("x-litellm-model-group"),
            "x_litellm_attempted_fallbacks": lower.get("x-litellm-attempted-fallbacks"),
            "x_litellm_attempted_retries": lower.get("x-litellm-attempted-retries"),
            "response_headers": {
                k: v
                for k, v in sorted(lower.items())
                if k.startswith(
                    ("x-litellm", "llm_provider", "anthropic-", "request-id", "retry-after", "content-type")
                )
            },
            "error": err,
            "request_headers": redact_headers(headers),
        }
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        print(
            f"[{self.phase}{self.seq:02d}] {scenario:<22} {cred:<8} {route:<32} {str(model):<28} -> {status} "
            f"{rec['response_id'] or ''} fb={rec['x_litellm_attempted_fallbacks']} "
            f"rt={rec['x_litellm_attempted_retries']} mg={rec['x_litellm_model_group']}",
            file=sys.stderr,
        )
        time.sleep(0.3)  # keep start times distinct and ordered
        return rec

    # convenience wrappers -------------------------------------------------------------------
    def messages(
        self,
        scenario: str,
        note: str,
        cred: str,
        model: str,
        text: str,
        session: str,
        stream: bool = False,
        route: str = "/v1/messages",
        litellm_key: bool = True,
        max_tokens: int = 32000,
    ) -> dict:
        return self.send(
            scenario=scenario,
            note=note,
            cred=cred,
            route=route,
            model=model,
            body=cc_body(model, text, session, cred, stream, max_tokens),
            headers=cc_headers(cred, session, litellm_key),
            session=session,
        )

    def count_tokens(
        self, scenario: str, cred: str, model: str, session: str, route: str = "/v1/messages/count_tokens"
    ) -> dict:
        body = {"model": model, "messages": [{"role": "user", "content": "count these tokens please"}]}
        return self.send(
            scenario=scenario,
            note="Claude Code token count",
            cred=cred,
            route=route,
            model=model,
            body=body,
            headers=cc_headers(cred, session),
            session=session,
        )

    def chat(self, scenario: str, note: str, model: str, text: str, stream: bool = False) -> dict:
        body = {
            "model": model,
            "max_tokens": 256,
            "stream": stream,
            "user": "ci-bot",
            "messages": [
                {"role": "system", "content": "You are a terse assistant."},
                {"role": "user", "content": text},
            ],
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {LITELLM_KEY}",
            "user-agent": "OpenAI/Python 1.99.0",
        }
        return self.send(
            scenario=scenario,
            note=note,
            cred="none",
            route="/chat/completions",
            model=model,
            body=body,
            headers=headers,
            session=None,
        )


def phase_a(c: Client) -> None:
    A, B, C, D = SESSIONS["A"], SESSIONS["B"], SESSIONS["C"], SESSIONS["D"]
    # Session A: subscription (OAuth) Claude Code client
    c.messages(
        "10_haiku_background",
        "quota probe at session start (max_tokens 1)",
        "oauth",
        HAIKU,
        "quota",
        A,
        max_tokens=1,
    )
    c.count_tokens("extra_count_tokens", "oauth", SONNET, A)
    for i in range(3):
        c.messages(
            "1_oauth_nonstream", f"turn {i + 1}", "oauth", SONNET, f"Explain step {i + 1} of the build.", A
        )
    for i in range(2):
        c.messages(
            "2_oauth_stream",
            f"streamed turn {i + 1}",
            "oauth",
            SONNET,
            f"Stream answer {i + 1}.",
            A,
            stream=True,
        )
    c.messages(
        "10_haiku_background",
        "title generation",
        "oauth",
        HAIKU,
        "Please write a 5-10 word title for the conversation.",
        A,
        max_tokens=512,
    )
    c.messages(
        "6_fallback_opus_to_sonnet",
        "opus 529 -> router fallback to sonnet",
        "oauth",
        OPUS_FB,
        "Plan the refactor.",
        A,
    )
    c.messages(
        "6_fallback_opus_to_sonnet",
        "streaming: opus 529 -> fallback",
        "oauth",
        OPUS_FB,
        "Plan the refactor, streamed.",
        A,
        stream=True,
    )
    c.messages(
        "7_retry_fail_once",
        "upstream 500 once, LiteLLM retries same deployment",
        "oauth",
        SONNET,
        "Flaky request [[fake:fail_once]] A1",
        A,
    )
    c.messages(
        "8_429_subscription",
        "429 rate_limit_error, subscription quota message",
        "oauth",
        SONNET,
        "Over quota [[fake:rate_limit]] A1",
        A,
    )
    # Session B: API-key Claude Code client (client x-api-key is not forwarded; deployment key is used)
    for i in range(2):
        c.messages("3_apikey_nonstream", f"turn {i + 1}", "api_key", SONNET, f"Review file {i + 1}.", B)
    c.messages("3_apikey_stream", "streamed turn", "api_key", SONNET, "Stream a review.", B, stream=True)
    c.messages(
        "10_haiku_background",
        "title generation",
        "api_key",
        HAIKU,
        "Please write a 5-10 word title for the conversation.",
        B,
        max_tokens=512,
    )
    c.messages(
        "8_429_apikey",
        "429 rate_limit_error, organization message",
        "api_key",
        SONNET,
        "Over org limit [[fake:rate_limit]] B1",
        B,
    )
    # /anthropic pass-through (all client headers forwarded, LiteLLM key dropped)
    c.messages(
        "5_passthrough_oauth",
        "pass-through with OAuth",
        "oauth",
        SONNET,
        "Pass-through hello.",
        C,
        route="/anthropic/v1/messages",
    )
    c.messages(
        "5_passthrough_oauth",
        "pass-through with OAuth, streamed",
        "oauth",
        SONNET,
        "Pass-through stream.",
        C,
        stream=True,
        route="/anthropic/v1/messages",
    )
    c.messages(
        "5_passthrough_apikey",
        "pass-through with API key",
        "api_key",
        SONNET,
        "Pass-through hello.",
        C,
        route="/anthropic/v1/messages",
    )
    c.messages(
        "5_passthrough_529",
        "pass-through opus -> upstream 529 (no fallback on pass-through)",
        "api_key",
        OPUS_FB,
        "Pass-through overloaded.",
        C,
        route="/anthropic/v1/messages",
    )
    c.count_tokens(
        "extra_passthrough_count_tokens", "oauth", SONNET, C, route="/anthropic/v1/messages/count_tokens"
    )
    # OpenAI format
    c.chat("4_chat_completions", "OpenAI client, LiteLLM key in Authorization", SONNET, "Say hi.")
    c.chat("4_chat_completions", "OpenAI client, streamed", SONNET, "Say hi, streamed.", stream=True)
    c.chat("6_fallback_chat", "opus 529 -> fallback on /chat/completions", OPUS_FB, "Plan it.")
    # Cooldown: opus-4-5 deployment (policy InternalServerErrorAllowedFails: 0) fails, is cooled down,
    # and the next callers get "No deployments available" (RouterRateLimitError, 429)
    c.messages(
        "9_cooldown_trigger",
        "opus-4.5 529 -> deployment cooled down",
        "api_key",
        OPUS_CD,
        "Deep analysis please.",
        D,
    )
    c.messages(
        "9_cooldown_no_deployments",
        "same group while cooled down",
        "api_key",
        OPUS_CD,
        "Deep analysis again.",
        D,
    )
    c.messages(
        "9_cooldown_no_deployments",
        "another (OAuth) user hits the cooled-down group",
        "oauth",
        OPUS_CD,
        "Deep analysis, OAuth user.",
        A,
    )
    # Auth failure: OAuth token but no LiteLLM key
    c.messages(
        "extra_auth_failure",
        "OAuth token, no x-litellm-api-key (taken as the LiteLLM key, rejected)",
        "oauth",
        SONNET,
        "No LiteLLM key.",
        C,
        route="/v1/messages",
        litellm_key=False,
    )


def phase_b(c: Client) -> None:
    E, F = SESSIONS["E"], SESSIONS["F"]
    c.messages("1_oauth_nonstream", "prompts not stored", "oauth", SONNET, "Phase B turn 1.", E)
    c.messages("2_oauth_stream", "prompts not stored", "oauth", SONNET, "Phase B stream.", E, stream=True)
    c.messages("6_fallback_opus_to_sonnet", "prompts not stored", "oauth", OPUS_FB, "Phase B plan.", E)
    c.messages(
        "8_429_subscription", "prompts not stored", "oauth", SONNET, "Phase B quota [[fake:rate_limit]] E1", E
    )
    c.messages("3_apikey_nonstream", "prompts not stored", "api_key", SONNET, "Phase B review.", F)
    c.messages(
        "10_haiku_background",
        "prompts not stored",
        "api_key",
        HAIKU,
        "Please write a 5-10 word title for the conversation.",
        F,
        max_tokens=512,
    )
    c.messages(
        "5_passthrough_oauth",
        "prompts not stored",
        "oauth",
        SONNET,
        "Phase B pass-through.",
        E,
        route="/anthropic/v1/messages",
    )
    c.chat("4_chat_completions", "prompts not stored", SONNET, "Phase B hi.")


def run_phase(args, phase: str, store_prompts: bool, fake_base: str, out: Path, requests_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_AUTH_TOKEN",
            "DATABASE_URL",
            "STORE_PROMPTS_IN_SPEND_LOGS",
            "SPEND_LOGS_URL",
            "REDIS_HOST",
            "REDIS_URL",
        )
    }
    env.update(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_LOG": "INFO",
            "TZ": args.tz,
            "FAKE_ANTHROPIC_BASE": fake_base,
            "FAKE_DEPLOYMENT_ANTHROPIC_KEY": DEPLOYMENT_KEY,
            "LITELLM_MASTER_KEY": LITELLM_KEY,
            "ANTHROPIC_API_BASE": fake_base,  # the /anthropic pass-through target
            "CCSTATS_CAPTURE_OUT": str(out),
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    if store_prompts:
        env["STORE_PROMPTS_IN_SPEND_LOGS"] = "True"
    litellm_bin = Path(args.venv) / "bin" / "litellm"
    cmd = [
        str(litellm_bin),
        "--config",
        str(HERE / "litellm_config.yaml"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    print(f"phase {phase}: {' '.join(cmd)}", file=sys.stderr)
    with open(out / "proxy_stdout.log", "ab") as so, open(out / "proxy_stderr.log", "ab") as se:
        proc = subprocess.Popen(cmd, cwd=str(HERE), env=env, stdout=so, stderr=se, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/health/liveliness", args.ready_timeout, proc)
        client = Client(f"http://127.0.0.1:{port}", requests_path, phase)
        (phase_a if phase == "A" else phase_b)(client)
        time.sleep(args.settle)  # let async logging callbacks and spend writes finish
    finally:
        stop(proc, f"litellm proxy phase {phase}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Regenerate sample_logs/ from a real LiteLLM proxy.")
    ap.add_argument("--venv", default=os.environ.get("LITELLM_VENV", "/work/litellm-venv"))
    ap.add_argument("--out", default=str(REPO / "sample_logs"))
    ap.add_argument(
        "--tz",
        default="Europe/Berlin",
        help="TZ of the proxy process (its JSON log timestamps are local time without offset)",
    )
    ap.add_argument("--ready-timeout", type=float, default=90.0)
    ap.add_argument("--settle", type=float, default=4.0)
    ap.add_argument("--phases", default="AB")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in OUT_FILES:
        (out / name).unlink(missing_ok=True)
    requests_path = out / "requests_sent.jsonl"

    fport = free_port()
    fake = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "fake_anthropic.py"),
            "--port",
            str(fport),
            "--log",
            str(out / "upstream_requests.jsonl"),
        ],
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{fport}/health", 15, fake)
        fake_base = f"http://127.0.0.1:{fport}"
        if "A" in args.phases:
            run_phase(args, "A", True, fake_base, out, requests_path)
        if "B" in args.phases:
            run_phase(args, "B", False, fake_base, out, requests_path)
    finally:
        stop(fake, "fake anthropic")
    subprocess.run([sys.executable, str(HERE / "derive_shapes.py"), "--dir", str(out)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
