"""Input sources. Each module turns one kind of LiteLLM output into JSON lines for its SQL normaliser.

The line-delimited formats (spend-log JSONL, callback JSONL, proxy JSON logs) are read straight into DuckDB in
large chunks; whole-file formats (API JSON pages, CSV, single payload files) are turned into one JSON object per
record here, so every record goes through the same normaliser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

SPEND = "spend"
CALLBACK = "callback"
PROXY = "proxy"
TRANSCRIPT = "transcript"  # Claude Code's own projects/**/*.jsonl (analyzer/sources/claude_code.py)
KINDS = (SPEND, CALLBACK, PROXY, TRANSCRIPT)

# shape of the file: one record per line, or a whole-file document
LINES = "lines"
JSON_DOC = "json"
CSV = "csv"


@dataclass(frozen=True)
class Format:
    kind: str  # spend | callback | proxy
    shape: str  # lines | json | csv

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.shape}"


def kind_of_record(rec: object) -> str | None:
    """Which source kind a decoded JSON object belongs to, from its keys."""
    if not isinstance(rec, dict):
        return None
    if "sessionId" in rec and ("uuid" in rec or "requestId" in rec) and ("type" in rec or "message" in rec):
        return TRANSCRIPT  # before PROXY: transcript lines carry "message" and "timestamp" too
    if rec.get("type") in ("summary", "file-history-snapshot") and ("leafUuid" in rec or "messageId" in rec):
        return TRANSCRIPT  # the first lines of many transcripts
    if "request_id" in rec and ("startTime" in rec or "spend" in rec):
        return SPEND
    if "litellm_call_id" in rec and ("hidden_params" in rec or "response_cost" in rec or "trace_id" in rec):
        return CALLBACK
    if "message" in rec and ("level" in rec or "timestamp" in rec):
        return PROXY
    if "id" in rec and "startTime" in rec and "response_cost" in rec:
        return CALLBACK
    return None


def detect(head: bytes) -> Format | None:
    """Guess the format from the first bytes (decompressed) of a file."""
    found = _detect(head, prefix=False)
    assert not isinstance(found, Undecided)
    return found


def detect_from_prefix(head: bytes) -> Format | None | Undecided:
    """As :func:`detect` given more of the file, or ``UNDECIDED`` when more bytes could change the answer: decided
    only by a complete first JSON line. Lets a caller read a few KB of most files instead of 256 KB."""
    return _detect(head, prefix=True)


class Undecided:
    """The answer of :func:`detect_from_prefix` when the prefix does not decide."""


UNDECIDED = Undecided()


def _detect(head: bytes, *, prefix: bool) -> Format | None | Undecided:
    text = head.decode("utf-8", "replace")
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        return UNDECIDED if prefix else None
    if stripped[0] == "[":
        return Format(SPEND, JSON_DOC)  # refined per record when loaded
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # One JSON object per line: the first complete JSON line decides (proxy logs may open with banners).
    for i, ln in enumerate(lines[:200]):
        is_last = i == len(lines) - 1
        s = ln.strip()
        if not s.startswith("{"):
            continue
        if prefix and is_last:
            return UNDECIDED  # the line may go on past the prefix
        try:
            rec = json.loads(s)
        except ValueError:
            if prefix:
                return UNDECIDED
            if is_last and "\n" not in text.rstrip("\r\n")[-len(ln) :] and len(ln) > 4096:
                # A single line longer than the head: sniff its top-level keys instead of parsing it.
                keys = dict.fromkeys(re.findall(r'"([A-Za-z_]+)"\s*:', s[:65536]), 1)
                kind = kind_of_record(keys)
                if kind:
                    return Format(kind, LINES)
            break  # an object spread over several lines: a whole-file document
        kind = kind_of_record(rec)
        if kind:
            return Format(kind, LINES)
        if isinstance(rec, dict) and isinstance(rec.get("data"), list):
            return Format(SPEND, JSON_DOC)
        return None
    if prefix:
        return UNDECIDED
    if stripped[0] == "{":
        return Format(SPEND, JSON_DOC)  # pretty-printed page or payload; refined when loaded
    first = lines[0] if lines else ""
    if "request_id" in first and "," in first:
        return Format(SPEND, CSV)
    return None
