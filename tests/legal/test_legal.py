"""Legal referral with its dossier PDF, legal case tracking, write-off and recoveries."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from collections_svc.audit.models import AuditEvent
from collections_svc.loans.models import Contact, Loan, LoanStatus
from tests.cases.helpers import case_in_stage, overdue_loan
from tests.factories import pay

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NOTES = [
    "第一次致电：财务总监称资金紧张",
    "第二次致电：无人接听",
    "短信提醒已发送",
    "第四次致电：承诺月底还款",
    "上门拜访：厂区停产",
]


def test_referral_dossier_pdf_and_legal_tracking(session, settings, client, auth, users, tmp_path):
    settings.attachments_dir = str(tmp_path / "att")
    loan = overdue_loan(session, settings)
    case = case_in_stage(session, loan, "visit", assignee_id=users["collector"].id)
    contact = session.scalars(select(Contact).where(Contact.borrower_id == loan.borrower_id)).first()
    borrower_name, contact_name = loan.borrower.name, contact.name
    session.commit()
    col, sup = auth("collector"), auth("supervisor")
    channels = ["phone", "phone", "sms", "phone", "visit"]
    outcomes = ["reached", "no_answer", "left_message", "promised", "refused"]
    for ch, oc, note in zip(channels, outcomes, NOTES, strict=True):
        body = {"channel": ch, "outcome": oc, "contact_id": contact.id, "note": note}
        if oc == "promised":
            body["promise"] = {"amount": "30000.00", "due_on": "2026-04-30"}
        r = client.post(f"/api/v1/cases/{case.id}/contacts", headers=col, json=body)
        assert r.status_code == 201, r.text

    r = client.post(
        f"/api/v1/cases/{case.id}/visits",
        headers=col,
        json={"scheduled_on": "2026-04-01", "address": "上海市浦东新区张江路1号"},
    )
    assert r.status_code == 201, r.text
    visit = r.json()
    r = client.post(
        f"/api/v1/visits/{visit['id']}/report",
        headers=col,
        json={
            "findings": "厂区停产，设备已抵押",
            "operating_status": "suspended",
            "collateral_status": "intact",
            "version": visit["version"],
        },
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/visits/{visit['id']}/attachments",
        headers=col,
        files={"file": ("gate.png", PNG, "image/png")},
    )
    assert r.status_code == 201, r.text

    r = client.post(
        f"/api/v1/cases/{case.id}/legal-referral",
        headers=col,
        json={
            "reason": "多次催收无果，申请诉讼",
            "body_type": "court",
            "body_name": "上海市浦东新区人民法院",
        },
    )
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["kind"] == "legal_referral" and Decimal(p["payload"]["claim_amount"]) == Decimal("202000.00")

    # the dossier: one PDF, Chinese names, every contact attempt
    r = client.get(f"/api/v1/cases/{case.id}/legal-dossier.pdf", headers=sup)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    flat = "".join(text.split())
    assert borrower_name in flat and contact_name in flat
    for note in NOTES:
        assert "".join(note.split()) in flat, note
    assert "催收联系记录Contactattempts(5)" in flat
    assert "legal_referral" in flat and "submitted" in flat  # prior approvals, incl. this one
    assert "30000.00" in flat and "2026-04-30" in flat  # the promise
    assert "厂区停产，设备已抵押" in flat and "gate.png" in flat  # the visit report and its attachment
    r = client.get(f"/api/v1/cases/{case.id}/legal-dossier.zip", headers=sup)
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        assert names[0] == f"dossier-case-{case.id}.pdf" and z.read(names[0]).startswith(b"%PDF-")
        [att] = [n for n in names if n.startswith("attachments/")]
        assert att.endswith("gate.png") and z.read(att) == PNG

    # the maker cannot approve; the supervisor does: the case moves to legal, a legal case opens
    assert client.post(f"/api/v1/approvals/{p['id']}/approve", json={}, headers=col).status_code == 403
    r = client.post(f"/api/v1/approvals/{p['id']}/approve", json={"comment": "同意起诉"}, headers=sup)
    assert r.status_code == 200, r.text
    lc_id = r.json()["outcome"]["legal_case_id"]
    assert client.get(f"/api/v1/cases/{case.id}", headers=col).json()["stage"] == "legal"

    lc = client.get(f"/api/v1/legal/cases/{lc_id}", headers=col).json()
    assert (lc["status"], lc["body_name"], lc["claim_amount"]) == (
        "preparing",
        "上海市浦东新区人民法院",
        "202000.00",
    )
    r = client.patch(
        f"/api/v1/legal/cases/{lc_id}",
        headers=col,
        json={"version": lc["version"], "case_number": "(2026)沪0115民初1234号"},
    )
    assert r.status_code == 200 and r.json()["case_number"] == "(2026)沪0115民初1234号"
    stale = client.patch(
        f"/api/v1/legal/cases/{lc_id}", headers=col, json={"version": lc["version"], "counsel": "x"}
    )
    assert stale.status_code == 409
    for ev in (
        {"kind": "filing", "on": "2026-04-05"},
        {"kind": "hearing", "on": "2026-05-20", "note": "第一次开庭"},
        {"kind": "cost", "on": "2026-04-05", "amount": "2500.00", "note": "诉讼费"},
        {
            "kind": "judgment",
            "on": "2026-06-30",
            "amount": "202000.00",
            "deadline_on": "2026-07-15",
            "task_title": "上诉期届满，申请强制执行",
        },
        {"kind": "recovery", "on": "2026-08-01", "amount": "50000.00"},
    ):
        r = client.post(f"/api/v1/legal/cases/{lc_id}/events", headers=col, json=ev)
        assert r.status_code == 201, r.text
    lc = client.get(f"/api/v1/legal/cases/{lc_id}", headers=col).json()
    assert (
        lc["status"] == "judgment" and lc["filed_on"] == "2026-04-05" and lc["judgment_amount"] == "202000.00"
    )
    assert [(t["title"], t["due_on"], t["status"]) for t in lc["tasks"]] == [
        ("Attend hearing on 2026-05-20", "2026-05-20", "open"),
        ("上诉期届满，申请强制执行", "2026-07-15", "open"),
    ]
    assert lc["totals"] == {"recovered": "50000.00", "costs": "2500.00", "claims": "0"}
    due = client.get("/api/v1/legal/tasks?due_by=2026-06-01", headers=col).json()
    assert [t["title"] for t in due] == ["Attend hearing on 2026-05-20"]
    t = lc["tasks"][0]
    r = client.post(f"/api/v1/legal/tasks/{t['id']}/done", headers=col, json={"version": t["version"]})
    assert r.status_code == 200 and r.json()["status"] == "done"
    r = client.post(
        f"/api/v1/legal/cases/{lc_id}/events", headers=col, json={"kind": "cost", "on": "2026-04-05"}
    )
    assert r.status_code == 422

    tl = client.get(f"/api/v1/cases/{case.id}/timeline", headers=sup).json()
    assert [i["data"]["decision"] for i in tl if i["kind"] == "approval"] == [
        "created",
        "submitted",
        "approved",
    ]
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "legal_case")).all())
    assert {"legal_case.create", "legal_case.update", "legal_case.hearing", "legal_case.judgment"} <= actions


def test_dossier_pdf_without_contacts_still_renders(session, settings, client, auth, users):
    loan = overdue_loan(session, settings)
    case = case_in_stage(session, loan, "letter")
    session.commit()
    r = client.get(f"/api/v1/cases/{case.id}/legal-dossier.pdf", headers=auth("admin"))
    assert r.status_code == 200
    flat = "".join("".join(pg.extract_text() for pg in PdfReader(io.BytesIO(r.content)).pages).split())
    assert "Contactattempts(0)" in flat and loan.external_id in flat


def test_write_off_and_later_recovery(session, settings, client, auth, users):
    loan = overdue_loan(session, settings)
    case = case_in_stage(session, loan, "legal", assignee_id=users["collector"].id)
    session.commit()
    r = client.post(
        f"/api/v1/loans/{loan.id}/write-off",
        headers=auth("collector"),
        json={"reason": "借款人破产清算，无可执行财产"},
    )
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["kind"] == "write_off" and p["case_id"] == case.id
    assert p["payload"]["written_off_amount"] == "202000.00"  # principal + interest due so far
    r = client.post(
        f"/api/v1/approvals/{p['id']}/reject", json={"comment": "先完成执行程序"}, headers=auth("supervisor")
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    assert client.get(f"/api/v1/cases/{case.id}", headers=auth("supervisor")).json()["stage"] == "legal"

    r = client.post(
        f"/api/v1/loans/{loan.id}/write-off", headers=auth("collector"), json={"reason": "执行终结"}
    )
    p = r.json()
    r = client.post(
        f"/api/v1/approvals/{p['id']}/approve", json={"comment": "同意核销"}, headers=auth("supervisor")
    )
    assert r.status_code == 200, r.text
    session.expire_all()
    assert session.get(Loan, loan.id).status == LoanStatus.written_off
    c = client.get(f"/api/v1/cases/{case.id}", headers=auth("supervisor")).json()
    assert (c["stage"], c["is_open"]) == ("written_off", False)

    # money received afterwards is a recovery and is reported as one
    pay(session, settings, session.get(Loan, loan.id), "12345.67", "2026-04-01")
    session.commit()
    rec = client.get(f"/api/v1/legal/recoveries?loan_id={loan.id}", headers=auth("auditor")).json()
    assert (rec["count"], rec["total"]) == (1, "12345.67")
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "loan.write_off")).all() == [
        "loan.write_off"
    ]
