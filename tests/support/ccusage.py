"""Harness for running the real ``ccusage`` CLI against synthetic Claude Code transcripts.

Parity tests use it to compare our 5-hour windows with the ones ccusage computes.

ccusage v20 is a Rust binary shipped through npm: the ``ccusage`` package holds a small
node launcher (``src/cli.js``) and the binary arrives through an optional per-platform
package (``@ccusage/ccusage-linux-x64``).  ``.ci/run`` installs a pinned version into
``.ci/node``; :func:`find_ccusage` finds that install (or one named by ``CCSTATS_CCUSAGE``).

How ccusage reads a transcript line (v20.0.24, ``rust/adapters/claude``), which is what
:func:`write_transcripts` has to satisfy:

* files are ``<CLAUDE_CONFIG_DIR>/projects/<project>/<session>.jsonl``;
* a line is skipped unless it contains the exact bytes ``"usage":{`` -- so the JSON must be
  written without a space after ``:`` (``separators=(",", ":")``, as Claude Code does);
* a line is skipped if any of ``id cwd model speed costUSD version sessionId requestId
  isApiErrorMessage cache_read_input_tokens cache_creation_input_tokens`` is ``null``, if
  ``version`` is not ``N.N.N...``, or if ``sessionId``/``requestId``/``message.id``/
  ``message.model`` is an empty string;
* lines are de-duplicated on (``message.id``, ``requestId``, ``sessionId``) -- Claude Code
  writes one line per streamed content block, all carrying the same usage;
* cache-creation tokens are taken from ``usage.cache_creation.ephemeral_5m_input_tokens +
  ephemeral_1h_input_tokens`` when the ``cache_creation`` object is present, and from
  ``usage.cache_creation_input_tokens`` only when it is absent (1h writes are priced higher);
* ``costUSD`` (written by old Claude Code versions only) is used as-is in the default
  ``--mode auto``; without it the cost is computed from the pricing table that is embedded in
  the binary (``--offline``; no network).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

#: the version .ci/run installs; see the comment there for why it is not the newest.
PINNED_CCUSAGE_VERSION = "20.0.24"

#: Claude Code version written into synthetic transcripts (any ``N.N.N`` is accepted).
CLAUDE_CODE_VERSION = "2.0.14"

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_CCUSAGE = REPO_ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ccusage"

_UUID_NS = uuid.UUID("6f7d4b8e-2f0e-4c8e-9a57-4a1c2f1cc5a0")
_TRUTHY = {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------- skip / fail policy


def require_all() -> bool:
    """True when CCSTATS_REQUIRE_ALL asks that missing components fail tests instead of skipping."""
    return os.environ.get("CCSTATS_REQUIRE_ALL", "").strip().lower() in _TRUTHY


def require_or_skip(component: str, available: bool, why: str) -> None:
    """Skip the calling test when ``component`` is unavailable -- or fail it under CCSTATS_REQUIRE_ALL=1.

    CI sets CCSTATS_REQUIRE_ALL=1 so that a broken install (no chromium, no postgres, no
    ccusage, no playwright) turns the build red instead of silently skipping the tests that
    need it.  Developers without the component get an ordinary skip with ``why``.
    """
    if available:
        return
    if require_all():
        pytest.fail(
            f"{component} is required (CCSTATS_REQUIRE_ALL=1) but is not available: {why}",
            pytrace=False,
        )
    pytest.skip(why)


# --------------------------------------------------------------------------- locating ccusage


def _runs(exe: str) -> bool:
    """Whether ``exe --version`` works (the npm launcher exits 1 when its native binary is missing)."""
    try:
        proc = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and proc.stdout.strip().startswith("ccusage")


def find_ccusage() -> str | None:
    """Path of a working ``ccusage`` executable, or None.

    Looked for, in order: ``$CCSTATS_CCUSAGE`` (if set, it is the only candidate), the
    project-local install ``.ci/node/node_modules/.bin/ccusage``, then ``ccusage`` on PATH.
    A candidate counts only if ``ccusage --version`` succeeds.
    """
    override = os.environ.get("CCSTATS_CCUSAGE", "").strip()
    if override:
        candidates: list[str | None] = [shutil.which(override) or override]
    else:
        candidates = [str(LOCAL_CCUSAGE) if LOCAL_CCUSAGE.exists() else None, shutil.which("ccusage")]
    for exe in candidates:
        if exe and _runs(exe):
            return exe
    return None


def ccusage_version(exe: str) -> str:
    """``ccusage --version`` output, e.g. ``"ccusage 20.0.24"``."""
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout.strip()


def require_ccusage() -> str:
    """:func:`find_ccusage`, or skip/fail (see :func:`require_or_skip`) when there is none."""
    exe = find_ccusage()
    require_or_skip(
        "ccusage",
        exe is not None,
        "ccusage not found: run .ci/run's npm step (npm install --prefix .ci/node "
        f"ccusage@{PINNED_CCUSAGE_VERSION}) or set CCSTATS_CCUSAGE",
    )
    assert exe is not None
    return exe


# --------------------------------------------------------------------------- transcripts


def _iso_z(ts: datetime) -> str:
    """``2025-06-01T10:15:30.123Z``: UTC, millisecond precision, ``Z`` -- as Claude Code writes."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware, got naive {ts!r}")
    utc = ts.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(_UUID_NS, "\x1f".join(str(p) for p in parts)))


def _default_cwd(project: str) -> str:
    # Claude Code names the project directory after the cwd with "/" (and ".") turned into "-".
    return "/" + project.lstrip("-").replace("-", "/") if project.startswith("-") else f"/work/{project}"


def _dumps(obj: dict) -> str:
    line = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    assert '"usage":{' in line or obj.get("type") != "assistant"
    return line


def _assistant_line(e: dict, parent: str | None, cwd: str) -> tuple[str, str]:
    session_id = e["session_id"]
    line_uuid = _uid("assistant", session_id, e["message_id"], e["request_id"])
    cache_creation = int(e.get("cache_creation_tokens", 0))
    cache_1h = int(e.get("cache_creation_1h_tokens", 0))
    usage = {
        "input_tokens": int(e.get("input_tokens", 0)),
        # Real Claude Code reports the total here *and* the TTL split below; ccusage prefers the split.
        "cache_creation_input_tokens": cache_creation + cache_1h,
        "cache_read_input_tokens": int(e.get("cache_read_tokens", 0)),
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache_creation,
            "ephemeral_1h_input_tokens": cache_1h,
        },
        "output_tokens": int(e.get("output_tokens", 0)),
        "service_tier": "standard",
    }
    record: dict = {
        "parentUuid": parent,
        "isSidechain": False,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session_id,
        "version": e.get("version", CLAUDE_CODE_VERSION),
        "gitBranch": e.get("git_branch", "main"),
        "message": {
            "model": e["model"],
            "id": e["message_id"],
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": e.get("text", "ok")}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        },
        "requestId": e["request_id"],
        "type": "assistant",
        "uuid": line_uuid,
        "timestamp": _iso_z(e["timestamp"]),
    }
    if e.get("cost_usd") is not None:  # only pre-1.0.9 Claude Code wrote costUSD
        record["costUSD"] = float(e["cost_usd"])
    return _dumps(record), line_uuid


def _user_line(e: dict, parent: str | None, cwd: str) -> tuple[str, str]:
    session_id = e["session_id"]
    line_uuid = _uid("user", session_id, e["message_id"], e["request_id"])
    record = {
        "parentUuid": parent,
        "isSidechain": False,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session_id,
        "version": e.get("version", CLAUDE_CODE_VERSION),
        "gitBranch": e.get("git_branch", "main"),
        "type": "user",
        "message": {"role": "user", "content": e.get("prompt", "continue")},
        "uuid": line_uuid,
        "timestamp": _iso_z(e["timestamp"]),
    }
    return _dumps(record), line_uuid


def write_transcripts(
    config_dir: Path, entries: Iterable[dict], *, user_turns: bool = True, append: bool = False
) -> None:
    """Write Claude Code transcripts for ``entries`` under ``config_dir/projects``.

    Each entry is a dict with ``timestamp`` (aware datetime), ``session_id``, ``project``,
    ``message_id``, ``request_id``, ``model``, ``input_tokens``, ``output_tokens``,
    ``cache_creation_tokens``, ``cache_read_tokens``; optional: ``cache_creation_1h_tokens``
    (1-hour TTL writes, priced higher), ``cost_usd`` (writes a top-level ``costUSD``),
    ``cwd``, ``version``, ``git_branch``, ``text``, ``prompt``.

    Entries go to ``projects/<project>/<session_id>.jsonl`` in timestamp order, one
    ``type:"assistant"`` line each (preceded by its ``type:"user"`` prompt line when
    ``user_turns``; ccusage ignores those, they carry no usage), chained by
    ``parentUuid``/``uuid`` and serialised compactly like Claude Code does.  Files are
    replaced unless ``append``.  Entries repeating a (message_id, request_id, session_id)
    produce duplicate lines, which is what Claude Code writes for a streamed multi-block
    reply; ccusage counts them once.
    """
    config_dir = Path(config_dir)
    (config_dir / "projects").mkdir(parents=True, exist_ok=True)
    by_file: dict[tuple[str, str], list[dict]] = {}
    for e in entries:
        missing = {"timestamp", "session_id", "project", "message_id", "request_id", "model"} - e.keys()
        if missing:
            raise ValueError(f"transcript entry lacks {sorted(missing)}: {e!r}")
        for key in ("session_id", "project", "message_id", "request_id", "model"):
            if not isinstance(e[key], str) or not e[key]:
                raise ValueError(
                    f"{key} must be a non-empty string (ccusage drops the line otherwise): {e!r}"
                )
        if "/" in e["project"] or "/" in e["session_id"]:
            raise ValueError(f"project and session_id must be single path segments: {e!r}")
        _iso_z(e["timestamp"])  # reject naive datetimes early
        by_file.setdefault((e["project"], e["session_id"]), []).append(e)

    for (project, session_id), items in by_file.items():
        items.sort(key=lambda e: e["timestamp"])
        path = config_dir / "projects" / project / f"{session_id}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        parent: str | None = None
        lines: list[str] = []
        for e in items:
            cwd = e.get("cwd") or _default_cwd(project)
            if user_turns:
                line, parent = _user_line(e, parent, cwd)
                lines.append(line)
            line, parent = _assistant_line(e, parent, cwd)
            lines.append(line)
        with path.open("a" if append else "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- running ccusage


def ccusage_env(config_dir: Path, timezone: str = "UTC") -> dict[str, str]:
    """A minimal, hermetic environment: only ``config_dir`` is visible to ccusage.

    HOME/XDG dirs point into ``config_dir`` so no real ``~/.claude``, ``~/.codex`` or ccusage
    config file can leak in; no CCUSAGE_* / agent variables are inherited.
    """
    config_dir = Path(config_dir).resolve()
    home = config_dir / ".home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
        "TZ": timezone,
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "CCUSAGE_OFFLINE": "1",
        "NO_COLOR": "1",
        "LOG_LEVEL": "0",
    }


def run_ccusage(config_dir: Path, args: list[str], timezone: str = "UTC", exe: str | None = None) -> dict:
    """Run ``ccusage <args> --json`` hermetically and return the parsed JSON document."""
    exe = exe or find_ccusage()
    if exe is None:
        raise RuntimeError("ccusage not found (see find_ccusage)")
    cmd = [exe, *args, "--json"]
    proc = subprocess.run(
        cmd,
        env=ccusage_env(config_dir, timezone),
        cwd=str(config_dir),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"{' '.join(cmd)} printed non-JSON output:\n{proc.stdout[:2000]}") from exc


def run_blocks(
    config_dir: Path, timezone: str = "UTC", *, exe: str | None = None, mode: str = "auto"
) -> list[dict]:
    """``ccusage blocks --json --offline`` over ``config_dir``; returns the list of blocks.

    Flags: ``--offline`` (price table embedded in the binary, no network), ``--timezone``,
    ``--no-color``, ``--order asc`` (sorted by startTime), ``--mode`` (``auto``: use a line's
    ``costUSD`` when present, else compute; ``calculate``: always compute; ``display``: only
    ``costUSD``), ``--single-thread``.  Environment: :func:`ccusage_env` (CLAUDE_CONFIG_DIR =
    config_dir, TZ = timezone, isolated HOME).  ccusage prints ``{"blocks": [...]}``; an empty
    ``projects/`` gives ``[]`` (a config_dir without ``projects/`` is an error, exit 1).

    Each block, as ccusage 20.0.24 emits it (keys in its alphabetical order, all always present;
    times are UTC ``...sss Z`` strings whatever ``timezone`` is)::

        {
          "actualEndTime": "2024-03-04T13:59:00.000Z",  # last entry's timestamp; null for gaps
          "burnRate": null,           # active block only: {"costPerHour", "tokensPerMinute",
                                      #   "tokensPerMinuteForIndicator"} (floats)
          "costUSD": 0.0171,          # float, unrounded (0 -- an int -- for gaps)
          "endTime": "2024-03-04T14:00:00.000Z",    # startTime + 5h; gaps: the next entry's timestamp
          "entries": 3,               # de-duplicated usage lines; 0 for gaps
          "id": "2024-03-04T09:00:00.000Z",         # == startTime; gaps: "gap-" + startTime
          "isActive": false,          # endTime in the future and last entry < 5h ago
          "isGap": false,
          "models": ["claude-sonnet-4-5-20250929"], # distinct models; [] for gaps
          "projection": null,         # active block only: {"remainingMinutes": int,
                                      #   "totalCost": float (2 dp), "totalTokens": int}
          "startTime": "2024-03-04T09:00:00.000Z",  # first entry floored to the UTC hour (also
                                                    # with --timezone Asia/Kolkata: UTC, not local);
                                                    # gaps: previous block's last entry + 5h
          "tokenCounts": {"cacheCreationInputTokens": 3000, "cacheReadInputTokens": 15000,
                          "inputTokens": 300, "outputTokens": 30},
          "totalTokens": 18330        # sum of the four tokenCounts, cache tokens included
        }
    """
    args = [
        "blocks",
        "--offline",
        "--timezone",
        timezone,
        "--no-color",
        "--order",
        "asc",
        "--mode",
        mode,
        "--single-thread",
    ]
    doc = run_ccusage(config_dir, args, timezone=timezone, exe=exe)
    blocks = doc.get("blocks")
    if not isinstance(blocks, list):
        raise RuntimeError(f"ccusage blocks JSON has no 'blocks' list: {doc!r}")
    return blocks
