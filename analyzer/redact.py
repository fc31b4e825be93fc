"""Credential redaction, applied to raw bytes before anything is parsed or stored.

A secret becomes ``[REDACTED:<kind>:<fingerprint>]`` where the fingerprint is the first 8 hex digits of its
sha256, so requests made with one token can still be grouped without keeping the token. The replacement has
no quotes, backslashes or newlines, so redacting JSON text leaves it valid JSON with the same line breaks.
"""

from __future__ import annotations

import hashlib
import re

_TOKEN = r"[A-Za-z0-9_\-]"
# Order matters: the most specific kind first; a value already replaced no longer matches later rules.
_RULES: list[tuple[str, str]] = [
    ("anthropic-oauth", rf"(?<![A-Za-z0-9])sk-ant-oat\d*-{_TOKEN}{{6,}}"),
    ("anthropic-api", rf"(?<![A-Za-z0-9])sk-ant-api\d*-{_TOKEN}{{6,}}"),
    ("anthropic", rf"(?<![A-Za-z0-9])sk-ant-{_TOKEN}{{6,}}"),
    ("sk", rf"(?<![A-Za-z0-9])sk-[A-Za-z0-9]{_TOKEN}{{3,}}"),
]
_BEARER = r"(?i:(bearer)(\s+))(?!REDACTED|\[REDACTED)([A-Za-z0-9._~+/=\-]{6,})"
_API_KEY_VALUE = (
    r"(?<![A-Za-z0-9_\-])(?i:(x-api-key|api-key|x-goog-api-key))((?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)"
    r"(?!REDACTED|\[REDACTED|\*\*\*)([^\"'\s,;}\]\\]{4,})"
)


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _replacement(kind: str, secret: str) -> str:
    return f"[REDACTED:{kind}:{fingerprint(secret)}]"


_STR_RULES = [(kind, re.compile(pattern)) for kind, pattern in _RULES]
_STR_BEARER = re.compile(_BEARER)
_STR_API_KEY = re.compile(_API_KEY_VALUE)


def redact_text(text: str) -> str:
    """Return ``text`` with every credential-like string replaced by its kind and fingerprint."""
    if not might_contain_secret_text(text):
        return text
    for kind, rx in _STR_RULES:
        text = rx.sub(lambda m, k=kind: _replacement(k, m.group(0)), text)  # type: ignore[misc]
    text = _STR_BEARER.sub(lambda m: m.group(1) + m.group(2) + _replacement("bearer", m.group(3)), text)
    text = _STR_API_KEY.sub(lambda m: m.group(1) + m.group(2) + _replacement("header-key", m.group(3)), text)
    return text


_BYTE_RULES = [(kind, re.compile(pattern.encode())) for kind, pattern in _RULES]
_BYTE_BEARER = re.compile(_BEARER.encode())
_BYTE_API_KEY = re.compile(_API_KEY_VALUE.encode())
# Cheap substring probes (memchr-speed) that every rule needs one of; most chunks contain none.
_PROBES = (b"sk-", b"earer", b"EARER", b"-key", b"-KEY", b"-Key")


def might_contain_secret(data: bytes) -> bool:
    return any(p in data for p in _PROBES)


def might_contain_secret_text(text: str) -> bool:
    return "sk-" in text or "earer" in text or "EARER" in text or "-key" in text.lower()


def _b_replacement(kind: str, secret: bytes) -> bytes:
    return _replacement(kind, secret.decode("utf-8", "surrogateescape")).encode()


def redact_bytes(data: bytes) -> bytes:
    """Bytes version of :func:`redact_text`; never changes the number or position of newlines."""
    if not might_contain_secret(data):
        return data
    for kind, rx in _BYTE_RULES:
        data = rx.sub(lambda m, k=kind: _b_replacement(k, m.group(0)), data)  # type: ignore[misc]
    data = _BYTE_BEARER.sub(lambda m: m.group(1) + m.group(2) + _b_replacement("bearer", m.group(3)), data)
    data = _BYTE_API_KEY.sub(lambda m: m.group(1) + m.group(2) + _b_replacement("header-key", m.group(3)), data)
    return data
