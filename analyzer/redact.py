"""Credential redaction, applied to raw bytes before anything is parsed or stored.

A secret becomes ``[REDACTED:<kind>:<fingerprint>]`` where the fingerprint is the first 8 hex digits of its
sha256, so requests made with one token can still be grouped without keeping the token. The replacement has
no quotes, backslashes or newlines, so redacting JSON text leaves it valid JSON with the same line breaks.

Speed: ingest runs this over every byte of every log. Each rule starts with a literal (``sk-``, ``Bearer``,
``api-key`` in its usual spellings) so the regex engine can skip ahead, and a rule runs only when its literal
occurs at all (a C-speed substring test). Values LiteLLM already masked (``***REDACTED***``,
``REDACTED_BY_LITELM``) are left alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

_SK = re.compile(rb"sk-[A-Za-z0-9][A-Za-z0-9_\-]{3,}")
_BEARER_WORDS = (b"Bearer", b"bearer", b"BEARER")
_BEARER = {
    w: re.compile(re.escape(w) + rb"(\s+)(?!REDACTED|\[REDACTED)([A-Za-z0-9._~+/=\-]{6,})")
    for w in _BEARER_WORDS
}
_KEY_WORDS = (b"api-key", b"Api-Key", b"API-KEY", b"Api-key", b"API-Key", b"api-Key")
_KEY_VALUE = rb"((?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)(?!REDACTED|\[REDACTED|\*\*\*)([^\"'\s,;}\]\\]{4,})"
_KEYS = {w: re.compile(re.escape(w) + _KEY_VALUE) for w in _KEY_WORDS}
_ALNUM = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _marker(kind: str, secret: bytes) -> bytes:
    return f"[REDACTED:{kind}:{hashlib.sha256(secret).hexdigest()[:8]}]".encode()


def _sk_kind(token: bytes) -> str:
    if token.startswith(b"sk-ant-oat"):
        return "anthropic-oauth"
    if token.startswith(b"sk-ant-api"):
        return "anthropic-api"
    if token.startswith(b"sk-ant-"):
        return "anthropic"
    return "sk"


def _sk_replace(m: re.Match[bytes]) -> bytes:
    start = m.start()
    if start and m.string[start - 1] in _ALNUM:  # part of a word such as "task-1234"
        return m.group(0)
    return _marker(_sk_kind(m.group(0)), m.group(0))


def _keep_prefix(kind: str) -> Callable[[re.Match[bytes]], bytes]:
    def replace(m: re.Match[bytes]) -> bytes:
        whole, secret = m.group(0), m.group(2)
        return whole[: m.start(2) - m.start(0)] + _marker(kind, secret)

    return replace


_BEARER_REPLACE = _keep_prefix("bearer")
_KEY_REPLACE = _keep_prefix("header-key")


#: Every redaction rule starts with one of these (the three Bearer spellings; the api-key words contain "-key" in
#: one of its cases), so text without any holds nothing to redact. Words that start with a rare letter: DuckDB's
#: substring test stops at every occurrence of a needle's first byte, and "earer" cost twice the three words.
SECRET_LITERALS = (b"sk-", *_BEARER_WORDS, b"-key", b"-Key", b"-KEY")


def might_contain_secret(data: bytes) -> bool:
    return any(literal in data for literal in SECRET_LITERALS)


def might_contain_secret_sql(column: str) -> str:
    """:func:`might_contain_secret` as a DuckDB expression on a VARCHAR column."""
    return "(" + " or ".join(f"contains({column}, '{w.decode()}')" for w in SECRET_LITERALS) + ")"


def redact_bytes(data: bytes) -> bytes:
    """Replace every credential-like string; never changes the number or position of newlines."""
    if b"sk-" in data:
        data = _SK.sub(_sk_replace, data)
    for word, rx in _BEARER.items():
        if word in data:
            data = rx.sub(_BEARER_REPLACE, data)
    for word, rx in _KEYS.items():
        if word in data:
            data = rx.sub(_KEY_REPLACE, data)
    return data


def redact_text(text: str) -> str:
    """Text version of :func:`redact_bytes`."""
    raw = text.encode("utf-8", "surrogateescape")
    out = redact_bytes(raw)
    return text if out is raw else out.decode("utf-8", "surrogateescape")
