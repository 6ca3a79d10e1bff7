"""Visibility, the queue's filters and sorting, holds, assignment and the borrower view."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from collections_svc.auth.models import Role
from collections_svc.auth.service import SYSTEM, create_user
from collections_svc.cases import service
from collections_svc.cases.models import Case
from collections_svc.loans.models import Contact
from tests.cases.helpers import TODAY, case_in_stage, overdue_loan
from tests.conftest import PASSWORD, token_for


def test_collectors_see_own_and_team_cases_only(session, settings, client, auth, users):
    other = create_user(session, username="west_col", password=PASSWORD, role=Role.collector, team="west")
    mine = case_in_stage(
        session, overdue_loan(session, settings), "classified", team=None, assignee_id=users["collector"].id
    )
    team = case_in_stage(session, overdue_loan(session, settings), "letter", team="east")
    west = case_in_stage(
        session, overdue_loan(session, settings), "letter", team="west", assignee_id=other.id
    )
    session.commit()
    col = auth("collector")
    ids = {row["id"] for row in client.get("/api/v1/cases", headers=col).json()["items"]}
    assert ids == {mine.id, team.id}
    assert client.get(f"/api/v1/cases/{west.id}", headers=col).status_code == 404
    r = client.post(
        f"/api/v1/cases/{west.id}/transitions",
        headers=col,
        json={"trigger": "escalate", "target": "visit", "version": west.version},
    )
    assert r.status_code == 404
    assert (
        client.post(
            f"/api/v1/cases/{west.id}/contacts",
            headers=col,
            json={"channel": "phone", "outcome": "no_answer"},
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/cases/{west.id}/timeline", headers=col).status_code == 404
    ids = {row["id"] for row in client.get("/api/v1/cases", headers=auth("supervisor")).json()["items"]}
    assert {mine.id, team.id, west.id} <= ids
    west_headers = token_for(client, "west_col")
    assert {r["id"] for r in client.get("/api/v1/cases", headers=west_headers).json()["items"]} == {west.id}
    # writes need a working role
    assert (
        client.post(
            f"/api/v1/cases/{mine.id}/contacts",
            headers=auth("auditor"),
            json={"channel": "phone", "outcome": "no_answer"},
        ).status_code
        == 403
    )
    assert client.get("/api/v1/cases").status_code == 401


def test_queue_filters_and_sorting(session, settings, client, auth, users):
    small = case_in_stage(session, overdue_loan(session, settings, principal_due="1000"), "classified")
    big = case_in_stage(session, overdue_loan(session, settings, principal_due="5000000"), "letter")
    big.next_action_on = TODAY
    session.commit()
    sup = auth("supervisor")

    def ids(**params):
        r = client.get("/api/v1/cases", headers=sup, params=params)
        assert r.status_code == 200, r.text
        return [row["id"] for row in r.json()["items"] if row["id"] in (small.id, big.id)]

    assert ids() == [big.id, small.id]  # priority: same DPD, more overdue first
    assert ids(sort="overdue_amount") == [small.id, big.id]
    assert ids(sort="-overdue_amount") == [big.id, small.id]
    assert ids(stage="letter") == [big.id]
    assert ids(stage=["letter", "classified"]) == [big.id, small.id]
    assert ids(overdue_min="100000") == [big.id]
    assert ids(overdue_max="100000") == [small.id]
    assert ids(dpd_min=46) == [] and ids(dpd_min=45, dpd_max=45) == [big.id, small.id]
    assert ids(bucket="M2") == [big.id, small.id]
    assert ids(next_action_by=str(TODAY)) == [big.id]
    assert ids(team="east") == [big.id, small.id]
    assert ids(borrower_id=small.borrower_id) == [small.id]
    assert ids(on_hold="true") == []
    page = client.get("/api/v1/cases", headers=sup, params={"size": 1, "page": 1}).json()
    assert len(page["items"]) == 1 and page["total"] >= 2
    r = client.get("/api/v1/cases", headers=sup, params={"sort": "password"})
    assert r.status_code == 422


def test_holds_backdated_and_released(session, settings, client, auth, clock):
    case = case_in_stage(session, overdue_loan(session, settings), "phone_reminder")
    session.commit()
    col, sup = auth("collector"), auth("supervisor")
    r = client.post(
        f"/api/v1/cases/{case.id}/holds",
        headers=col,
        json={"kind": "dispute", "starts_on": "2026-03-20", "reason": "borrower disputes interest"},
    )
    assert r.status_code == 201, r.text
    hold = r.json()
    assert client.get(f"/api/v1/cases/{case.id}", headers=col).json()["on_hold"] is True
    assert [
        row["id"]
        for row in client.get("/api/v1/cases", headers=sup, params={"on_hold": "true"}).json()["items"]
    ] == [case.id]
    # the system may not escalate it while held
    session.expire_all()
    c = session.get(Case, case.id)
    with pytest.raises(Exception, match="on hold"):
        from collections_svc import states

        states.fire(session, c, "escalate", actor=SYSTEM, business_date=TODAY, target="letter")
    session.rollback()
    # collectors may not place supervisor holds
    assert (
        client.post(
            f"/api/v1/cases/{case.id}/holds", headers=col, json={"kind": "supervisor_hold"}
        ).status_code
        == 403
    )
    r = client.post(
        f"/api/v1/cases/{case.id}/holds/{hold['id']}/release", headers=col, json={"reason": "resolved"}
    )
    assert r.status_code == 200 and r.json()["ends_on"] == str(TODAY)
    assert client.get(f"/api/v1/cases/{case.id}", headers=col).json()["on_hold"] is False
    kinds = [i["kind"] for i in client.get(f"/api/v1/cases/{case.id}/timeline", headers=col).json()]
    assert "hold" in kinds and "hold_added" in kinds and "hold_released" in kinds


def test_supervisor_reassigns_many_and_it_is_audited(session, settings, client, auth, users):
    a = case_in_stage(session, overdue_loan(session, settings), "classified", team=None)
    b = case_in_stage(session, overdue_loan(session, settings), "letter", team=None)
    session.commit()
    col_id = users["collector"].id
    assert (
        client.post(
            "/api/v1/cases/assignments",
            headers=auth("collector"),
            json={"case_ids": [a.id], "assignee_id": col_id},
        ).status_code
        == 403
    )
    r = client.post(
        "/api/v1/cases/assignments",
        headers=auth("supervisor"),
        json={"case_ids": [a.id, b.id], "assignee_id": col_id},
    )
    assert r.status_code == 200, r.text
    assert {(c["assignee_id"], c["team"]) for c in r.json()} == {(col_id, "east")}
    audit = client.get("/api/v1/audit", headers=auth("auditor"), params={"entity": "case", "size": 500})
    assert audit.status_code == 200, audit.text
    reassigned = {e["entity_id"] for e in audit.json()["items"] if e["action"] == "case.reassign"}
    assert reassigned == {str(a.id), str(b.id)}
    ids = {
        row["id"]
        for row in client.get("/api/v1/cases", headers=auth("collector"), params={"mine": "true"}).json()[
            "items"
        ]
    }
    assert ids == {a.id, b.id}


def test_borrower_view_and_one_contact_for_several_cases(session, settings, client, auth):
    l1 = overdue_loan(session, settings, borrower="BV001")
    l2 = overdue_loan(session, settings, borrower="BV001")
    c1, c2 = case_in_stage(session, l1, "classified"), case_in_stage(session, l2, "letter")
    contact = session.query(Contact).filter(Contact.borrower_id == l1.borrower_id).first()
    session.commit()
    col = auth("collector")
    view = client.get(f"/api/v1/borrowers/{l1.borrower_id}/cases", headers=col).json()
    assert {ln["open_case_id"] for ln in view["loans"]} == {c1.id, c2.id}
    assert view["total_overdue"] == "204000.00"
    r = client.post(
        f"/api/v1/borrowers/{l1.borrower_id}/contact-logs",
        headers=col,
        json={
            "case_ids": [c1.id, c2.id],
            "channel": "phone",
            "outcome": "reached",
            "contact_id": contact.id,
            "note": "called the CFO about both loans",
            "next_action_on": "2026-04-03",
        },
    )
    assert r.status_code == 201, r.text
    logs = r.json()
    assert len(logs) == 2 and len({x["batch_id"] for x in logs}) == 1
    for cid in (c1.id, c2.id):
        assert client.get(f"/api/v1/cases/{cid}", headers=col).json()["next_action_on"] == "2026-04-03"
    # a case of another borrower is refused, and nothing is logged
    other = case_in_stage(session, overdue_loan(session, settings), "classified")
    session.commit()
    r = client.post(
        f"/api/v1/borrowers/{l1.borrower_id}/contact-logs",
        headers=col,
        json={"case_ids": [c1.id, other.id], "channel": "phone", "outcome": "reached"},
    )
    assert r.status_code == 422
    assert len(client.get(f"/api/v1/cases/{c1.id}/contacts", headers=col).json()) == 1
    # a contact of another borrower may not be used (CN-COL-01)
    foreign = session.query(Contact).filter(Contact.borrower_id == other.borrower_id).first()
    r = client.post(
        f"/api/v1/cases/{c1.id}/contacts",
        headers=col,
        json={"channel": "phone", "outcome": "reached", "contact_id": foreign.id},
    )
    assert r.status_code == 422


def test_open_case_is_idempotent_and_the_database_guards_it(session, settings):
    loan = overdue_loan(session, settings)
    c = service.open_case(session, loan.id, business_date=TODAY, actor=SYSTEM)
    assert service.open_case(session, loan.id, business_date=TODAY, actor=SYSTEM).id == c.id
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            Case(
                loan_id=loan.id,
                borrower_id=loan.borrower_id,
                opened_on=TODAY,
                stage_entered_on=TODAY,
                is_open=True,
                broken_promises=0,
            )
        )
        session.flush()


def test_open_case_needs_an_overdue_loan(session, settings, client, auth):
    from collections_svc.loans import dpd
    from tests.factories import make_loan

    loan = make_loan(session, schedule=[("2026-06-15", "1000", "10")])
    dpd.run_dpd(session, TODAY, settings.dpd, loan_ids=[loan.id])
    session.commit()
    r = client.post("/api/v1/cases", json={"loan_id": loan.id}, headers=auth("collector"))
    assert r.status_code == 409 and "nothing overdue" in r.json()["detail"]


def test_priority_follows_payments_and_broken_promises(session, settings, client, auth, clock):
    from tests.factories import pay

    loan = overdue_loan(session, settings)
    case = service.open_case(session, loan.id, business_date=TODAY, actor=SYSTEM)
    assert case.priority == 45 + 10  # DPD 45 + 102,000 overdue (10 units of 10,000)
    pay(session, settings, loan, "50000.00", str(TODAY))
    session.refresh(case)
    assert case.priority == 45 + 5
    service.add_promise(
        session,
        case,
        service.PromiseIn(Decimal("100"), TODAY + dt.timedelta(days=1)),
        actor=SYSTEM,
        business_date=TODAY + dt.timedelta(days=1),
    )
    service.evaluate_promises(session, TODAY + dt.timedelta(days=3))
    session.refresh(case)
    assert case.broken_promises == 1 and case.priority == 45 + 5 + 25
