"""Claude Code transcripts as a second source: detection, ccusage's de-duplication, limit messages, and the merge
with LiteLLM logs (each request counted once, whichever source is ingested first)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analyzer import connect, ingest_file, ingest_paths
from analyzer.sources import TRANSCRIPT, detect
from analyzer.sources.claude_code import claude_code_dirs, claude_code_paths, limit_resets, source_split
from analyzer.windows import active_window, windows
from tests.support.ccusage import write_transcripts
from tests.support.rows import HAIKU, SONNET, spend_row, write_jsonl

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def entry(n: int, seconds: float, *, session: str, project: str = "-work-alpha", **kw: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "timestamp": at(seconds),
        "session_id": session,
        "project": project,
        "message_id": f"msg_{n:04d}",
        "request_id": f"req_{n:04d}",
        "model": SONNET,
        "input_tokens": 10 * n,
        "output_tokens": 3 * n,
        "cache_creation_tokens": 100 * n,
        "cache_read_tokens": 1000 * n,
    }
    e.update(kw)
    return e


def litellm_row(
    n: int, seconds: float, *, session: str, request_id: str | None = None, **kw: Any
) -> dict[str, Any]:
    """The spend row LiteLLM logs for the response ``entry(n)`` describes (request_id = the message id)."""
    return spend_row(
        request_id=request_id or f"msg_{n:04d}",
        start=seconds - 2,
        duration_s=2.5,
        session_id=session,
        input_tokens=10 * n,
        output_tokens=3 * n,
        cache_creation=100 * n,
        cache_read=1000 * n,
        **kw,
    )


# Traffic of the mixed scenario (sessions are Claude Code session ids; LiteLLM logs them from
# x-claude-code-session-id):
#   n=1..3  session S1, through LiteLLM, in both logs (matched by message id = LiteLLM request_id)
#   n=4     session S1, through LiteLLM's /chat/completions (request_id chatcmpl-...): both, matched on
#           session + time + the four token counts
#   n=5..6  session S2, direct to Anthropic: transcript only
#   n=7..8  session S3, LiteLLM only (no transcript on this machine)
#   n=9     session S2, transcript only, same second as a LiteLLM-only row n=10 in S2 with other tokens: two requests
#   n=1 again in session S4 (a resumed session repeats the line): one request
S1, S2, S3, S4 = (
    "5f0c6f2e-0000-4000-8000-000000000001",
    "5f0c6f2e-0000-4000-8000-000000000002",
    "5f0c6f2e-0000-4000-8000-000000000003",
    "5f0c6f2e-0000-4000-8000-000000000004",
)


def _transcript_entries() -> list[dict[str, Any]]:
    return [
        entry(1, 10, session=S1),
        entry(1, 10.2, session=S1, output_tokens=1),  # a partial copy of the same response: fewer tokens
        entry(2, 60, session=S1),
        entry(3, 120, session=S1),
        entry(4, 180, session=S1, message_id="msg_cc_0004"),
        entry(5, 3600, session=S2, project="-work-beta"),
        entry(6, 3700, session=S2, project="-work-beta", model=HAIKU),
        entry(9, 3800, session=S2, project="-work-beta"),
        entry(1, 9000, session=S4, output_tokens=1),  # resumed session repeats msg_0001 (fewer tokens)
    ]


def _litellm_rows() -> list[dict[str, Any]]:
    return [
        litellm_row(1, 10, session=S1),
        litellm_row(2, 60, session=S1),
        litellm_row(3, 120, session=S1),
        litellm_row(4, 180, session=S1, request_id="chatcmpl-4b1f", call_type="acompletion"),
        litellm_row(7, 200, session=S3),
        litellm_row(8, 260, session=S3),
        litellm_row(10, 3800, session=S2),
    ]


def _tokens(n: int) -> int:
    return 10 * n + 3 * n + 100 * n + 1000 * n


def _ingest(db: Path, tmp: Path, order: str) -> Any:
    cc = tmp / "claude"
    write_transcripts(cc, _transcript_entries())
    spend = write_jsonl(tmp / "spend_logs.jsonl", _litellm_rows())
    con = connect(db)
    first, second = (
        ([str(cc / "projects")], [str(spend)])
        if order == "transcripts_first"
        else ([str(spend)], [str(cc / "projects")])
    )
    for paths in (first, second):
        summaries, errors = ingest_paths(con, paths)
        assert not errors and not [s for s in summaries if s.error]
    return con


@pytest.mark.parametrize("order", ["transcripts_first", "litellm_first"])
def test_mixed_sources_count_every_request_once(tmp_path: Path, order: str) -> None:
    con = _ingest(tmp_path / "s.duckdb", tmp_path, order)
    rows = con.execute(
        "select request_id, origin, route, provider, seen_in_litellm, seen_in_transcript, "
        "input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens "
        "from request_log order by started_at, request_id"
    ).fetchall()
    assert rows == [
        ("msg_0001", "spend_log", "/v1/messages", "anthropic", True, True, _tokens(1)),
        ("msg_0002", "spend_log", "/v1/messages", "anthropic", True, True, _tokens(2)),
        ("msg_0003", "spend_log", "/v1/messages", "anthropic", True, True, _tokens(3)),
        ("chatcmpl-4b1f", "spend_log", "/chat/completions", "anthropic", True, True, _tokens(4)),
        ("msg_0007", "spend_log", "/v1/messages", "anthropic", True, False, _tokens(7)),
        ("msg_0008", "spend_log", "/v1/messages", "anthropic", True, False, _tokens(8)),
        ("msg_0005", "claude_code", "direct", "anthropic", False, True, _tokens(5)),
        ("msg_0006", "claude_code", "direct", "anthropic", False, True, _tokens(6)),
        ("msg_0010", "spend_log", "/v1/messages", "anthropic", True, False, _tokens(10)),
        ("msg_0009", "claude_code", "direct", "anthropic", False, True, _tokens(9)),
    ]
    # transcript_entries: one per (message id, request id); the copy with more tokens won
    assert con.execute("select count(*), sum(total_tokens) from transcript_entries").fetchall() == [
        (7, sum(_tokens(n) for n in (1, 2, 3, 4, 5, 6, 9)))
    ]
    assert con.execute(
        "select message_id, session_id, output_tokens from transcript_entries order by message_id"
    ).fetchall() == [
        ("msg_0001", S1, 3),
        ("msg_0002", S1, 6),
        ("msg_0003", S1, 9),
        ("msg_0005", S2, 15),
        ("msg_0006", S2, 18),
        ("msg_0009", S2, 27),
        ("msg_cc_0004", S1, 12),
    ]
    # billing of direct rows: no evidence -> unknown
    assert con.execute(
        "select distinct billing_route from requests where origin = 'claude_code'"
    ).fetchall() == [("unknown",)]
    # windows count each request once
    w = windows(con)
    assert w.filter(~w["is_gap"])["requests"].sum() == 10
    assert w["total_tokens"].sum() == sum(_tokens(n) for n in range(1, 11))
    # the split through LiteLLM / direct
    split = source_split(con, by="day")
    assert split.select("source", "requests", "total_tokens").rows() == [
        ("litellm_only", 3, _tokens(7) + _tokens(8) + _tokens(10)),
        ("both", 4, _tokens(1) + _tokens(2) + _tokens(3) + _tokens(4)),
        ("direct_only", 3, _tokens(5) + _tokens(6) + _tokens(9)),
    ]
    by_window = source_split(con)
    assert by_window["period_start"].unique().to_list() == [T0]
    assert by_window["requests"].to_list() == [3, 4, 3]
    con.close()


def test_both_orders_give_identical_tables(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    query = (
        "select request_id, origin, status, started_at, session_id, model, input_tokens, output_tokens, "
        "cache_creation_tokens, cache_read_tokens, seen_in_litellm, seen_in_transcript from request_log order by all"
    )
    a = _ingest(tmp_path / "a.duckdb", tmp_path / "a", "transcripts_first")
    b = _ingest(tmp_path / "b.duckdb", tmp_path / "b", "litellm_first")
    assert a.execute(query).fetchall() == b.execute(query).fetchall()
    assert len(a.execute(query).fetchall()) == 10


def test_reingest_and_appended_copy_change_nothing_twice(tmp_path: Path) -> None:
    con = _ingest(tmp_path / "s.duckdb", tmp_path, "transcripts_first")
    before = con.execute("select * exclude (ingested_at) from request_log order by request_id").fetchall()
    # the same files again: nothing added
    summaries, _ = ingest_paths(
        con, [str(tmp_path / "claude" / "projects"), str(tmp_path / "spend_logs.jsonl")]
    )
    assert sum(s.rows_added for s in summaries) == 0
    assert (
        con.execute("select * exclude (ingested_at) from request_log order by request_id").fetchall()
        == before
    )
    # a later copy of msg_0005 with more output tokens (streaming finished) replaces the first one
    write_transcripts(
        tmp_path / "claude",
        [entry(5, 3601, session=S2, project="-work-beta", output_tokens=40)],
        append=True,
        user_turns=False,
    )
    ingest_paths(con, [str(tmp_path / "claude" / "projects")])
    assert con.execute(
        "select started_at, output_tokens, origin from request_log where request_id = 'msg_0005'"
    ).fetchall() == [(at(3601), 40, "claude_code")]
    assert con.execute("select count(*) from request_log").fetchall() == [(10,)]
    con.close()


def _edge_corpus(cc: Path, *, shared_message_id: bool = True) -> None:
    """The mixed scenario's transcripts plus what decides a transcript-only row's id and fields: one message id
    under two request ids (ccusage counts both; without ``shared_message_id`` only the first), a line without a
    message id (keyed by its uuid) and a usage-limit error line."""
    second = entry(20, 4001, session=S2, project="-work-beta", request_id="req_0020b", output_tokens=7)
    write_transcripts(
        cc,
        [
            *_transcript_entries(),
            entry(20, 4000, session=S2, project="-work-beta", request_id="req_0020a"),
            *([second] if shared_message_id else []),
        ],
    )
    usage = {
        "input_tokens": 5,
        "output_tokens": 6,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    common = {"sessionId": S2, "version": "2.0.14", "type": "assistant", "cwd": "/work/beta"}
    lines = [
        {**common, "uuid": "u-no-id", "timestamp": "2026-11-27T11:10:00.000Z", "requestId": "req_no_id",
         "message": {"model": SONNET, "usage": usage}},
        {**common, "uuid": "u-limit", "timestamp": "2026-11-27T11:20:00.000Z", "isApiErrorMessage": True,
         "message": {"id": "b2c7a3f0-limit", "model": "<synthetic>",
                     "content": [{"type": "text", "text": "Claude AI usage limit reached|1795780800"}],
                     "usage": {**usage, "input_tokens": 0, "output_tokens": 0}}},
    ]  # fmt: skip
    with (cc / "projects" / "-work-beta" / f"{S2}.jsonl").open("a") as f:
        f.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)


@pytest.mark.parametrize("shared_message_id", [True, False])
def test_rows_written_with_the_entries_equal_the_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_message_id: bool
) -> None:
    """A cold ingest of transcripts alone writes the transcript-only rows in the entries' own transaction
    (claude_code._direct_ok); the rows are those the merge writes, before and after LiteLLM rows arrive. With a
    message id under two request ids, and without (then no first entry key is looked up)."""
    from analyzer.sources import claude_code

    cc = tmp_path / "claude"
    _edge_corpus(cc, shared_message_id=shared_message_id)
    spend = write_jsonl(tmp_path / "spend_logs.jsonl", _litellm_rows())
    real = claude_code._direct_ok
    answers: list[bool] = []
    real_rows_sql = claude_code._direct_rows_sql
    lookups: list[bool] = []

    def watched(con: Any) -> bool:
        answers.append(real(con))
        return answers[-1]

    def rows_sql(*, shared_ids: bool) -> str:
        lookups.append(shared_ids)
        return real_rows_sql(shared_ids=shared_ids)

    monkeypatch.setattr(claude_code, "_direct_rows_sql", rows_sql)

    tables: dict[str, list[list[tuple[Any, ...]]]] = {}
    for mode in ("direct", "merge"):
        monkeypatch.setattr(claude_code, "_direct_ok", watched if mode == "direct" else lambda con: False)
        con = connect(tmp_path / f"{mode}.duckdb")
        tables[mode] = []
        for paths in ([str(cc / "projects")], [str(spend)]):
            ingest_paths(con, paths)
            tables[mode].append(
                con.execute("select * exclude (ingested_at) from request_log order by all").fetchall()
            )
            tables[mode].append(
                con.execute("select * exclude (ingested_at) from transcript_entries order by all").fetchall()
            )
        con.close()
    assert answers == [True]  # one batch, written directly
    assert lookups == [shared_message_id]
    assert tables["direct"] == tables["merge"]
    cold, _, mixed, _ = tables["direct"]
    # 9 transcript lines of the scenario give 7 entries, + 2 (or 1) under msg_0020, + no-id + limit
    n = 11 if shared_message_id else 10
    assert len(cold) == n and len(mixed) == n + 3  # + LiteLLM-only n=7, 8, 10
    ids = {r[0] for r in cold}
    assert {"msg_0020", "uuid:u-no-id", "b2c7a3f0-limit"} <= ids
    assert (f"msg_0020{chr(31)}req_0020b" in ids or f"msg_0020{chr(31)}req_0020a" in ids) == shared_message_id


def test_transcript_is_detected_and_lines_follow_ccusage_rules(tmp_path: Path) -> None:
    cc = tmp_path / "cc"
    write_transcripts(cc, [entry(1, 0, session=S1), entry(2, 5, session=S1, cache_creation_1h_tokens=7)])
    path = cc / "projects" / "-work-alpha" / f"{S1}.jsonl"
    base = json.loads(path.read_text().splitlines()[1])
    extra = []
    spaced = json.dumps(dict(base, uuid="u-spaced"))  # '"usage": {' with a space: ccusage skips it
    extra.append(spaced.replace('"msg_0001"', '"msg_0100"'))
    nulls = dict(base, costUSD=None, uuid="u-null")
    nulls["message"] = dict(base["message"], id="msg_0101")
    extra.append(json.dumps(nulls, separators=(",", ":")))
    bad_version = dict(base, version="2.0", uuid="u-ver")
    bad_version["message"] = dict(base["message"], id="msg_0102")
    extra.append(json.dumps(bad_version, separators=(",", ":")))
    extra.append('{"type":"assistant","message":{"usage":{"input_tokens":')  # malformed: quarantined
    summary_line = json.dumps({"type": "summary", "summary": "t", "leafUuid": "x"}, separators=(",", ":"))
    path.write_text(summary_line + "\n" + path.read_text() + "\n".join(extra) + "\n")
    assert detect(path.read_bytes()[:4096]) is not None
    assert detect(path.read_bytes()[:4096]).kind == TRANSCRIPT  # type: ignore[union-attr]
    con = connect(tmp_path / "s.duckdb")
    s = ingest_file(con, path)
    assert (s.format, s.rows_added, s.quarantined, s.lines) == ("transcript-lines", 2, 1, 9)
    assert con.execute(
        "select message_id, cache_creation_tokens, cache_creation_1h_tokens, project, version from transcript_entries "
        "order by message_id"
    ).fetchall() == [
        ("msg_0001", 100, 0, "-work-alpha", "2.0.14"),
        ("msg_0002", 207, 7, "-work-alpha", "2.0.14"),
    ]
    assert con.execute("select reason from quarantine").fetchall() == [("malformed JSON",)]
    con.close()


NULL_KEYS = (
    "id cwd model speed costUSD version sessionId requestId isApiErrorMessage input_tokens output_tokens "
    "cache_read_input_tokens cache_creation_input_tokens"
).split()


def test_a_listed_key_written_as_null_skips_the_line_and_nothing_else_does(tmp_path: Path) -> None:
    """ccusage skips a line holding one of its schema's keys as null (at any depth, as the normaliser's regex
    reads it). The normaliser tests the reversed line first; a mark that joins a quote into one grapheme must not
    change the answer: such keys are other keys, and their lines count."""
    cc = tmp_path / "cc"
    write_transcripts(cc, [entry(1, 0, session=S1)])
    path = cc / "projects" / "-work-alpha" / f"{S1}.jsonl"
    base = json.loads(path.read_text().splitlines()[1])  # the assistant line
    lines = []
    for n, key in enumerate(NULL_KEYS, start=200):
        row = (
            dict(base, uuid=f"u-{n}", **{key: None})
            if key not in ("id", "model")
            else dict(base, uuid=f"u-{n}")
        )
        row["message"] = dict(base["message"], id=f"msg_{n}")
        if key in ("id", "model"):
            row["message"]["content"] = [{"type": "tool_use", key: None}]
        lines.append(json.dumps(row, separators=(",", ":")))
    for n, key in enumerate(("\u0903requestId", "requestId\u0903", "\u0600id", "cwd\u0301"), start=300):
        row = dict(base, uuid=f"u-{n}")
        row["message"] = dict(base["message"], id=f"msg_{n}")
        row[json.loads(f'"{key}"')] = None
        lines.append(json.dumps(row, separators=(",", ":"), ensure_ascii=False))
    path.write_text(path.read_text() + "\n".join(lines) + "\n")
    con = connect(tmp_path / "s.duckdb")
    s = ingest_file(con, path)
    # the user line has no usage: skipped too
    assert (s.rows_added, s.skipped, s.lines) == (1 + 4, 1 + len(NULL_KEYS), 2 + len(NULL_KEYS) + 4)
    assert [
        r[0] for r in con.execute("select message_id from transcript_entries order by all").fetchall()
    ] == [
        "msg_0001",
        "msg_300",
        "msg_301",
        "msg_302",
        "msg_303",
    ]
    con.close()


def test_usage_limit_message_gives_official_reset(tmp_path: Path) -> None:
    cc = tmp_path / "cc"
    write_transcripts(cc, [entry(1, 0, session=S1)])
    path = cc / "projects" / "-work-alpha" / f"{S1}.jsonl"
    reset = int((T0 + timedelta(hours=4)).timestamp())
    limit = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/work/alpha",
        "sessionId": S1,
        "version": "2.0.14",
        "type": "assistant",
        "uuid": "u-limit",
        "timestamp": "2026-11-27T11:00:00.000Z",
        "isApiErrorMessage": True,
        "message": {
            "id": "b2c7a3f0-limit",
            "model": "<synthetic>",
            "role": "assistant",
            "type": "message",
            "content": [{"type": "text", "text": f"Claude AI usage limit reached|{reset}"}],
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        },
    }
    with path.open("a") as f:
        f.write(json.dumps(limit, separators=(",", ":")) + "\n")
    con = connect(tmp_path / "s.duckdb")
    ingest_paths(con, [str(cc)])
    assert limit_resets(con) == [
        {
            "logged_at": T0 + timedelta(hours=1),
            "reset_at": T0 + timedelta(hours=4),
            "session_id": S1,
            "project": "-work-alpha",
        }
    ]
    assert con.execute(
        "select origin, status, error_code, rl_5h_reset, error_message from request_log where status <> 'success'"
    ).fetchall() == [
        ("claude_code", "failure", "429", T0 + timedelta(hours=4), f"Claude AI usage limit reached|{reset}")
    ]
    act = active_window(con, now=T0 + timedelta(hours=2))
    assert act is not None
    assert (act["reset_at"], act["reset_source"], act["requests"]) == (T0 + timedelta(hours=4), "official", 1)
    con.close()


def test_claude_code_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    assert claude_code_dirs(None) == []
    (tmp_path / ".claude" / "projects").mkdir(parents=True)
    (tmp_path / ".config" / "claude").mkdir(parents=True)
    assert claude_code_dirs(None) == [tmp_path / ".config" / "claude", tmp_path / ".claude"]
    assert claude_code_paths(None) == [str(tmp_path / ".claude" / "projects")]
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tmp_path / 'a'},{tmp_path / 'b'}")
    assert claude_code_dirs(None) == [tmp_path / "a", tmp_path / "b"]
    assert claude_code_dirs("~/x") == [tmp_path / "x"]
    assert claude_code_paths(str(tmp_path / "x")) == [str(tmp_path / "x")]


@pytest.mark.parametrize(
    "folder",
    ["projects/-work-alpha", "projects/p\\q", "projects/ü-é", "projects/projects", "xprojects/p",
     "projects/p/sub", "", "projects", "projects/a b"],
)  # fmt: skip
def test_project_is_the_folder_right_under_projects(tmp_path: Path, folder: str) -> None:
    """The project of an entry is the name of its file's folder when that folder sits in a folder named
    ``projects`` (as ccusage reads <config>/projects/<project>/<session>.jsonl); else none."""
    import re

    path = tmp_path / "cfg" / folder / f"{S1}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "type": "assistant", "sessionId": S1, "requestId": "req_1", "uuid": "u-1", "version": "2.0.14",
        "timestamp": "2026-11-27T10:00:00.000Z",
        "message": {"id": "msg_1", "model": SONNET, "usage": {"input_tokens": 1, "output_tokens": 2}},
    }  # fmt: skip
    path.write_text(json.dumps(line, separators=(",", ":")) + "\n")
    con = connect(tmp_path / "s.duckdb")
    ingest_file(con, path)
    match = re.search(r"/projects/([^/]+)/[^/]*$", str(path))
    expected = match.group(1) if match else None
    assert con.execute("select project from transcript_entries").fetchall() == [(expected,)]
    assert expected == (
        folder.split("/")[-1] if folder.split("/")[:1] == ["projects"] and folder.count("/") == 1 else None
    )
    con.close()


def test_claude_code_folder_takes_every_jsonl_file_as_a_transcript(tmp_path: Path) -> None:
    """Under an `--claude-code` folder every *.jsonl file is a transcript, as ccusage reads them, whatever its
    first line (which is not read to find the format); other files there, and the same folder ingested as a
    plain path, still have their format read from their first lines."""
    from click.testing import CliRunner

    from analyzer.cli import cli

    cc = tmp_path / "cc"
    write_transcripts(cc, [entry(1, 0, session=S1)])
    folder = cc / "projects" / "-work-alpha"
    line = (folder / f"{S1}.jsonl").read_text().splitlines()[1].replace("msg_0001", "msg_0002")
    (folder / "odd.jsonl").write_text('{"kind":"note"}\n' + line + "\n")
    (folder / "notes.txt").write_text('{"kind":"note"}\n')

    def ingest(db: str, *args: str) -> dict[str, tuple[str, int]]:
        r = CliRunner().invoke(cli, ["ingest", "--db", str(tmp_path / db), "--json", *args])
        assert r.exit_code == 0, r.output
        return {Path(s["path"]).name: (s["format"], s["rows_added"]) for s in json.loads(r.output)["sources"]}

    assert ingest("cc.duckdb", "--claude-code", str(cc)) == {
        f"{S1}.jsonl": ("transcript-lines", 1),
        "notes.txt": ("", 0),
        "odd.jsonl": ("transcript-lines", 1),
    }
    assert ingest("plain.duckdb", str(cc / "projects")) == {
        f"{S1}.jsonl": ("transcript-lines", 1),
        "notes.txt": ("", 0),
        "odd.jsonl": ("", 0),
    }
