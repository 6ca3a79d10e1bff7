"""GET /metrics: request latency by route template, outbox and case gauges read from the database."""

from __future__ import annotations

import datetime as dt
import re

from collections_svc.notices.models import Notice
from collections_svc.sweep.models import SweepRun
from tests.notices.conftest import make_case


def _value(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in (labels or {}).items()):
            return float(m.group(4))
    raise AssertionError(f"{name}{labels or ''} not in the metrics:\n{text[:3000]}")


def _notice(case, status: str, created: dt.datetime) -> Notice:
    return Notice(case_id=case.id, channel="sms", template="reminder", locale="zh_CN",
                  trigger_key=f"t-{status}-{created.isoformat()}", business_date=created.date(),
                  to_address="+8613900000000", body="x", status=status, due_at=created,
                  next_attempt_at=created, created_at=created)


def test_metrics_need_admin_or_integration(client, auth):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth("collector")).status_code == 403
    assert client.get("/metrics", headers=auth("integration")).status_code == 200


def test_latency_histogram_is_labelled_by_route_template(client, auth):
    before = client.get("/metrics", headers=auth("admin")).text
    key = {"route": "/api/v1/loans/{loan_id}", "method": "GET", "status": "4xx"}
    try:
        start = _value(before, "collections_http_request_duration_seconds_count", key)
    except AssertionError:
        start = 0.0
    for n in (987654, 987655, 987656):
        assert client.get(f"/api/v1/loans/{n}", headers=auth("admin")).status_code == 404
    client.get("/no/such/page/at/all/123")
    text = client.get("/metrics", headers=auth("admin")).text
    assert _value(text, "collections_http_request_duration_seconds_count", key) == start + 3
    assert _value(text, "collections_http_request_duration_seconds_bucket", {**key, "le": "+Inf"}) >= 3
    assert "987654" not in text  # the raw path never becomes a label
    assert "/no/such/page" not in text


def test_outbox_case_and_sweep_gauges(client, auth, session, clock):
    now = clock.now()
    cases = [make_case(session) for _ in range(3)]
    session.add_all([
        _notice(cases[0], "queued", now - dt.timedelta(hours=2)),
        _notice(cases[0], "queued", now - dt.timedelta(minutes=5)),
        _notice(cases[1], "deferred", now - dt.timedelta(minutes=30)),
        _notice(cases[1], "sent", now - dt.timedelta(days=3)),  # older, but no longer pending
    ])
    cases[2].is_open = False
    session.add_all([
        SweepRun(business_date=dt.date(2026, 3, 30), partition="0/1", status="succeeded",
                 started_at=now - dt.timedelta(days=2), finished_at=now - dt.timedelta(days=2)),
        SweepRun(business_date=dt.date(2026, 3, 31), partition="0/2", status="succeeded",
                 started_at=now - dt.timedelta(hours=6), finished_at=now - dt.timedelta(hours=5)),
        SweepRun(business_date=dt.date(2026, 3, 31), partition="1/2", status="running",
                 started_at=now - dt.timedelta(hours=6)),
    ])
    session.commit()

    text = client.get("/metrics", headers=auth("admin")).text
    assert _value(text, "collections_outbox_notices", {"status": "queued"}) == 2
    assert _value(text, "collections_outbox_notices", {"status": "deferred"}) == 1
    assert _value(text, "collections_outbox_notices", {"status": "sent"}) == 1
    assert _value(text, "collections_outbox_notices", {"status": "failed"}) == 0
    assert _value(text, "collections_outbox_oldest_pending_age_seconds") == 2 * 3600
    assert _value(text, "collections_open_cases", {"stage": "classified"}) == 2  # the closed one is not counted
    assert _value(text, "collections_sweep_last_run_status",
                  {"business_date": "2026-03-31", "partition": "1/2", "status": "running"}) == 1
    assert _value(text, "collections_sweep_last_run_status", {"partition": "0/2", "status": "succeeded"}) == 1
    assert "2026-03-30" not in text  # only the latest business date
    assert _value(text, "collections_sweep_last_finished_timestamp_seconds") == \
        (now - dt.timedelta(hours=5)).timestamp()


def test_empty_book_reports_zeros(client, auth):
    text = client.get("/metrics", headers=auth("integration")).text
    assert _value(text, "collections_outbox_oldest_pending_age_seconds") == 0
    assert _value(text, "collections_sweep_last_finished_timestamp_seconds") == 0


def test_multiprocess_mode_merges_other_workers_request_metrics(client, auth, tmp_path, monkeypatch):
    """With PROMETHEUS_MULTIPROC_DIR set, a scrape answered by one worker includes another worker's series."""
    import os
    import subprocess
    import sys
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = ("from collections_svc.ops.metrics import REQUEST_LATENCY\n"
            "REQUEST_LATENCY.labels('/api/v1/other-worker/{x}', 'GET', '2xx').observe(0.2)\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = client.get("/metrics", headers=auth("admin")).text
    key = {"route": "/api/v1/other-worker/{x}", "method": "GET", "status": "2xx"}
    assert _value(text, "collections_http_request_duration_seconds_count", key) == 1
    assert _value(text, "collections_outbox_notices", {"status": "queued"}) == 0  # database gauges still there
