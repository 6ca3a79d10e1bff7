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


def test_personal_fields_passed_as_extra_are_masked_and_ids_kept():
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "notice sent", None, None)
    rec.to, rec.contact_name, rec.case_id, rec.notice_id = "+8613812345678", "张三丰", 42, 7
    line = json.loads(JsonFormatter().format(rec))
    assert line["to"] == "+861****678" and line["contact_name"] == "张**"
    assert line["case_id"] == 42 and line["notice_id"] == 7
    out = json.dumps(line, ensure_ascii=False)
    assert "13812345678" not in out and "三丰" not in out
