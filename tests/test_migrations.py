from pathlib import Path

import duckdb

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
