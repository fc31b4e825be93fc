"""Small read queries shared by the CLI, the report and notebooks (status of the store)."""

from __future__ import annotations

from typing import Any

import duckdb


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = [d[0] for d in cur.description]  # type: ignore[union-attr]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def status(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Counts, sources and the latest quarantined records."""
    one = lambda q: con.execute(q).fetchall()[0][0]  # noqa: E731
    return {
        "requests": one("select count(*) from request_log"),
        "callback_events": one("select count(*) from callback_events"),
        "proxy_events": one("select count(*) from proxy_events"),
        "quarantined": one("select count(*) from quarantine"),
        "sources": _dicts(
            con.execute(
                "select source_id, path, format, compressed, size_bytes, offset_bytes, lines_read, rows_added, duplicates, "
                "quarantined, skipped_lines, first_ingest, last_ingest from sources order by source_id"
            )
        ),
        "quarantine": _dicts(
            con.execute(
                "select path, line_no, byte_offset, reason, raw_excerpt, quarantined_at from quarantine "
                "order by quarantined_at desc, line_no limit 20"
            )
        ),
    }
