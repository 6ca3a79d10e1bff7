"""Service rules: assignment, contact validation, attachments limits, visits, timeline hooks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from collections_svc.auth.models import Role
from collections_svc.auth.service import SYSTEM, Actor, create_user
from collections_svc.cases import service
from collections_svc.cases.models import AssignmentRule
from collections_svc.errors import Conflict, Forbidden, ValidationFailed
from collections_svc.loans.models import Borrower
from tests.cases.helpers import TODAY, case_in_stage, overdue_loan
from tests.conftest import PASSWORD

SUP = Actor(id=None, username="sup_test", role=Role.supervisor, team="east")


def test_assignment_rules_region_exposure_and_workload(session, settings):
    c1 = create_user(session, username="n_col1", password=PASSWORD, role=Role.collector, team="north")
    c2 = create_user(session, username="n_col2", password=PASSWORD, role=Role.collector, team="north")
    big_guy = create_user(session, username="big_col", password=PASSWORD, role=Role.collector, team="large")
    session.add_all(
        [
            AssignmentRule(priority=1, min_exposure=Decimal("1000000"), team="large", assignee_id=big_guy.id),
            AssignmentRule(priority=5, region="north", team="north"),
            AssignmentRule(priority=9, team="general"),
        ]
    )
    session.flush()

    def open_for(region: str | None, principal_due: str):
        loan = overdue_loan(session, settings, principal_due=principal_due)
        session.get(Borrower, loan.borrower_id).region = region
        session.flush()
        return service.open_case(session, loan.id, business_date=TODAY, actor=SYSTEM)

    big = open_for("north", "900000")  # outstanding principal 1,800,000: exposure band rule first
    assert (big.team, big.assignee_id) == ("large", big_guy.id)
    north = [open_for("north", "1000") for _ in range(4)]
    assert {c.team for c in north} == {"north"}
    # workload balance: the two north collectors get two each
    assert sorted(c.assignee_id for c in north) == sorted([c1.id, c1.id, c2.id, c2.id])
    other = open_for("south", "1000")
    assert (other.team, other.assignee_id) == ("general", None)  # no collector in team general


def test_reassign_rules(session, settings, users):
    case = case_in_stage(session, overdue_loan(session, settings), "letter")
    closed = case_in_stage(session, overdue_loan(session, settings), "closed")
    with pytest.raises(Forbidden):
        service.reassign(session, [case.id], actor=SYSTEM, assignee_id=users["collector"].id)
    with pytest.raises(ValidationFailed):
        service.reassign(session, [case.id], actor=SUP, assignee_id=users["auditor"].id)
    with pytest.raises(Conflict):
        service.reassign(session, [case.id, closed.id], actor=SUP, assignee_id=users["collector"].id)
    assert case.assignee_id is None  # all or nothing


def test_contact_rules(session, settings):
    case = case_in_stage(session, overdue_loan(session, settings), "phone_reminder")
    with pytest.raises(ValidationFailed, match="promise"):
        service.log_contact(
            session, case, channel="phone", outcome="promised", actor=SUP, business_date=TODAY
        )
    with pytest.raises(ValidationFailed, match="past"):
        service.log_contact(
            session,
            case,
            channel="phone",
            outcome="reached",
            actor=SUP,
            business_date=TODAY,
            next_action_on=TODAY - dt.timedelta(days=1),
        )
    with pytest.raises(ValidationFailed, match="past"):
        service.add_promise(
            session,
            case,
            service.PromiseIn(Decimal("10"), TODAY - dt.timedelta(days=1)),
            actor=SUP,
            business_date=TODAY,
        )
    log = service.log_contact(
        session,
        case,
        channel="sms",
        outcome="no_answer",
        actor=SUP,
        business_date=TODAY,
        next_action_on=TODAY + dt.timedelta(days=2),
    )
    assert case.next_action_on == TODAY + dt.timedelta(days=2) and log.id
    closed = case_in_stage(session, overdue_loan(session, settings), "resolved")
    with pytest.raises(Conflict, match="closed"):
        service.log_contact(
            session, closed, channel="phone", outcome="reached", actor=SUP, business_date=TODAY
        )


def test_visit_lifecycle_and_attachment_limits(session, settings, tmp_path):
    case = case_in_stage(session, overdue_loan(session, settings), "visit")
    v = service.schedule_visit(
        session,
        case,
        scheduled_on=TODAY,
        address="深圳市南山区科技园",
        assignee_id=None,
        actor=SUP,
        business_date=TODAY,
    )
    with pytest.raises(Conflict, match="report"):
        service.close_visit(session, v, actor=SUP, business_date=TODAY)
    d = str(tmp_path)
    too_big = b"%PDF-" + b"0" * service.MAX_ATTACHMENT_BYTES
    with pytest.raises(ValidationFailed, match="larger"):
        service.add_visit_attachment(
            session,
            v,
            filename="a.pdf",
            content_type="application/pdf",
            data=too_big,
            attachments_dir=d,
            actor=SUP,
        )
    with pytest.raises(ValidationFailed, match="JPEG, PNG or PDF"):
        service.add_visit_attachment(
            session,
            v,
            filename="a.pdf",
            content_type="application/pdf",
            data=b"<html>",
            attachments_dir=d,
            actor=SUP,
        )
    att = service.add_visit_attachment(
        session,
        v,
        filename="../../etc/report.pdf",
        content_type="application/pdf",
        data=b"%PDF-1.7 test",
        attachments_dir=d,
        actor=SUP,
    )
    assert att.filename == "report.pdf" and service.attachment_path(d, att).read_bytes() == b"%PDF-1.7 test"
    assert service.attachment_path(d, att).resolve().is_relative_to(tmp_path.resolve())
    service.report_visit(
        session,
        v,
        findings="closed gate",
        operating_status="ceased",
        collateral_status="missing",
        visited_on=TODAY,
        actor=SUP,
        business_date=TODAY,
    )
    service.close_visit(session, v, actor=SUP, business_date=TODAY)
    assert v.status == "closed"
    with pytest.raises(Conflict):
        service.add_visit_attachment(
            session,
            v,
            filename="b.png",
            content_type="image/png",
            data=b"\x89PNG\r\n\x1a\nxx",
            attachments_dir=d,
            actor=SUP,
        )
    v2 = service.schedule_visit(
        session,
        case,
        scheduled_on=TODAY + dt.timedelta(days=3),
        address="x",
        assignee_id=None,
        actor=SUP,
        business_date=TODAY,
    )
    service.close_visit(session, v2, actor=SUP, business_date=TODAY, cancel=True)
    assert v2.status == "cancelled"


def test_timeline_hook_adds_items(session, settings):
    case = case_in_stage(session, overdue_loan(session, settings), "letter")

    def notices(sess, c):
        yield service.TimelineItem(on=TODAY, at=None, kind="notice", title=f"letter sent for case {c.id}")

    service.register_timeline_source(notices)
    try:
        items = service.timeline(session, case)
    finally:
        service._timeline_sources.remove(notices)
    assert [i.title for i in items if i.kind == "notice"] == [f"letter sent for case {case.id}"]


def test_hold_rules(session, settings):
    case = case_in_stage(session, overdue_loan(session, settings), "letter")
    col = Actor(id=None, username="c", role=Role.collector, team="east")
    with pytest.raises(Forbidden):
        service.add_hold(
            session,
            case,
            kind="supervisor_hold",
            starts_on=TODAY,
            ends_on=None,
            reason=None,
            actor=col,
            business_date=TODAY,
        )
    with pytest.raises(ValidationFailed):
        service.add_hold(
            session,
            case,
            kind="dispute",
            starts_on=TODAY,
            ends_on=TODAY - dt.timedelta(days=1),
            reason=None,
            actor=col,
            business_date=TODAY,
        )
    h = service.add_hold(
        session,
        case,
        kind="bankruptcy_stay",
        starts_on=TODAY - dt.timedelta(days=30),
        ends_on=TODAY + dt.timedelta(days=5),
        reason="court order",
        actor=col,
        business_date=TODAY,
    )
    assert service.is_on_hold(case, TODAY) and service.is_on_hold(case, TODAY + dt.timedelta(days=4))
    assert not service.is_on_hold(case, TODAY + dt.timedelta(days=5))
    assert not service.is_on_hold(case, TODAY - dt.timedelta(days=31))
    service.release_hold(session, case, h.id, actor=col, business_date=TODAY)
    assert not service.is_on_hold(case, TODAY)
