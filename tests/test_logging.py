"""Structured logs: JSON lines with the request id, phone numbers masked, dates left readable."""

from __future__ import annotations

import json
import logging

from collections_svc.common.context import request_id_var
from collections_svc.logging_setup import JsonFormatter


def test_log_line_is_json_with_request_id_and_masked_phones():
    token = request_id_var.set("req-42")
    try:
        rec = logging.LogRecord("x", logging.INFO, __file__, 1,
                                "sent to +8613812345678 and 13912345678 on 2026-11-29 03:38:03", None, None)
        line = json.loads(JsonFormatter().format(rec))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-42"
    assert "13812345678" not in line["msg"] and "13912345678" not in line["msg"]
    assert "2026-11-29 03:38:03" in line["msg"]
