"""Credentials never reach the database: every format, seeded with secrets, then the whole file is scanned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer import connect
from analyzer.ingest import IngestOptions, ingest_paths
from analyzer.redact import fingerprint, redact_text

from .conftest import SAMPLE_LOGS

SECRETS = {
    "anthropic-oauth": "sk-ant-oat01-SeCrEtOaUtHtOkEn0123456789abcdefABCDEF_-xyz",
    "anthropic-api": "sk-ant-api03-SeCrEtApIkEy0123456789abcdefABCDEF_-xyz",
    "sk": "sk-proj-SeCrEtOpEnAiKeY0123456789",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.SeCrEtJwTpAyLoAd.sIgNaTuRe0123",
    "header-key": "plainSeCrEtHeaderValue98765",
}


def _seeded_files(tmp_path: Path) -> list[Path]:
    spend = json.loads((SAMPLE_LOGS / "spend_logs.jsonl").read_text().splitlines()[0])
    meta = json.loads(spend["metadata"])
    meta["user_api_key_alias"] = f"Bearer {SECRETS['bearer']}"
    meta["requester_custom_headers"] = {
        "x-api-key": SECRETS["header-key"],
        "authorization": SECRETS["anthropic-oauth"],
    }
    meta["error_information"] = {"error_message": f"invalid x-api-key: {SECRETS['anthropic-api']}"}
    spend["metadata"] = json.dumps(meta)
    spend["end_user"] = SECRETS["sk"]
    callback = json.loads((SAMPLE_LOGS / "callbacks.jsonl").read_text().splitlines()[0])
    callback["metadata"]["requester_custom_headers"] = {"x-api-key": SECRETS["anthropic-api"]}
    callback["error_str"] = f"Authorization: Bearer {SECRETS['anthropic-oauth']}"
    proxy = {
        "message": f"auth failed for key {SECRETS['sk']} with x-api-key={SECRETS['header-key']}",
        "level": "ERROR",
        "timestamp": "2026-11-27T10:00:00",
        "component": "LiteLLM Proxy",
        "logger": "a.py:1",
    }
    truncated = json.dumps({**spend, "request_id": "msg_secret_broken"})[:3000]  # goes to quarantine
    files = {
        "spend.jsonl": json.dumps(spend) + "\n" + truncated + "\n",
        "callbacks.jsonl": json.dumps(callback) + "\n",
        "proxy.log": json.dumps(proxy) + "\n" + f"plain banner line {SECRETS['anthropic-oauth']}\n",
        "page.json": json.dumps(
            {
                "data": [{**spend, "request_id": "msg_secret_page", "api_key": SECRETS["anthropic-api"]}],
                "total": 1,
                "page": 1,
            }
        ),
    }
    out = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        out.append(tmp_path / name)
    return out


def test_no_secret_reaches_the_database_file(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    _seeded_files(logs)
    db = tmp_path / "secrets.duckdb"
    con = connect(db)
    summaries, errors = ingest_paths(con, [str(logs)], IngestOptions(log_tz="UTC"))
    assert not errors
    # the spend row, the page row, the callback event and the JSON proxy line (the banner is only counted)
    assert sum(s.rows_added for s in summaries) == 4
    assert con.execute("select count(*) from quarantine").fetchall() == [(1,)]
    con.execute("checkpoint")
    # Every text value in every table, as SQL sees it (compressed storage could hide bytes from a file scan).
    text_dump = []
    for (table,) in con.execute("select table_name from duckdb_tables()").fetchall():
        text_dump.append(
            con.execute(f"select cast(list(t) as varchar) from {table} t").fetchall()[0][0] or ""
        )
    con.close()
    dump = "\n".join(text_dump)
    raw = db.read_bytes()
    for kind, secret in SECRETS.items():
        core = secret.split("-", 3)[-1][:16] if secret.startswith("sk-") else secret[:16]
        assert core not in dump, kind
        assert core.encode() not in raw, kind
    # Redacted values keep their kind and a fingerprint, so requests with one token can still be grouped.
    assert f"[REDACTED:anthropic-oauth:{fingerprint(SECRETS['anthropic-oauth'])}]" in dump
    assert f"[REDACTED:bearer:{fingerprint(SECRETS['bearer'])}]" in dump
    assert f"[REDACTED:header-key:{fingerprint(SECRETS['header-key'])}]" in dump


def test_redaction_is_stable_and_keeps_json_valid() -> None:
    text = json.dumps(
        {
            "h": f"Bearer {SECRETS['anthropic-oauth']}",
            "x-api-key": SECRETS["header-key"],
            "nested": json.dumps({"x-api-key": SECRETS["header-key"]}),
            "word": "task-12345",
        }
    )
    once = redact_text(text)
    assert redact_text(once) == once
    decoded = json.loads(once)
    assert decoded["word"] == "task-12345"
    assert decoded["h"] == f"Bearer [REDACTED:anthropic-oauth:{fingerprint(SECRETS['anthropic-oauth'])}]"
    assert json.loads(decoded["nested"]) == {
        "x-api-key": f"[REDACTED:header-key:{fingerprint(SECRETS['header-key'])}]"
    }


@pytest.mark.parametrize(
    ("text", "redacted", "flagged"),
    [
        ("Authorization: Bearer abcdefgh12345", True, True),
        ("authorization: bearer abcdefgh12345", True, True),
        ("AUTHORIZATION: BEARER abcdefgh12345", True, True),
        ("x-api-key: abcd1234efgh", True, True),
        ("API-KEY=abcd1234efgh", True, True),
        ("Api-key: 'abcd1234efgh'", True, True),
        ("api-Key: abcd1234efgh", True, True),
        ("token sk-ant-api03-abcdefgh", True, True),
        ("task-1234: looks like one, is none", False, True),
        ("plain text, no credential", False, False),
        ("a Bearer alone", False, True),  # flagged, then left as it is by the rules
        ("hearer, EARER", False, False),  # the old literals, "earer" and "EARER": no rule starts there
    ],
)
def test_the_literal_test_flags_whatever_redaction_changes(text: str, redacted: bool, flagged: bool) -> None:
    """might_contain_secret, and its SQL form (which picks the transcript files Python must redact), flag every
    text redaction changes, in Python and in DuckDB alike."""
    import duckdb

    from analyzer.redact import might_contain_secret, might_contain_secret_sql

    in_sql = duckdb.sql(
        f"select {might_contain_secret_sql('t')} from (select ? as t)", params=[text]
    ).fetchall()
    assert (redact_text(text) != text, might_contain_secret(text.encode()), in_sql[0][0]) == (
        redacted,
        flagged,
        flagged,
    )
