"""LiteLLM proxy callback for fixture capture: one JSON line per StandardLoggingPayload.

Referenced from litellm_config.yaml as ``jsonl_callback.proxy_handler_instance``. Every success
and failure event LiteLLM hands to logging callbacks is written as
``kwargs["standard_logging_object"]`` (unchanged, ``json.dumps(default=str)``) to
``$CCSTATS_CAPTURE_OUT/callbacks.jsonl`` (default: ``<repo>/sample_logs``).

If an event arrives without a standard_logging_object, a stub line
``{"_capture_note": "no standard_logging_object", "_event": ..., "litellm_call_id": ..., "call_type": ...}``
is written instead, so such events are visible rather than silently lost.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from litellm.integrations.custom_logger import CustomLogger

OUT_DIR = Path(os.environ.get("CCSTATS_CAPTURE_OUT") or Path(__file__).resolve().parents[2] / "sample_logs")
CALLBACKS_PATH = OUT_DIR / "callbacks.jsonl"
_lock = threading.Lock()


def _append(obj: object) -> None:
    line = json.dumps(obj, default=str)
    with _lock, open(CALLBACKS_PATH, "a", encoding="utf-8") as f:
        f.write(line + "\n")


class JsonlStandardPayloadLogger(CustomLogger):
    def _write(self, event: str, kwargs: dict) -> None:
        payload = kwargs.get("standard_logging_object")
        if payload is None:
            _append(
                {
                    "_capture_note": "no standard_logging_object",
                    "_event": event,
                    "litellm_call_id": kwargs.get("litellm_call_id"),
                    "call_type": kwargs.get("call_type"),
                    "model": kwargs.get("model"),
                }
            )
        else:
            _append(payload)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._write("success", kwargs)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._write("failure", kwargs)


proxy_handler_instance = JsonlStandardPayloadLogger()
