"""Letters: Chinese PDF via WeasyPrint, stored and downloadable, merged into a daily print batch; previews."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from pypdf import PdfReader

from collections_svc.cases.models import Case
from collections_svc.loans.models import Borrower
from collections_svc.notices import service
from collections_svc.notices.channels.console import ConsoleSender
from collections_svc.notices.dispatcher import dispatch_batch
from tests.notices.conftest import make_case

D = dt.date(2026, 4, 1)


@pytest.fixture
def clock(wed_10am):
    return wed_10am


def _text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _letters(session, session_factory, settings, clock, n=2):
    out = []
    for _ in range(n):
        case = make_case(session)
        out.append(
            service.enqueue(
                session, case, "first_demand", trigger_key="stage:letter", business_date=D, settings=settings
            )
        )
    session.commit()
    counts = dispatch_batch(session_factory, ConsoleSender(settings.notices.console_outbox), clock, settings)
    assert counts.sent == n
    for x in out:
        session.refresh(x)
    return out


def test_chinese_letter_pdf_contains_name_and_uppercase_amount(
    session, session_factory, settings, clock, client, auth
):
    (n,) = _letters(session, session_factory, settings, clock, n=1)
    assert n.status == "sent" and n.document_path.endswith(f"notice-{n.id}.pdf")
    borrower_name = session.get(Borrower, session.get(Case, n.case_id).borrower_id).name
    r = client.get(f"/api/v1/notices/{n.id}/pdf", headers=auth("collector"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = _text(r.content)
    assert borrower_name in text
    assert "壹拾陆万柒仟贰佰伍拾元整" in text  # 167,250.00 overdue as of 2026-04-01
    assert "催" in text and "异议" in text
    assert client.get(f"/api/v1/notices/{n.id}/pdf").status_code == 401


def test_daily_print_batch_merges_letters_with_a_manifest(
    session, session_factory, settings, clock, client, auth
):
    letters = _letters(session, session_factory, settings, clock, n=3)
    r = client.post("/api/v1/notices/print-batches", params={"day": "2026-04-01"}, headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["letters"] == 3 and body["pages"] >= 3
    pdf = client.get(body["pdf_url"], headers=auth("supervisor"))
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == body["pages"]
    manifest = client.get(body["manifest_url"], headers=auth("supervisor")).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(manifest)))
    assert [int(r["notice_id"]) for r in rows] == [n.id for n in letters]
    assert rows[0]["first_page"] == "1"
    assert (
        client.post(
            "/api/v1/notices/print-batches", params={"day": "2026-04-02"}, headers=auth("supervisor")
        ).status_code
        == 404
    )
    assert client.post("/api/v1/notices/print-batches", headers=auth("collector")).status_code == 403


def test_preview_renders_without_sending(session, settings, client, auth):
    case = make_case(session)
    session.commit()
    h = auth("collector")
    r = client.get(
        f"/api/v1/cases/{case.id}/notices/preview", params={"template": "first_reminder"}, headers=h
    )
    assert r.status_code == 200, r.text
    assert "¥167,250.00" in r.json()["body"] and r.json()["channel"] == "sms"
    r = client.post(
        f"/api/v1/cases/{case.id}/notices/preview",
        params={"template": "promise_reminder", "locale": "en"},
        json={"extra": {"promise_amount": "5000.00", "promise_date": "2026-04-09"}},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert "CN¥5,000.00" in r.json()["body"] and "2026-04-09" in r.json()["body"]
    assert r.json()["sample_values_used"] == []
    r = client.get(
        f"/api/v1/cases/{case.id}/notices/preview", params={"template": "visit_announced"}, headers=h
    )
    assert r.json()["sample_values_used"] == ["visit_date"]
    r = client.post(
        f"/api/v1/cases/{case.id}/notices/preview",
        params={"template": "first_demand", "format": "pdf"},
        headers=h,
    )
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert client.get(f"/api/v1/cases/{case.id}/notices", headers=h).json() == []  # nothing queued
    bad = client.get(f"/api/v1/cases/{case.id}/notices/preview", params={"template": "nope"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "template"
    assert (
        client.get(
            "/api/v1/cases/999999/notices/preview", params={"template": "first_reminder"}, headers=h
        ).status_code
        == 404
    )


def test_case_notices_list_shows_status_history(session, session_factory, settings, clock, client, auth):
    (n,) = _letters(session, session_factory, settings, clock, n=1)
    r = client.get(f"/api/v1/cases/{n.case_id}/notices", headers=auth("auditor"))
    assert r.status_code == 200
    (item,) = r.json()
    assert item["status"] == "sent" and item["has_document"] is True
    assert [e["status"] for e in item["status_events"]] == ["queued", "sent"]
    d = client.get(f"/api/v1/notices/{n.id}", headers=auth("auditor")).json()
    assert d["attempts_log"][0]["outcome"] == "sent" and "<html" in d["body"]


def test_supervisor_cancels_a_queued_notice_with_a_reason(session, settings, client, auth):
    from sqlalchemy import select

    from collections_svc.audit.models import AuditEvent

    case = make_case(session)
    n = service.enqueue(
        session, case, "first_reminder", trigger_key="dpd:1", business_date=D, settings=settings
    )
    session.commit()
    url = f"/api/v1/notices/{n.id}/cancel"
    assert client.post(url, json={"reason": "borrower paid"}, headers=auth("collector")).status_code == 403
    r = client.post(url, json={"reason": "borrower paid in full"}, headers=auth("supervisor"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert [e["status"] for e in r.json()["status_events"]] == ["queued", "cancelled"]
    again = client.post(url, json={"reason": "twice"}, headers=auth("supervisor"))
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "notice.cancel"))
