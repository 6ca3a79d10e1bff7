"""Review plans, due review tasks, overdue flags and review reports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.monitoring.classification import classify_book
from collections_svc.monitoring.models import ReviewTask
from collections_svc.monitoring.nightly import run_monitoring
from collections_svc.monitoring.reviews import generate_due_reviews
from tests.factories import make_loan

D = dt.date.fromisoformat
API = "/api/v1/monitoring"


def tasks(session, **filters):
    stmt = select(ReviewTask).order_by(ReviewTask.due_on, ReviewTask.id)
    for k, v in filters.items():
        stmt = stmt.where(getattr(ReviewTask, k) == v)
    return session.scalars(stmt).all()


def test_first_routine_and_pre_maturity_checks_follow_the_plan(session, settings):
    rm = create_user(
        session, username="rm1", password="correct-horse-battery", role=Role.collector, team="east"
    )
    loan = make_loan(session, schedule=[("2026-12-31", "1000.00", "0.00")], disbursed_on="2026-03-01")
    loan.borrower.relationship_manager_id = rm.id
    fixed = make_loan(
        session,
        schedule=[("2027-12-31", "1000.00", "0.00")],
        disbursed_on="2026-03-01",
        product="fixed_asset",
    )
    session.flush()
    res = generate_due_reviews(session, D("2026-03-25"), settings)
    # working capital: first check 30 days after disbursement (2026-03-31, inside the 7-day lead);
    # fixed asset: 15 days (2026-03-16).
    assert res.first_check == 2
    first = {t.loan_id: t for t in tasks(session, kind="first_check")}
    assert first[loan.id].due_on == D("2026-03-31") and first[loan.id].assignee_id == rm.id
    assert first[fixed.id].due_on == D("2026-03-16")
    again = generate_due_reviews(session, D("2026-03-25"), settings)
    assert (again.first_check, again.routine, again.pre_maturity) == (0, 0, 0)  # idempotent
    # Routine: normal working capital every 12 months from disbursement; pre-maturity 30 days before.
    generate_due_reviews(session, D("2026-12-05"), settings)
    assert [t.due_on for t in tasks(session, kind="pre_maturity", loan_id=loan.id)] == [D("2026-12-01")]
    assert tasks(session, kind="routine", borrower_id=loan.borrower_id) == []
    generate_due_reviews(session, D("2027-02-25"), settings)
    assert [t.due_on for t in tasks(session, kind="routine", borrower_id=loan.borrower_id)] == [
        D("2027-03-01")
    ]


def test_worse_category_means_more_frequent_routine_checks(session, settings):
    make_loan(
        session,
        schedule=[("2026-01-01", "1000.00", "0.00"), ("2027-12-31", "1000.00", "0.00")],
        disbursed_on="2025-06-01",
    )
    from collections_svc.loans.dpd import run_dpd

    run_dpd(session, D("2026-04-15"), settings.dpd)  # DPD 104: substandard -> every 3 months
    classify_book(session, D("2026-04-15"), settings)
    generate_due_reviews(session, D("2026-04-15"), settings)
    assert [t.due_on for t in tasks(session, kind="routine")] == [D("2025-09-01")]


def test_overdue_review_is_flagged_to_the_team_supervisor(session, settings):
    rm = create_user(
        session, username="rm2", password="correct-horse-battery", role=Role.collector, team="north"
    )
    boss = create_user(
        session, username="boss2", password="correct-horse-battery", role=Role.supervisor, team="north"
    )
    loan = make_loan(session, schedule=[("2027-12-31", "1000.00", "0.00")], disbursed_on="2026-03-01")
    loan.borrower.relationship_manager_id = rm.id
    session.flush()
    generate_due_reviews(session, D("2026-03-28"), settings)
    t = tasks(session, kind="first_check")[0]
    assert t.overdue_flagged_on is None
    res = generate_due_reviews(session, D("2026-04-02"), settings)
    assert res.overdue_flagged == 1
    session.refresh(t)
    assert (t.overdue_flagged_on, t.escalated_to_id) == (D("2026-04-02"), boss.id)
    assert generate_due_reviews(session, D("2026-04-03"), settings).overdue_flagged == 0


def test_review_report_completes_the_task_and_resets_routine(client, auth, session, users, settings):
    loan = make_loan(session, schedule=[("2027-12-31", "1000.00", "0.00")], disbursed_on="2025-03-01")
    loan.borrower.relationship_manager_id = users["collector"].id
    session.commit()
    r = client.post(
        f"{API}/reviews/generate", json={"business_date": "2026-03-28"}, headers=auth("risk_officer")
    )
    assert r.status_code == 200, r.text
    due = client.get(
        f"{API}/reviews/due", params={"assignee_id": users["collector"].id}, headers=auth("collector")
    ).json()
    routine = next(t for t in due if t["kind"] == "routine")
    assert routine["due_on"] == "2026-03-01"
    overdue = client.get(f"{API}/reviews/due", params={"overdue": True}, headers=auth("auditor")).json()
    assert routine["id"] in [t["id"] for t in overdue]
    body = {
        "borrower_id": loan.borrower_id,
        "task_id": routine["id"],
        "review_type": "routine",
        "review_date": "2026-03-30",
        "on_site": True,
        "findings": {
            "operations": "Plant running two shifts",
            "finances": "Stable",
            "use_of_funds": "As agreed",
            "collateral": "Inspected, in good order",
            "guarantors": "Unchanged",
        },
        "conclusion": "No concerns",
        "recommended_category": "normal",
    }
    r = client.post(f"{API}/reviews/reports", json=body, headers=auth("collector"))
    assert r.status_code == 201, r.text
    assert client.post(f"{API}/reviews/reports", json=body, headers=auth("collector")).status_code == 409
    assert client.post(f"{API}/reviews/reports", json=body, headers=auth("auditor")).status_code == 403
    reports = client.get(f"{API}/borrowers/{loan.borrower_id}/reviews", headers=auth("auditor")).json()
    assert reports[0]["findings"]["collateral"] == "Inspected, in good order"
    session.expire_all()
    assert session.get(ReviewTask, routine["id"]).status == "done"
    # The next routine check counts from the report date: 12 months later.
    generate_due_reviews(session, D("2027-03-25"), settings)
    assert [t.due_on for t in tasks(session, kind="routine", status="open")] == [D("2027-03-30")]


def test_nightly_run_is_idempotent(session, settings):
    make_loan(session, schedule=[("2026-01-01", "1000.00", "0.00")], disbursed_on="2025-06-01")
    from collections_svc.loans.dpd import run_dpd

    run_dpd(session, D("2026-04-01"), settings.dpd)
    first = run_monitoring(session, D("2026-04-01"), settings)
    assert first.dpd_warnings == 3 and first.classification.by_category["special_mention"] == 1
    n = len(tasks(session))
    again = run_monitoring(session, D("2026-04-01"), settings)
    assert (again.dpd_warnings, again.classification.category_changes, again.classification.new_loans) == (
        0,
        0,
        0,
    )
    assert len(tasks(session)) == n


def test_stale_statements_and_contacts_produce_update_tasks(session, settings):
    loan = make_loan(session, schedule=[("2027-12-31", "1000.00", "0.00")], disbursed_on="2024-01-01")
    session.flush()
    res = generate_due_reviews(session, D("2026-04-01"), settings)
    # No statement since a 2024 disbursement; the contact was written today, so it is fresh.
    kinds = [(t.kind, t.dedupe_key.split(":")[0]) for t in tasks(session, kind="info_update")]
    assert kinds == [("info_update", "info_update")]
    assert res.info_update == 1
    later = generate_due_reviews(session, D("2028-06-01"), settings)
    keys = sorted(
        t.dedupe_key.split(":")[0] for t in tasks(session, kind="info_update", borrower_id=loan.borrower_id)
    )
    assert keys == ["contacts", "info_update"] and later.info_update == 1


def test_recommended_category_from_a_risk_officer_becomes_an_override_proposal(client, auth, session, users):
    loan = make_loan(session, schedule=[("2027-12-31", "1000.00", "0.00")], disbursed_on="2025-03-01")
    session.commit()
    body = {
        "borrower_id": loan.borrower_id,
        "loan_id": loan.id,
        "review_type": "focused",
        "review_date": "2026-03-30",
        "on_site": True,
        "findings": {"operations": "Production stopped for three weeks"},
        "conclusion": "Material deterioration",
        "recommended_category": "special_mention",
    }
    r = client.post(f"{API}/reviews/reports", json=body, headers=auth("risk_officer"))
    assert r.status_code == 201, r.text
    oid = r.json()["override_id"]
    proposals = client.get(
        f"{API}/classification/overrides", params={"loan_id": loan.id}, headers=auth("auditor")
    ).json()
    assert [(p["id"], p["kind"], p["state"], p["payload"]["target_category"], p["maker"]) for p in proposals] == [
        (oid, "classification_override", "submitted", "special_mention", "risk_officer1")
    ]
    assert proposals[0]["payload"]["evidence"]["review_report_id"] == r.json()["id"]
    # A collector's recommendation is recorded but proposes nothing.
    r = client.post(f"{API}/reviews/reports", json=body, headers=auth("collector"))
    assert r.json()["override_id"] is None and "risk officer" in r.json()["override_note"]
