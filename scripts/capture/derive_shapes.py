"""Write other export shapes of the captured LiteLLM_SpendLogs rows (sample_logs/spend_logs.jsonl).

Without a database LiteLLM cannot serve /spend/logs, so these shapes are derived from the rows
LiteLLM handed to its DB writer, following how each source presents a row:

* spend_logs_list.json      ``GET /spend/logs`` (a JSON list of rows). JSON columns kept as the JSON
                            *strings* of the jsonl (as the capture brief asks; a live Prisma read may
                            return objects instead). Timestamps as a Prisma round trip returns them:
                            UTC, millisecond precision, ISO with ``+00:00``; created_at/updated_at
                            (filled by the DB default now()) set to endTime.
* spend_logs_v2_page.json   ``GET /spend/logs/v2`` page: ``{"data": [...], "total", "page", "page_size",
                            "total_pages", "total_is_capped"}``, newest first, JSON columns parsed
                            to OBJECTS.
* spend_logs.csv            ``psql \\copy (select * from "LiteLLM_SpendLogs") to ... csv header``: columns
                            in the table's physical order (baseline CREATE TABLE, then the ADD COLUMN
                            migrations of litellm-proxy-extras in order), ``timestamp(3) without time
                            zone`` rendered like ``2026-11-27 09:57:22.202`` (UTC, trailing zeros
                            trimmed as Postgres does, no offset), jsonb rendered as Postgres prints it
                            (keys ordered by length then bytes, ``", "``/``": "`` separators, numbers
                            in numeric form), double precision in shortest form, NULL as an empty
                            unquoted field, empty string as ``""``. (The table has no boolean column,
                            so no t/f values occur.)

Usage: python derive_shapes.py --dir sample_logs
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

# Physical column order of "LiteLLM_SpendLogs" after all litellm-proxy-extras migrations.
CSV_COLUMNS = [
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "completionStartTime",
    "model",
    "model_id",
    "model_group",
    "custom_llm_provider",
    "api_base",
    "user",
    "metadata",
    "cache_hit",
    "cache_key",
    "request_tags",
    "team_id",
    "end_user",
    "requester_ip_address",
    "messages",
    "response",
    "proxy_server_request",
    "session_id",
    "status",
    "mcp_namespaced_tool_name",
    "organization_id",
    "agent_id",
    "request_duration_ms",
    "created_at",
    "updated_at",
    "litellm_call_id",
    "billing_agent_id",
]
JSON_COLUMNS = ("metadata", "request_tags", "messages", "response", "proxy_server_request")
TIME_COLUMNS = ("startTime", "endTime", "completionStartTime", "created_at", "updated_at")
JSON_DEFAULTS = {
    "metadata": {},
    "request_tags": [],
    "messages": {},
    "response": {},
    "proxy_server_request": {},
}


def parse_ts(v: object) -> datetime | None:
    if v in (None, ""):
        return None
    if isinstance(v, (int, float)):
        return datetime.fromtimestamp(v, UTC)
    dt = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        # A naive value is taken as UTC, which is what Prisma does with a DateTime without offset.
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    return dt.replace(microsecond=(dt.microsecond // 1000) * 1000)  # timestamp(3)


def iso_ms(v: object) -> str | None:
    dt = parse_ts(v)
    return dt.isoformat() if dt else None


def pg_timestamp(v: object) -> str | None:
    dt = parse_ts(v)
    if dt is None:
        return None
    s = dt.strftime("%Y-%m-%d %H:%M:%S")
    if dt.microsecond:
        s += ("%.3f" % (dt.microsecond / 1e6))[1:].rstrip("0")
    return s


def pg_float(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    r = repr(float(x))
    return r[:-2] if r.endswith(".0") else r


def _jsonb_key(k: str) -> tuple[int, bytes]:
    b = k.encode("utf-8")
    return (len(b), b)


def jsonb_text(v: object) -> str:
    """Render a JSON value the way Postgres prints a jsonb value."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        d = Decimal(repr(v))
        s = format(d, "f")
        return s
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(jsonb_text(x) for x in v) + "]"
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: _jsonb_key(kv[0]))
        return (
            "{" + ", ".join(json.dumps(k, ensure_ascii=False) + ": " + jsonb_text(x) for k, x in items) + "}"
        )
    return json.dumps(str(v))


def csv_field(v: str | None) -> str:
    if v is None:
        return ""
    if v == "" or any(c in v for c in ',"\n\r') or v.startswith("\\."):
        return '"' + v.replace('"', '""') + '"'
    return v


def as_json_value(v: object, column: str) -> object:
    if v is None:
        return JSON_DEFAULTS[column]
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def as_json_string(v: object, column: str) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(JSON_DEFAULTS[column] if v is None else v)


def with_db_columns(row: dict) -> dict:
    out = {c: row.get(c) for c in CSV_COLUMNS}
    for extra in row:  # keep anything LiteLLM sent that the column list does not know (should be none)
        if extra not in out:
            out[extra] = row[extra]
    out["created_at"] = row.get("created_at") or row.get("endTime")
    out["updated_at"] = row.get("updated_at") or row.get("endTime")
    return out


def api_row(row: dict, json_as_objects: bool) -> dict:
    r = with_db_columns(row)
    for c in TIME_COLUMNS:
        r[c] = iso_ms(r[c])
    for c in JSON_COLUMNS:
        r[c] = as_json_value(r[c], c) if json_as_objects else as_json_string(r[c], c)
    return r


def csv_line(row: dict) -> str:
    r = with_db_columns(row)
    fields = []
    for c in CSV_COLUMNS:
        v = r.get(c)
        if c in TIME_COLUMNS:
            s = pg_timestamp(v)
        elif c in JSON_COLUMNS:
            s = jsonb_text(as_json_value(v, c))
        elif v is None:
            s = None
        elif isinstance(v, bool):
            s = "t" if v else "f"
        elif isinstance(v, float):
            s = pg_float(v)
        else:
            s = str(v)
        fields.append(csv_field(s))
    return ",".join(fields)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=str(Path(__file__).resolve().parents[2] / "sample_logs"))
    args = ap.parse_args(argv)
    d = Path(args.dir)
    rows = [json.loads(line) for line in (d / "spend_logs.jsonl").read_text().splitlines() if line.strip()]

    (d / "spend_logs_list.json").write_text(json.dumps([api_row(r, False) for r in rows], indent=2) + "\n")

    newest_first = sorted(
        rows,
        key=lambda r: parse_ts(r.get("startTime")) or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    page_size = 50
    data = [api_row(r, True) for r in newest_first[:page_size]]
    page = {
        "data": data,
        "total": len(rows),
        "page": 1,
        "page_size": page_size,
        "total_pages": max(1, math.ceil(len(rows) / page_size)),
        "total_is_capped": False,
    }
    (d / "spend_logs_v2_page.json").write_text(json.dumps(page, indent=2) + "\n")

    with open(d / "spend_logs.csv", "w", encoding="utf-8", newline="") as f:
        f.write(",".join(CSV_COLUMNS) + "\n")
        for r in rows:
            f.write(csv_line(r) + "\n")
    print(f"derived 3 shapes from {len(rows)} spend rows in {d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
