"""Whole-file inputs: `/spend/logs` lists, `/spend/logs/v2` and `/spend/logs/ui` pages, single payload files,
and CSV exported with psql. Each becomes a list of (record number, JSON text) for the normalisers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from . import CALLBACK, SPEND, kind_of_record

# Columns of LiteLLM_SpendLogs that psql writes as plain numbers or booleans.
_INT_COLUMNS = {"total_tokens", "prompt_tokens", "completion_tokens", "request_duration_ms"}
_FLOAT_COLUMNS = {"spend"}


class DocumentError(ValueError):
    pass


def records_from_json(text: str) -> tuple[str | None, list[tuple[int, object]]]:
    """Decode a whole-file JSON document into (kind, [(record number, record)])."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise DocumentError(f"not valid JSON: {exc}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        items = doc["data"]
    elif isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict):
        items = [doc]
    else:
        raise DocumentError("JSON document is neither an object nor a list")
    kinds = {kind_of_record(r) for r in items[:50]} - {None}
    kind = SPEND if SPEND in kinds else (CALLBACK if CALLBACK in kinds else (kinds.pop() if kinds else None))
    return kind, list(enumerate(items, start=1))


def _csv_value(column: str, value: str) -> object:
    if value == "":
        return None
    if column in _INT_COLUMNS:
        try:
            return int(float(value))
        except ValueError:
            return value
    if column in _FLOAT_COLUMNS:
        try:
            return float(value)
        except ValueError:
            return value
    if value in ("t", "f") and column in {"cache_hit"}:
        return value == "t"
    return value


def records_from_csv(text: str) -> Iterator[tuple[int, object]]:
    """Rows of a `psql \\copy ... csv header` export; yields (line number where the row starts, row dict)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    start = reader.line_num + 1
    for row in reader:
        if not row or row == [""]:
            start = reader.line_num + 1
            continue
        if len(row) != len(header):
            yield start, {"__csv_error__": f"{len(row)} fields where the header has {len(header)}"}
        else:
            yield start, {col: _csv_value(col, val) for col, val in zip(header, row, strict=True)}
        start = reader.line_num + 1
