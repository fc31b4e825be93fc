"""Capture LiteLLM_SpendLogs rows without a database.

Referenced from litellm_config.yaml as ``spend_log_sink.db_logger``. Importing this module

1. wraps ``DBSpendUpdateWriter._insert_spend_log_to_db`` (litellm/proxy/db/db_spend_update_writer.py),
   the last call before a spend row is queued for the ``LiteLLM_SpendLogs`` insert, so every row
   is also appended as one JSON line to ``$CCSTATS_CAPTURE_OUT/spend_logs.jsonl``
   (default: ``<repo>/sample_logs``); and
2. builds LiteLLM's own ``ProxyDBLogger`` (the cost-tracking callback that the proxy registers
   only when it has a database, see ``cost_tracking()`` in proxy_server.py) and registers it the
   same way ``cost_tracking()`` does, so the spend pipeline runs up to the insert.

Each row is serialised the way LiteLLM itself prepares a batch for the DB / for a
``SPEND_LOGS_URL`` export (``ProxyUpdateSpend.update_spend_logs`` in proxy/utils.py):
``spend_log_row_with_retained_metadata`` (honours ``spend_logs_metadata_fields``), the
non-column ``accounting_*`` keys dropped (``_spend_log_export_rows``), then
``PrismaClient.jsonify_object`` (dict values -> JSON strings). ``json.dumps`` then writes it,
with any datetime as ``isoformat()``. The JSON columns (metadata, request_tags, messages,
response, proxy_server_request) therefore stay JSON *strings*, as LiteLLM hands them over.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from datetime import date, datetime
from pathlib import Path

from litellm.proxy.db.db_spend_update_writer import DBSpendUpdateWriter
from litellm.proxy.hooks.proxy_track_cost_callback import ProxyDBLogger

OUT_DIR = Path(os.environ.get("CCSTATS_CAPTURE_OUT") or Path(__file__).resolve().parents[2] / "sample_logs")
SPEND_PATH = OUT_DIR / "spend_logs.jsonl"
_NON_COLUMN_KEYS = {"accounting_payload", "accounting_log_disabled", "accounting_delivery_id"}
_lock = threading.Lock()


def _default(v: object) -> object:
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return str(v)


def _jsonify_object(data: dict) -> dict:
    """Same as PrismaClient.jsonify_object (no PrismaClient exists without a DB)."""
    db_data = copy.deepcopy(data)
    for k, v in db_data.items():
        if isinstance(v, dict):
            try:
                db_data[k] = json.dumps(v)
            except Exception:
                db_data[k] = "failed-to-serialize-json"
    return db_data


def export_row(payload) -> dict | None:
    from litellm.proxy.spend_tracking.spend_tracking_utils import (
        configured_spend_logs_metadata_fields,
        spend_log_row_with_retained_metadata,
    )

    if payload.get("accounting_log_disabled") is True:
        return None  # accounting-only row: no LiteLLM_SpendLogs row is written for it
    row = spend_log_row_with_retained_metadata(payload, configured_spend_logs_metadata_fields())
    row = {k: v for k, v in row.items() if k not in _NON_COLUMN_KEYS}
    return _jsonify_object(row)


_original_insert = DBSpendUpdateWriter._insert_spend_log_to_db


async def _capturing_insert(self, payload, *args, **kwargs):
    try:
        row = export_row(payload)
        if row is not None:
            line = json.dumps(row, default=_default)
            with _lock, open(SPEND_PATH, "a", encoding="utf-8") as f:
                f.write(line + "\n")
    except Exception as e:  # never break the proxy because of the capture
        with _lock, open(OUT_DIR / "spend_log_sink_errors.txt", "a", encoding="utf-8") as f:
            f.write(f"{type(e).__name__}: {e}\n")
    return await _original_insert(self, payload, *args, **kwargs)


if not getattr(DBSpendUpdateWriter._insert_spend_log_to_db, "_ccstats_capture", False):
    _capturing_insert._ccstats_capture = True  # type: ignore[attr-defined]
    DBSpendUpdateWriter._insert_spend_log_to_db = _capturing_insert  # type: ignore[method-assign]

# LiteLLM's cost-tracking callback, which proxy_server.cost_tracking() builds only when it has a
# database. litellm_config.yaml lists it under litellm_settings.callbacks, which registers it once.
db_logger = ProxyDBLogger(None)
