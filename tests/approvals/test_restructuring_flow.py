"""The issue's Done-when, through the API: maker-checker on a restructuring, approval and rejection."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from collections_svc.audit.models import AuditEvent
from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.loans.models import Installment, Loan
from collections_svc.restructuring.models import Observation, ScheduleArchive
from tests.cases.helpers import case_in_stage, overdue_loan
from tests.conftest import PASSWORD, token_for

TERMS = {
    "reason_code": "overdue",
    "effective_on": "2026-04-01",
    "method": "equal_principal",
    "first_due_on": "2026-05-01",
    "count": 12,
    "frequency_months": 1,
}


def _setup(session, settings, users, client):
    low = create_user(
        session,
        username="sup_low",
        password=PASSWORD,
        role=Role.supervisor,
        team="east",
        approval_limit=Decimal("50000"),
    )
    loan = overdue_loan(session, settings)  # outstanding principal 200,000; DPD 45
    case = case_in_stage(session, loan, "phone_reminder", assignee_id=users["collector"].id)
    session.commit()
    return loan, case, low, token_for(client, "sup_low")


def _propose(client, auth, case_id):
    r = client.post(
        f"/api/v1/cases/{case_id}/restructuring",
        json={"terms": TERMS, "comment": "cash squeeze"},
        headers=auth("collector"),
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_collector_proposes_maker_cannot_approve_low_limit_cannot_qualified_approves(
    session, settings, client, auth, users
):
    loan, case, low, low_h = _setup(session, settings, users, client)
    p = _propose(client, auth, case.id)
    assert (p["kind"], p["state"], p["amount"], p["maker"]) == (
        "restructuring",
        "submitted",
        "200000.00",
        "collector1",
    )
    plan = p["payload"]["plan"]
    assert plan["types"] == ["term_extension", "new_installment_plan"]
    assert plan["totals"]["new"]["principal"] == "200000.00"
    assert plan["totals"]["old"]["principal"] == "200000.00"
    assert plan["new_schedule"][0]["interest"] == "2725.00"  # 725.00 this month + 2,000.00 arrears
    assert p["payload"]["came_from_stage"] == "phone_reminder"
    assert (
        client.get(f"/api/v1/cases/{case.id}", headers=auth("collector")).json()["stage"] == "restructuring"
    )

    # the maker cannot approve their own proposal
    r = client.post(
        f"/api/v1/approvals/{p['id']}/approve", json={"version": p["version"]}, headers=auth("collector")
    )
    assert r.status_code == 403 and "maker-checker" in r.json()["detail"]
    # a supervisor with a 50,000 limit cannot approve 200,000; the message names the limit needed
    r = client.post(f"/api/v1/approvals/{p['id']}/approve", json={"version": p["version"]}, headers=low_h)
    assert r.status_code == 403, r.text
    body = r.json()
    assert "200,000.00" in body["detail"] and "50,000.00" in body["detail"]
    assert body["required_limit"] == "200000.00" and "supervisor1" in body["escalate_to"]
    # the inbox shows it to the qualified supervisor as decidable, not to the low one
    inbox = client.get("/api/v1/approvals", headers=auth("supervisor")).json()
    assert [(i["id"], i["can_decide"]) for i in inbox] == [(p["id"], True)]
    assert client.get("/api/v1/approvals", headers=low_h).json()[0]["can_decide"] is False

    r = client.post(
        f"/api/v1/approvals/{p['id']}/approve",
        json={"version": p["version"], "comment": "ok"},
        headers=auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "approved"
    assert done["outcome"]["observation_starts_on"] == "2026-05-01"
    assert done["outcome"]["observation_ends_on"] == "2027-05-01"  # max(2nd due 2026-06-01, +1 year)
    assert [d["decision"] for d in done["decisions"]] == ["created", "submitted", "approved"]

    session.expire_all()
    lo = session.get(Loan, loan.id)
    assert (lo.restructured, lo.restructure_count, str(lo.maturity_on), lo.dpd) == (True, 1, "2027-04-01", 0)
    insts = session.scalars(
        select(Installment).where(Installment.loan_id == loan.id).order_by(Installment.seq)
    ).all()
    assert len(insts) == 12 and insts[0].due_on.isoformat() == "2026-05-01"
    assert sum(i.principal_due for i in insts) == Decimal("200000.00")
    assert insts[-1].principal_due == Decimal("16666.74") and insts[0].principal_due == Decimal("16666.66")
    archived = session.scalars(select(ScheduleArchive).where(ScheduleArchive.loan_id == loan.id)).all()
    assert [(a.schedule_version, str(a.due_on)) for a in archived] == [(1, "2026-02-15"), (1, "2026-08-15")]
    obs = session.scalars(select(Observation).where(Observation.loan_id == loan.id)).one()
    assert (str(obs.starts_on), str(obs.ends_on), obs.status) == ("2026-05-01", "2027-05-01", "active")

    c = client.get(f"/api/v1/cases/{case.id}", headers=auth("supervisor")).json()
    assert (c["stage"], c["is_open"]) == ("restructured", False)

    # every approval action: audit log and case timeline
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity == "approval_proposal", AuditEvent.entity_id == str(p["id"]))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["approval.created", "approval.submitted", "approval.approved"]
    tl = client.get(f"/api/v1/cases/{case.id}/timeline", headers=auth("supervisor")).json()
    approval_items = [i for i in tl if i["kind"] == "approval"]
    assert [i["data"]["decision"] for i in approval_items] == ["created", "submitted", "approved"]
    assert [i["actor"] for i in approval_items] == ["collector1", "collector1", "supervisor1"]
    stage_moves = [(i["data"]["trigger"], i["data"]["to_stage"]) for i in tl if i["kind"] == "stage_change"]
    assert stage_moves == [("open_negotiation", "restructuring"), ("restructure", "restructured")]

    # a decided proposal cannot be decided again
    r = client.post(f"/api/v1/approvals/{p['id']}/reject", json={"comment": "late"}, headers=auth("admin"))
    assert r.status_code == 409


def test_rejection_returns_case_to_where_it_came_from(session, settings, client, auth, users):
    loan, case, low, low_h = _setup(session, settings, users, client)
    p = _propose(client, auth, case.id)
    r = client.post(f"/api/v1/approvals/{p['id']}/reject", json={"comment": "no"}, headers=auth("collector"))
    assert r.status_code == 403  # the maker cannot reject either
    r = client.post(f"/api/v1/approvals/{p['id']}/reject", json={"comment": "too weak"}, headers=low_h)
    assert r.status_code == 403 and "200,000.00" in r.json()["detail"]
    r = client.post(f"/api/v1/approvals/{p['id']}/reject", json={}, headers=auth("supervisor"))
    assert r.status_code == 422  # a rejection needs a reason
    r = client.post(
        f"/api/v1/approvals/{p['id']}/reject",
        json={"version": p["version"], "comment": "cash-flow forecast not credible"},
        headers=auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rejected"

    session.expire_all()
    lo = session.get(Loan, loan.id)
    assert (lo.restructured, lo.restructure_count, str(lo.maturity_on)) == (False, 0, "2026-08-15")
    assert [str(i.due_on) for i in lo.installments] == ["2026-02-15", "2026-08-15"]
    assert session.scalars(select(Observation).where(Observation.loan_id == loan.id)).all() == []
    c = client.get(f"/api/v1/cases/{case.id}", headers=auth("supervisor")).json()
    assert (c["stage"], c["is_open"]) == ("phone_reminder", True)
    tl = client.get(f"/api/v1/cases/{case.id}/timeline", headers=auth("supervisor")).json()
    back = [i for i in tl if i["kind"] == "stage_change"][-1]
    assert (
        back["data"]["trigger"] == "de_escalate"
        and "cash-flow forecast not credible" in back["data"]["reason"]
    )
    rejected = [i for i in tl if i["kind"] == "approval" and i["data"]["decision"] == "rejected"]
    assert len(rejected) == 1 and "cash-flow forecast not credible" in rejected[0]["title"]
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "approval_proposal").order_by(AuditEvent.id)
    ).all()
    assert actions == ["approval.created", "approval.submitted", "approval.rejected"]


def test_admin_maker_cannot_approve_own_and_second_approval_above_threshold(
    session, settings, client, auth, users
):
    settings.approvals.second_approval_above = Decimal("100000")
    loan, case, low, low_h = _setup(session, settings, users, client)
    r = client.post(f"/api/v1/cases/{case.id}/restructuring", json={"terms": TERMS}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["approvals_required"] == 2
    r = client.post(f"/api/v1/approvals/{p['id']}/approve", json={}, headers=auth("admin"))
    assert r.status_code == 403 and "administrators included" in r.json()["detail"]
    r = client.post(
        f"/api/v1/approvals/{p['id']}/approve", json={"comment": "first"}, headers=auth("supervisor")
    )
    assert r.status_code == 200 and (r.json()["state"], r.json()["approvals_received"]) == ("submitted", 1)
    r = client.post(f"/api/v1/approvals/{p['id']}/approve", json={}, headers=auth("supervisor"))
    assert r.status_code == 403 and "someone else" in r.json()["detail"]
    create_user(session, username="sup_two", password=PASSWORD, role=Role.supervisor, team="east")
    session.commit()
    r = client.post(
        f"/api/v1/approvals/{p['id']}/approve",
        json={"comment": "second"},
        headers=token_for(client, "sup_two"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved"
    assert (
        client.get(f"/api/v1/cases/{case.id}", headers=auth("supervisor")).json()["stage"] == "restructured"
    )


def test_inbox_filters_and_overdue_flag(session, settings, client, auth, users, clock):
    loan, case, low, low_h = _setup(session, settings, users, client)
    p = _propose(client, auth, case.id)
    sup = auth("supervisor")
    assert client.get("/api/v1/approvals?kind=write_off", headers=sup).json() == []
    assert client.get("/api/v1/approvals?min_amount=300000", headers=sup).json() == []
    assert [i["id"] for i in client.get("/api/v1/approvals?max_amount=200000", headers=sup).json()] == [
        p["id"]
    ]
    assert client.get("/api/v1/approvals?min_age_hours=1", headers=sup).json() == []
    row = client.get("/api/v1/approvals", headers=sup).json()[0]
    assert row["overdue"] is False
    clock.advance(hours=settings.approvals.pending_alert_hours + 1)
    row = client.get("/api/v1/approvals?overdue_only=true", headers=sup).json()[0]
    assert row["overdue"] is True and row["age_hours"] > settings.approvals.pending_alert_hours
    # the maker withdraws: it leaves the inbox and the trail says so
    r = client.post(
        f"/api/v1/approvals/{p['id']}/withdraw", json={"comment": "borrower paid"}, headers=auth("collector")
    )
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    assert client.get("/api/v1/approvals", headers=sup).json() == []


def test_approval_refused_when_the_loan_changed_since_the_proposal(session, settings, client, auth, users):
    from tests.factories import pay

    loan, case, low, low_h = _setup(session, settings, users, client)
    p = _propose(client, auth, case.id)
    pay(session, settings, session.get(Loan, loan.id), "52000.00", "2026-04-01")  # 2,000 interest + 50,000
    session.commit()
    r = client.post(f"/api/v1/approvals/{p['id']}/approve", json={}, headers=auth("supervisor"))
    assert r.status_code == 409 and "withdraw the proposal and propose again" in r.json()["detail"]
    got = client.get(f"/api/v1/approvals/{p['id']}", headers=auth("supervisor")).json()
    assert got["state"] == "submitted" and [d["decision"] for d in got["decisions"]] == [
        "created",
        "submitted",
    ]
    session.expire_all()
    assert session.get(Loan, loan.id).restructure_count == 0
