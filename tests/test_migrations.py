import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from analyzer import connect
from analyzer.db import MIGRATIONS, migrate


def test_blank_database_gets_every_table_and_view(tmp_path: Path) -> None:
    con = connect(tmp_path / "a.duckdb")
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert {
        "sources",
        "quarantine",
        "request_log",
        "callback_events",
        "proxy_events",
        "litellm_deployments",
        "_ccstats_migrations",
    } <= tables
    assert "requests" in views
    applied = [
        r[0] for r in con.execute("select name from _ccstats_migrations order by applied_at, name").fetchall()
    ]
    assert applied[0] == MIGRATIONS[0]
    assert any(name.startswith("views_") for name in applied)


def test_reconnect_applies_nothing_new(tmp_path: Path) -> None:
    connect(tmp_path / "a.duckdb").close()
    con = connect(tmp_path / "a.duckdb")
    assert migrate(con) == []


def test_requests_view_has_documented_columns(tmp_path: Path) -> None:
    con = connect(tmp_path / "a.duckdb")
    cols = {r[0] for r in con.execute("describe requests").fetchall()}
    assert {
        "request_id",
        "started_at",
        "model_requested",
        "model_served",
        "status",
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "spend_usd",
        "session_id",
        "key_hash",
        "user_id",
        "billing_route",
        "billing_evidence",
        "billing_confidence",
    } <= cols
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns where table_name = 'requests'"
        ).fetchall()
    )
    assert types["started_at"] == "TIMESTAMP WITH TIME ZONE"


def test_read_only_open_of_missing_db_is_a_user_error(tmp_path: Path) -> None:
    import pytest

    from analyzer import UserError

    with pytest.raises(UserError, match="no database"):
        connect(tmp_path / "missing.duckdb", read_only=True)
    plain = tmp_path / "plain.duckdb"
    duckdb.connect(str(plain)).close()
    with pytest.raises(UserError, match="not a ccstats database"):
        connect(plain, read_only=True)


def _store_before(path: Path, migration: str) -> duckdb.DuckDBPyConnection:
    """A raw connection to a store as a ccstats without ``migration`` and later steps left it."""
    from analyzer.db import sql

    raw = duckdb.connect(str(path))
    raw.execute("create table _ccstats_migrations (name varchar primary key, applied_at timestamptz)")
    for name in MIGRATIONS[: MIGRATIONS.index(migration)]:
        raw.execute(sql(name))
        raw.execute("insert into _ccstats_migrations values (?, now())", [name])
    return raw


def test_m007_keeps_hop_models_of_an_older_store(tmp_path: Path) -> None:
    """A store written before m007 (hop_models as VARCHAR[]) keeps its hops: stored as JSON text, a list in the view."""

    path = tmp_path / "old.duckdb"
    raw = _store_before(path, "m007_hop_models_json")
    raw.execute(
        "insert into request_log (request_id, litellm_call_id, origin, started_at, status, hops, hop_models, "
        "ingested_at) values "
        "('r1', 'c1', 'spend_log', '2026-11-01 10:00:00+00', 'success', 2, ['opus', 'sonnet'], now()), "
        "('r2', 'c2', 'spend_log', '2026-11-01 11:00:00+00', 'success', null, null, now())"
    )
    raw.close()
    con = connect(path)
    stored = con.execute("select request_id, hop_models_json from request_log order by 1").fetchall()
    assert stored == [("r1", '["opus","sonnet"]'), ("r2", None)]
    viewed = con.execute("select request_id, hop_models from requests order by 1").fetchall()
    assert viewed == [("r1", ["opus", "sonnet"]), ("r2", None)]
    # m007 rebuilt request_log_call_id; m009 then dropped it (and the callback one): no index is left over
    assert con.execute("select index_name from duckdb_indexes()").fetchall() == []


def test_read_only_open_upgrades_a_store_of_an_older_ccstats(sample_db_copy: Path) -> None:
    """A report (read-only) on a store written by an older ccstats: its views, macros and rollup are older than
    this version's queries. Opening it upgrades the store once (migrations, then the derived tables), and the
    report equals the one from the up-to-date store."""
    import datetime as dt

    from analyzer.db import _pending_steps
    from analyzer.report_cli import ReportOptions, as_json, collect

    opts = ReportOptions(tz="UTC", now=dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC))

    def report() -> str:
        con = connect(sample_db_copy, read_only=True)
        try:
            return as_json(collect(con, opts), opts)
        finally:
            con.close()

    want = report()
    con = connect(sample_db_copy)
    con.execute("delete from _ccstats_migrations where name like 'views_%'")
    con.execute("drop macro ccstats_retried")
    con.execute("update usage_rollup_state set fingerprint = 'older'")
    con.close()

    con = connect(sample_db_copy, read_only=True)
    assert _pending_steps(con) == []
    assert con.execute("select fingerprint <> 'older' from usage_rollup_state").fetchall() == [(True,)]
    con.close()
    got = report()
    a, b = json.loads(got), json.loads(want)
    del a["meta"]["generated_at"], b["meta"]["generated_at"]
    # float sums may differ in the last bit (DuckDB adds in parallel, in any order)
    assert _leaves(a).keys() == _leaves(b).keys()
    for path, value in _leaves(a).items():
        assert value == (
            pytest.approx(_leaves(b)[path], rel=1e-12) if isinstance(value, float) else _leaves(b)[path]
        ), path
    assert a["fallbacks"]["retries_total"] == 1


def _leaves(doc: object, path: str = "") -> dict[str, object]:
    if isinstance(doc, dict):
        return {k: v for key, item in doc.items() for k, v in _leaves(item, f"{path}.{key}").items()}
    if isinstance(doc, list):
        return {k: v for i, item in enumerate(doc) for k, v in _leaves(item, f"{path}[{i}]").items()}
    return {path: doc}


def test_m009_drops_the_call_id_indexes_checkpoints_kept_rewriting(tmp_path: Path) -> None:
    con = connect(tmp_path / "a.duckdb")
    assert con.execute("select index_name from duckdb_indexes()").fetchall() == []
    # callback_events keeps its primary key (ingest skips events it has by it); request_log's went in m010
    keys = con.execute(
        "select table_name from duckdb_constraints() where constraint_type = 'PRIMARY KEY' "
        "and table_name in ('request_log', 'callback_events') order by 1"
    ).fetchall()
    assert keys == [("callback_events",)]


def test_m010_rebuilds_request_log_without_its_key_and_keeps_rows_and_defaults(tmp_path: Path) -> None:
    """A store written before m010: its requests survive the rebuild, column for column and in order; NOT NULL
    and the defaults stay; the same log ingested twice still adds nothing (the anti-join, not the key)."""
    from analyzer.ingest import ingest_paths

    from .conftest import SAMPLE_LOGS

    path = tmp_path / "old.duckdb"
    raw = _store_before(path, "m010_request_log_without_primary_key")
    raw.execute(
        "insert into request_log (request_id, litellm_call_id, origin, started_at, status, input_tokens, tags, "
        "ingested_at) values "
        "('r2', 'c2', 'spend_log', '2026-11-01 11:00:00+00', 'success', 7, ['a', 'b'], '2026-11-02 00:00:00+00'), "
        "('r1', 'c1', 'callback', '2026-11-01 10:00:00+00', 'failure', null, null, '2026-11-02 00:00:00+00')"
    )
    columns = "select column_name, data_type from information_schema.columns where table_name = 'request_log'"
    before = raw.execute("select * from request_log").fetchall()
    before_columns = raw.execute(columns).fetchall()
    assert raw.execute(
        "select count(*) from duckdb_constraints() where table_name = 'request_log' and constraint_type = 'PRIMARY KEY'"
    ).fetchall() == [(1,)]
    raw.close()

    con = connect(path)
    assert con.execute("select * from request_log").fetchall() == before  # same rows, same order
    assert con.execute(columns).fetchall() == before_columns
    seen = "select request_id, seen_in_litellm, seen_in_transcript from request_log order by request_id"
    assert con.execute(seen).fetchall() == [("r1", True, False), ("r2", True, False)]  # defaults, at insert
    assert (
        con.execute(
            "select constraint_type from duckdb_constraints() where table_name = 'request_log'"
        ).fetchall()
        == [("NOT NULL",)] * 3
    )
    with pytest.raises(duckdb.ConstraintException):
        con.execute(
            "insert into request_log (request_id, origin, ingested_at) values (null, 'spend_log', now())"
        )
    con.execute("insert into request_log (request_id, origin, ingested_at) values ('r3', 'spend_log', now())")
    assert con.execute(
        "select seen_in_litellm, seen_in_transcript from request_log where request_id = 'r3'"
    ).fetchall() == [(True, False)]
    con.execute("delete from request_log")

    spend = str(SAMPLE_LOGS / "spend_logs.jsonl")
    first, _ = ingest_paths(con, [spend])
    copy = tmp_path / "spend_copy.jsonl"  # the same rows under another path: a new source, no new requests
    copy.write_bytes((SAMPLE_LOGS / "spend_logs.jsonl").read_bytes())
    second, _ = ingest_paths(con, [str(copy)])
    assert (first[0].rows_added, second[0].rows_added, second[0].duplicates) == (35, 0, 35)
    assert con.execute("select count(*), count(distinct request_id) from request_log").fetchall() == [
        (35, 35)
    ]
    con.close()


def test_m011_rebuilds_transcript_entries_without_its_key(tmp_path: Path) -> None:
    """A store written before m011: its entries survive the rebuild in order with their NOT NULLs, entry_key (now
    computed) included; a better copy of a stored entry still replaces it, and the same transcript under another
    path adds nothing."""
    from analyzer.ingest import ingest_paths
    from tests.support.ccusage import write_transcripts

    path = tmp_path / "old.duckdb"
    raw = _store_before(path, "m011_transcript_entries_without_primary_key")
    raw.execute(
        "insert into transcript_entries (entry_key, message_id, request_id, line_uuid, source_path, source_line, "
        "status, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, ingested_at) "
        "values ('m2' || chr(31) || 'r2', 'm2', 'r2', 'u2', '/p/a.jsonl', 2, 'success', 1, 2, 3, 4, 10, '2026-11-02'), "
        "('m1' || chr(31), 'm1', null, null, '/p/a.jsonl', 1, 'failure', 0, 0, 0, 0, 0, '2026-11-02'), "
        "('uuid:u3', null, 'r3', 'u3', '/p/a.jsonl', 3, 'success', 1, 0, 0, 0, 1, '2026-11-02'), "
        "('line:/p/a.jsonl:4', null, null, null, '/p/a.jsonl', 4, 'success', 1, 0, 0, 0, 1, '2026-11-02')"
    )
    columns = "select column_name, data_type from information_schema.columns where table_name = 'transcript_entries'"
    before, before_columns = (
        raw.execute("select * from transcript_entries").fetchall(),
        raw.execute(columns).fetchall(),
    )
    raw.close()

    con = connect(path)
    assert con.execute("select * from transcript_entries").fetchall() == before
    assert con.execute(columns).fetchall() == before_columns
    assert con.execute(
        "select constraint_type, count(*) from duckdb_constraints() where table_name = 'transcript_entries' group by 1"
    ).fetchall() == [("NOT NULL", 7)]  # entry_key, computed now, has none
    con.execute("delete from transcript_entries")

    t0 = datetime(2026, 11, 27, 10, tzinfo=UTC)
    one = {"session_id": "s1", "project": "-p", "message_id": "msg_1", "request_id": "req_1", "model": "m",
           "input_tokens": 1, "output_tokens": 2, "cache_creation_tokens": 0, "cache_read_tokens": 0}  # fmt: skip
    write_transcripts(tmp_path / "a", [{**one, "timestamp": t0}])
    write_transcripts(tmp_path / "b", [{**one, "timestamp": t0, "output_tokens": 9}])  # the finished copy
    (first,), _ = ingest_paths(con, [str(tmp_path / "a" / "projects")])
    (second,), _ = ingest_paths(con, [str(tmp_path / "b" / "projects")])
    (third,), _ = ingest_paths(con, [str(tmp_path / "a" / "projects")])  # nothing new: stored already
    assert [(s.rows_added, s.duplicates) for s in (first, second, third)] == [(1, 0), (0, 1), (0, 0)]
    assert con.execute("select entry_key, output_tokens from transcript_entries").fetchall() == [
        (f"msg_1{chr(31)}req_1", 9)
    ]
    assert con.execute("select request_id, output_tokens from request_log").fetchall() == [("msg_1", 9)]
    con.close()


def _store_before_m010(path: Path, requests: int) -> None:

    raw = _store_before(path, "m010_request_log_without_primary_key")
    raw.execute(
        "insert into request_log (request_id, origin, started_at, status, ingested_at) "
        "select 'r' || i, 'spend_log', timestamptz '2026-11-01 00:00:00+00' + to_seconds(i), 'success', now() "
        "from range(?) t(i)",
        [requests],
    )
    raw.close()


def test_an_upgrade_that_rewrites_a_big_table_says_so_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big, small = tmp_path / "big.duckdb", tmp_path / "small.duckdb"
    _store_before_m010(big, 100_000)
    _store_before_m010(small, 10)
    connect(big).close()
    assert capsys.readouterr().err == (
        "ccstats: upgrading the store for this version (100,000 requests, once; this takes a while)\n"
    )
    connect(big).close()
    connect(small).close()
    connect(tmp_path / "new.duckdb").close()
    assert capsys.readouterr().err == ""
    con = connect(big)
    assert con.execute("select count(*), count(distinct request_id) from request_log").fetchall() == [
        (100_000, 100_000)
    ]
    con.close()
