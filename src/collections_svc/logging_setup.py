"""Structured JSON logs with the request id, actor and case id; phone numbers and names are masked."""

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


def mask_name(name: str) -> str:
    """A person's name in a log line: the first character only (张** / J***)."""
    name = str(name).strip()
    return (name[:1] + "*" * min(len(name) - 1, 8)) if len(name) > 1 else "*"


# Structured fields a log call may pass with ``extra=``; personal ones are masked on the way out.
_FIELDS = ("path", "method", "status", "duration_ms", "case_id", "notice_id", "loan_id")
_PERSONAL = {"to": _mask, "phone": _mask, "contact_name": mask_name, "person": mask_name}


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
        for key in _FIELDS:
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        for key, mask in _PERSONAL.items():
            if getattr(record, key, None):
                payload[key] = mask(str(getattr(record, key)))
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
