"""Structured JSON logs with the request id and actor; phone numbers are masked."""

from __future__ import annotations

import json
import logging
import re
import sys

from collections_svc.common.context import actor_var, request_id_var

# E.164 numbers and bare CN mobiles; dates and times must stay readable.
_PHONE = re.compile(r"\+\d{8,15}\b|\b1[3-9]\d{9}\b")


def _mask(text: str) -> str:
    return _PHONE.sub(lambda m: m.group(0)[:4] + "****" + m.group(0)[-3:], text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": _mask(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "actor": getattr(record, "actor", None) or actor_var.get(),
        }
        for key in ("path", "method", "status", "duration_ms", "case_id"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exc"] = _mask(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs each run of each job at INFO (the leader-lock check runs every few seconds).
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
