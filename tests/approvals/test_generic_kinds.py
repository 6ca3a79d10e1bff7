"""The generic mechanism: other kinds (de-escalation), dedicated kinds guarded, expiry of stale proposals."""

from __future__ import annotations

import datetime as dt

from collections_svc.approvals import service
from collections_svc.auth.service import SYSTEM
from tests.cases.helpers import case_in_stage, overdue_loan
from tests.factories import make_loan


def test_de_escalation_proposal_moves_case_back_on_approval(session, settings, client, auth, users):
    loan = overdue_loan(session, settings)
    case = case_in_stage(session, loan, "visit", assignee_id=users["collector"].id)
    session.commit()
    col, sup = auth("collector"), auth("supervisor")
    r = client.post(
        "/api/v1/approvals",
        headers=col,
        json={"kind": "restructuring", "loan_id": loan.id, "case_id": case.id, "title": "x", "payload": {}},
    )
    assert r.status_code == 422 and "/restructuring" in r.json()["detail"]
    r = client.post(
        "/api/v1/approvals",
        headers=col,
        json={
            "kind": "de_escalation",
            "loan_id": loan.id,
            "case_id": case.id,
            "title": "Back to phone reminders",
            "payload": {"target": "phone_reminder", "reason": "borrower cooperative again"},
            "submit": False,
        },
    )
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["state"] == "draft"
    assert client.post(f"/api/v1/approvals/{p['id']}/approve", json={}, headers=sup).status_code == 409
    r = client.post(f"/api/v1/approvals/{p['id']}/submit", json={"version": p["version"]}, headers=col)
    assert r.status_code == 200 and r.json()["state"] == "submitted"
    stale = client.post(f"/api/v1/approvals/{p['id']}/approve", json={"version": p["version"]}, headers=sup)
    assert stale.status_code == 409  # the version moved on when it was submitted
    r = client.post(
        f"/api/v1/approvals/{p['id']}/approve", json={"version": r.json()["version"]}, headers=sup
    )
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/cases/{case.id}", headers=col).json()["stage"] == "phone_reminder"
    # read-only roles (auditors) can read the proposal and its trail
    assert client.get(f"/api/v1/approvals/{p['id']}", headers=auth("auditor")).status_code == 200


def test_stale_proposals_expire(session, settings, users):
    loan = overdue_loan(session, settings)
    now = dt.datetime(2026, 4, 1, 2, tzinfo=dt.UTC)
    p = service.create_proposal(
        session,
        settings,
        SYSTEM.__class__(users["collector"].id, "collector1", users["collector"].role),
        kind="classification_override",
        loan_id=loan.id,
        case_id=None,
        payload={"to": "substandard"},
        title="override",
        business_date=now.date(),
        now=now,
    )
    later = now + dt.timedelta(days=settings.approvals.expire_after_days - 1)
    assert service.expire_stale(session, settings, now=later, business_date=later.date(), actor=SYSTEM) == []
    later = now + dt.timedelta(days=settings.approvals.expire_after_days + 1)
    assert service.expire_stale(session, settings, now=later, business_date=later.date(), actor=SYSTEM) == [p]
    assert p.state == "expired" and [d.decision for d in p.decisions] == ["created", "submitted", "expired"]


def test_classification_override_is_an_approvals_kind_in_the_inbox(session, client, auth, users):
    loan = make_loan(session, schedule=[("2026-12-31", "1000.00", "0.00")], disbursed_on="2025-01-01")
    session.commit()
    body = {"loan_id": loan.id, "target_category": "substandard", "reason": "Borrower filed for restructuring"}
    o = client.post("/api/v1/monitoring/classification/overrides", json=body, headers=auth("risk_officer")).json()
    inbox = client.get("/api/v1/approvals", params={"decidable_only": True}, headers=auth("supervisor")).json()
    assert [(p["id"], p["kind"], p["title"]) for p in inbox] == [
        (o["id"], "classification_override", "Classification override: normal -> substandard")
    ]
    assert client.get("/api/v1/approvals", params={"decidable_only": True}, headers=auth("risk_officer")).json() == []
    one = client.get(f"/api/v1/approvals/{o['id']}", headers=auth("auditor")).json()
    assert one["payload"]["reason"] == body["reason"] and one["payload"]["from_category"] == "normal"
    # The maker may withdraw it; nothing changes on the loan and a new proposal can be made.
    r = client.post(
        f"/api/v1/approvals/{o['id']}/withdraw", json={"comment": "wrong loan"}, headers=auth("risk_officer")
    )
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    got = client.get(f"/api/v1/monitoring/classification/loans/{loan.id}", headers=auth("auditor")).json()
    assert (got["category"], got["override_id"]) == ("normal", None)
    r = client.post("/api/v1/monitoring/classification/overrides", json=body, headers=auth("risk_officer"))
    assert r.status_code == 201


def test_classification_override_shows_on_the_open_case_timeline(session, settings, client, auth, users):
    loan = overdue_loan(session, settings)
    case = case_in_stage(session, loan, "visit", assignee_id=users["collector"].id)
    session.commit()
    body = {"loan_id": loan.id, "target_category": "doubtful", "reason": "Collateral found pledged twice"}
    o = client.post("/api/v1/monitoring/classification/overrides", json=body, headers=auth("risk_officer")).json()
    assert o["case_id"] == case.id
    r = client.post(f"/api/v1/approvals/{o['id']}/approve", json={"comment": "seen"}, headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    items = client.get(f"/api/v1/cases/{case.id}/timeline", headers=auth("supervisor")).json()
    texts = [i for i in items if i.get("kind") == "approval"]
    assert [i["data"]["decision"] for i in texts] == ["created", "submitted", "approved"]
    assert all(i["data"]["proposal_kind"] == "classification_override" for i in texts)
