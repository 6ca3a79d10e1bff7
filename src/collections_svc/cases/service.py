"""The collector's daily work on cases: opening, holds, assignment, contacts, promises, visits, timeline.

Services only ``flush()``; the request or job edge commits. Every write appends an audit event. Stage
changes go through ``collections_svc.states.fire`` and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, func, select, type_coerce, update
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from collections_svc import states
from collections_svc.audit.service import record
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import SYSTEM, Actor
from collections_svc.cases.models import (
    CHANNELS,
    COLLATERAL_STATUSES,
    HOLD_KINDS,
    OPERATING_STATUSES,
    OUTCOMES,
    AssignmentRule,
    Case,
    CaseEvent,
    CaseHold,
    ContactLog,
    Promise,
    Visit,
    VisitAttachment,
    is_on_hold,
)
from collections_svc.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationFailed
from collections_svc.loans.models import Contact, Loan, LoanStatus, Payment

__all__ = [
    "open_case",
    "get_case",
    "check_version",
    "is_on_hold",
    "add_hold",
    "release_hold",
    "assign_new_case",
    "reassign",
    "log_contact",
    "log_borrower_contact",
    "add_promise",
    "evaluate_promises",
    "schedule_visit",
    "report_visit",
    "close_visit",
    "add_visit_attachment",
    "timeline",
    "register_timeline_source",
    "on_payment",
    "can_see",
    "TimelineItem",
]

# Visit attachments: what a report may carry.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
SUPERVISORS = (Role.supervisor, Role.admin)


def _plain(v: Any) -> Any:
    if isinstance(v, (dt.date, Decimal)):
        return str(v)
    return v


# --- access --------------------------------------------------------------------------------------


def can_see(actor: Actor, case: Case) -> bool:
    """Collectors see their own cases and their team's; every other staff role sees all."""
    if actor.role != Role.collector:
        return True
    return case.assignee_id == actor.id or (actor.team is not None and case.team == actor.team)


def get_case(session: Session, case_id: int, actor: Actor | None = None, *, for_update: bool = False) -> Case:
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        # Lock order loan -> case, as payments and the sweep take them. Without it a contact logged with
        # a promise (whose foreign key locks the loan) deadlocked with a payment on the same loan
        # (found by bench/simulate_week.py).
        loan_id = session.scalar(select(Case.loan_id).where(Case.id == case_id))
        if loan_id is not None:
            session.execute(select(Loan.id).where(Loan.id == loan_id).with_for_update(key_share=True))
        stmt = stmt.with_for_update()
    case = session.scalar(stmt)
    if case is None or (actor is not None and not can_see(actor, case)):
        # A collector cannot learn that someone else's case exists.
        raise NotFound(f"Case {case_id} does not exist or is not in your queue.")
    return case


def check_version(case: Case, version: int | None, current: Callable[[Case], Any] | None = None) -> None:
    if version is not None and version != case.version:
        raise StaleVersion(
            f"Case {case.id} was changed by someone else (you had version {version}, it is now "
            f"{case.version}, stage {case.stage}). Reload and try again.",
            current=current(case)
            if current
            else {"id": case.id, "version": case.version, "stage": case.stage},
        )


# --- queue priority ------------------------------------------------------------------------------

PRIORITY_DOC = (
    "min(dpd, 360) + min(overdue amount in units of 10,000, 300) + 25 x broken promises; "
    "higher is called first"
)


def priority_expr(case_table=None):
    """The priority score as SQL over ``loan`` and ``collection_case`` columns (see PRIORITY_DOC)."""
    cases_t = case_table if case_table is not None else Case.__table__
    overdue_units = type_coerce(Loan.overdue_amount, BigInteger) // 1_000_000  # cents -> units of 10,000
    loan_part = (
        select(
            sql_case((Loan.dpd > 360, 360), else_=Loan.dpd)
            + sql_case((overdue_units > 300, 300), else_=overdue_units)
        )
        .where(Loan.id == cases_t.c.loan_id)
        .scalar_subquery()
    )
    return func.coalesce(loan_part, 0) + 25 * cases_t.c.broken_promises


def refresh_priorities(
    session: Session, *, case_ids: Sequence[int] | None = None, loan_ids: Sequence[int] | None = None
) -> int:
    """Recompute the stored queue priority of open cases in one set-based UPDATE; returns rows touched.

    Called here when a case opens, a payment lands and a promise breaks. The nightly sweep must call
    ``refresh_priorities(session)`` after the DPD pass so the queue order follows the new DPD figures.
    A plain UPDATE: it neither bumps the case version nor conflicts with people editing the case.
    """
    session.flush()
    t = Case.__table__
    stmt = update(t).where(t.c.is_open.is_(True)).values(priority=priority_expr(t))
    if case_ids is not None:
        stmt = stmt.where(t.c.id.in_(list(case_ids)))
    if loan_ids is not None:
        stmt = stmt.where(t.c.loan_id.in_(list(loan_ids)))
    return session.execute(stmt).rowcount


# --- opening and assignment ----------------------------------------------------------------------


def open_case(session: Session, loan_id: int, *, business_date: dt.date, actor: Actor) -> Case:
    """Open a case for an overdue loan, or return its open case (idempotent).

    The partial unique index ``uq_collection_case_open_loan`` is the real guard: a concurrent second
    insert fails there and this returns the winner's case.
    """
    existing = session.scalar(select(Case).where(Case.loan_id == loan_id, Case.is_open.is_(True)))
    if existing is not None:
        return existing
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound(f"Loan {loan_id} does not exist.")
    if loan.status != LoanStatus.active:
        raise Conflict(
            f"Loan {loan.external_id} is {loan.status.value}; only active loans get a collection case."
        )
    dpd_now = session.scalar(select(Loan.dpd).where(Loan.id == loan_id)) or 0
    if dpd_now <= 0:
        raise Conflict(
            f"Loan {loan.external_id} has nothing overdue; a collection case needs an overdue loan."
        )
    case = Case(
        loan_id=loan.id,
        borrower_id=loan.borrower_id,
        is_open=True,
        opened_on=business_date,
        stage_entered_on=business_date,
        broken_promises=0,
    )
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:
        winner = session.scalar(select(Case).where(Case.loan_id == loan_id, Case.is_open.is_(True)))
        if winner is None:
            raise
        return winner
    assign_new_case(session, case, loan)
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="opened",
            from_stage=None,
            to_stage=case.stage,
            trigger=None,
            actor=actor.username,
            business_date=business_date,
            data={"dpd": dpd_now, "overdue_amount": str(loan.overdue_amount)},
        )
    )
    refresh_priorities(session, case_ids=[case.id])
    session.refresh(case, ["priority"])
    record(
        session,
        actor,
        "case.open",
        "case",
        case.id,
        after={"loan_id": loan.id, "stage": case.stage, "team": case.team, "assignee_id": case.assignee_id},
    )
    session.flush()
    return case


def _rule_matches(rule: AssignmentRule, loan: Loan) -> bool:
    region = loan.borrower.region if loan.borrower is not None else None
    exposure = loan.outstanding_principal
    return (
        (rule.region is None or rule.region == region)
        and (rule.product is None or rule.product == loan.product.value)
        and (rule.min_exposure is None or exposure >= rule.min_exposure)
        and (rule.max_exposure is None or exposure <= rule.max_exposure)
    )


def _least_loaded_collector(session: Session, team: str) -> int | None:
    open_count = (
        select(func.count(Case.id))
        .where(Case.assignee_id == User.id, Case.is_open.is_(True))
        .correlate(User)
        .scalar_subquery()
    )
    return session.scalar(
        select(User.id)
        .where(User.team == team, User.role == Role.collector, User.active.is_(True))
        .order_by(open_count, User.id)
        .limit(1)
    )


def assign_new_case(session: Session, case: Case, loan: Loan) -> None:
    """Apply the first matching assignment rule (by region, product, exposure band, workload)."""
    rules = session.scalars(
        select(AssignmentRule)
        .where(AssignmentRule.active.is_(True))
        .order_by(AssignmentRule.priority, AssignmentRule.id)
    )
    for rule in rules:
        if _rule_matches(rule, loan):
            case.team = rule.team
            case.assignee_id = rule.assignee_id or _least_loaded_collector(session, rule.team)
            return


def add_rule(session: Session, actor: Actor, **values: Any) -> AssignmentRule:
    rule = AssignmentRule(**values)
    session.add(rule)
    session.flush()
    record(
        session,
        actor,
        "assignment_rule.create",
        "assignment_rule",
        rule.id,
        after={k: _plain(v) for k, v in values.items()},
    )
    return rule


def reassign(
    session: Session,
    case_ids: Sequence[int],
    *,
    actor: Actor,
    assignee_id: int | None,
    team: str | None = None,
) -> list[Case]:
    """Supervisor reassigns one or many cases; each change is audited. All or nothing."""
    if actor.role not in SUPERVISORS:
        raise Forbidden("Only a supervisor may reassign cases.")
    if assignee_id is not None:
        user = session.get(User, assignee_id)
        if user is None or not user.active or user.role not in (Role.collector, Role.supervisor):
            raise ValidationFailed(
                "The new assignee must be an active collector or supervisor.",
                errors=[{"field": "assignee_id", "message": "not an active collector"}],
            )
        team = team or user.team
    ids = list(dict.fromkeys(case_ids))
    cases = list(session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)))
    missing = set(ids) - {c.id for c in cases}
    if missing:
        raise NotFound(f"Cases {sorted(missing)} do not exist; nothing was reassigned.")
    closed = [c.id for c in cases if not c.is_open]
    if closed:
        raise Conflict(f"Cases {closed} are closed and cannot be reassigned; nothing was reassigned.")
    for c in cases:
        before = {"assignee_id": c.assignee_id, "team": c.team}
        c.assignee_id = assignee_id
        c.team = team
        record(
            session,
            actor,
            "case.reassign",
            "case",
            c.id,
            before=before,
            after={"assignee_id": assignee_id, "team": team},
        )
    session.flush()
    return cases


# --- holds ---------------------------------------------------------------------------------------


def add_hold(
    session: Session,
    case: Case,
    *,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date | None,
    reason: str | None,
    actor: Actor,
    business_date: dt.date,
) -> CaseHold:
    if kind not in HOLD_KINDS:
        raise ValidationFailed(
            f"Unknown hold kind {kind!r}.", errors=[{"field": "kind", "message": "unknown"}]
        )
    if kind == "supervisor_hold" and actor.role not in SUPERVISORS:
        raise Forbidden("Only a supervisor may put a supervisor hold on a case.")
    if not case.is_open:
        raise Conflict(f"The case is {case.stage} (closed); a closed case cannot be put on hold.")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(
            "The hold ends before it starts.", errors=[{"field": "ends_on", "message": "before starts_on"}]
        )
    if starts_on > business_date + dt.timedelta(days=366):
        raise ValidationFailed(
            "A hold cannot start more than a year ahead.",
            errors=[{"field": "starts_on", "message": "too far ahead"}],
        )
    hold = CaseHold(
        case_id=case.id,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        created_by=actor.username,
    )
    case.holds.append(hold)
    session.flush()
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="hold_added",
            actor=actor.username,
            reason=reason,
            business_date=business_date,
            data={"hold_id": hold.id, "kind": kind, "starts_on": str(starts_on), "ends_on": _plain(ends_on)},
        )
    )
    record(
        session,
        actor,
        "case.hold",
        "case",
        case.id,
        after={"hold_id": hold.id, "kind": kind, "starts_on": str(starts_on), "ends_on": _plain(ends_on)},
    )
    session.flush()
    return hold


def release_hold(
    session: Session,
    case: Case,
    hold_id: int,
    *,
    actor: Actor,
    business_date: dt.date,
    reason: str | None = None,
) -> CaseHold:
    """End a hold as of ``business_date`` (the case is no longer held from that day)."""
    hold = next((h for h in case.holds if h.id == hold_id), None)
    if hold is None:
        raise NotFound(f"Hold {hold_id} does not belong to case {case.id}.")
    if hold.kind == "supervisor_hold" and actor.role not in SUPERVISORS:
        raise Forbidden("Only a supervisor may release a supervisor hold.")
    if hold.ends_on is not None and hold.ends_on <= business_date:
        raise Conflict(f"Hold {hold_id} already ended on {hold.ends_on}.")
    before = _plain(hold.ends_on)
    hold.ends_on = max(business_date, hold.starts_on)
    hold.released_by = actor.username
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="hold_released",
            actor=actor.username,
            reason=reason,
            business_date=business_date,
            data={"hold_id": hold.id, "kind": hold.kind},
        )
    )
    record(
        session,
        actor,
        "case.hold_release",
        "case",
        case.id,
        before={"hold_id": hold.id, "ends_on": before},
        after={"hold_id": hold.id, "ends_on": str(hold.ends_on)},
    )
    session.flush()
    return hold


# --- contacts and promises -----------------------------------------------------------------------


@dataclass
class PromiseIn:
    amount: Decimal
    due_on: dt.date
    grace_days: int = 0


def _check_contact(session: Session, borrower_id: int, contact_id: int | None) -> None:
    if contact_id is None:
        return
    c = session.get(Contact, contact_id)
    if c is None or c.borrower_id != borrower_id:
        # CN-COL-01: only the borrower's own people and guarantors may be contacted.
        raise ValidationFailed(
            "The contact does not belong to this borrower.",
            errors=[{"field": "contact_id", "message": "not a contact of this borrower"}],
        )


def log_contact(
    session: Session,
    case: Case,
    *,
    channel: str,
    outcome: str,
    actor: Actor,
    business_date: dt.date,
    contact_id: int | None = None,
    note: str | None = None,
    next_action_on: dt.date | None = None,
    promise: PromiseIn | None = None,
    batch_id: str | None = None,
) -> ContactLog:
    """Record one contact; a next-action date puts the case back in the queue that day."""
    if channel not in CHANNELS:
        raise ValidationFailed(
            f"Unknown channel {channel!r}.", errors=[{"field": "channel", "message": "unknown"}]
        )
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            f"Unknown outcome {outcome!r}.", errors=[{"field": "outcome", "message": "unknown"}]
        )
    if outcome == "promised" and promise is None:
        raise ValidationFailed(
            "The outcome is 'promised' but no promise (amount and date) was given.",
            errors=[{"field": "promise", "message": "required when the outcome is promised"}],
        )
    if not case.is_open:
        raise Conflict(f"The case is {case.stage} (closed); contacts are logged on open cases only.")
    _check_contact(session, case.borrower_id, contact_id)
    if next_action_on is not None and next_action_on < business_date:
        raise ValidationFailed(
            "The next action date is in the past.",
            errors=[{"field": "next_action_on", "message": f"before {business_date}"}],
        )
    log = ContactLog(
        case_id=case.id,
        borrower_id=case.borrower_id,
        contact_id=contact_id,
        channel=channel,
        outcome=outcome,
        note=note,
        next_action_on=next_action_on,
        business_date=business_date,
        actor=actor.username,
        batch_id=batch_id,
    )
    session.add(log)
    if next_action_on is not None:
        case.next_action_on = next_action_on
    elif promise is not None:
        case.next_action_on = promise.due_on + dt.timedelta(days=promise.grace_days + 1)
    session.flush()
    record(
        session,
        actor,
        "case.contact",
        "case",
        case.id,
        after={
            "contact_log_id": log.id,
            "channel": channel,
            "outcome": outcome,
            "next_action_on": _plain(next_action_on),
        },
    )
    if promise is not None:
        add_promise(session, case, promise, actor=actor, business_date=business_date, contact_log_id=log.id)
    return log


def log_borrower_contact(
    session: Session,
    borrower_id: int,
    case_ids: Sequence[int],
    *,
    actor: Actor,
    business_date: dt.date,
    **kw: Any,
) -> list[ContactLog]:
    """One contact (e.g. one call about all loans) logged on several cases of one borrower."""
    ids = list(dict.fromkeys(case_ids))
    cases = list(session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)))
    if len(cases) != len(ids) or any(not can_see(actor, c) for c in cases):
        raise NotFound("Some of the cases do not exist or are not in your queue; nothing was logged.")
    if any(c.borrower_id != borrower_id for c in cases):
        raise ValidationFailed(
            "All cases must belong to this borrower; nothing was logged.",
            errors=[{"field": "case_ids", "message": "case of another borrower"}],
        )
    if kw.get("promise") is not None:
        raise ValidationFailed(
            "Take a promise on one case at a time (it is per loan).",
            errors=[{"field": "promise", "message": "not allowed for several cases"}],
        )
    batch = uuid.uuid4().hex
    return [
        log_contact(session, c, actor=actor, business_date=business_date, batch_id=batch, **kw) for c in cases
    ]


def add_promise(
    session: Session,
    case: Case,
    p: PromiseIn,
    *,
    actor: Actor,
    business_date: dt.date,
    contact_log_id: int | None = None,
) -> Promise:
    if not case.is_open:
        raise Conflict(f"The case is {case.stage} (closed); no promise can be taken.")
    if p.amount <= 0:
        raise ValidationFailed(
            "The promised amount must be positive.",
            errors=[{"field": "promise.amount", "message": "must be > 0"}],
        )
    if p.due_on < business_date:
        raise ValidationFailed(
            "The promised date is in the past.",
            errors=[{"field": "promise.due_on", "message": f"before {business_date}"}],
        )
    if not 0 <= p.grace_days <= 30:
        raise ValidationFailed(
            "Grace days must be between 0 and 30.",
            errors=[{"field": "promise.grace_days", "message": "0..30"}],
        )
    pr = Promise(
        case_id=case.id,
        loan_id=case.loan_id,
        contact_log_id=contact_log_id,
        amount=p.amount,
        promised_on=business_date,
        due_on=p.due_on,
        grace_days=p.grace_days,
        status="open",
        paid_amount=Decimal(0),
        created_by=actor.username,
    )
    session.add(pr)
    session.flush()
    record(
        session,
        actor,
        "promise.create",
        "promise",
        pr.id,
        after={
            "case_id": case.id,
            "amount": str(p.amount),
            "due_on": str(p.due_on),
            "grace_days": p.grace_days,
        },
    )
    return pr


def _paid_between(session: Session, loan_id: int, start: dt.date, end: dt.date) -> Decimal:
    total = session.scalar(
        select(func.sum(Payment.amount)).where(
            Payment.loan_id == loan_id, Payment.paid_on >= start, Payment.paid_on <= end
        )
    )
    return total or Decimal(0)


def evaluate_promises(
    session: Session,
    business_date: dt.date,
    *,
    case_ids: Sequence[int] | None = None,
    loan_ids: Sequence[int] | None = None,
    actor: Actor = SYSTEM,
) -> dict[str, int]:
    """Settle open promises as of ``business_date``; returns counts per new status.

    Kept once payments valued from the promise date to due+grace reach the amount; after due+grace,
    broken (nothing paid) or partially_paid (some paid). Both count as broken: the case's
    ``broken_promises`` goes up by one and a ``promise_broken`` CaseEvent is added (the strategy's cue).
    """
    stmt = select(Promise).where(Promise.status == "open", Promise.promised_on <= business_date)
    if case_ids is not None:
        stmt = stmt.where(Promise.case_id.in_(list(case_ids)))
    if loan_ids is not None:
        stmt = stmt.where(Promise.loan_id.in_(list(loan_ids)))
    counts = {"kept": 0, "broken": 0, "partially_paid": 0}
    broken_cases: set[int] = set()
    for pr in session.scalars(stmt.order_by(Promise.id)).all():
        paid = _paid_between(session, pr.loan_id, pr.promised_on, min(pr.deadline, business_date))
        pr.paid_amount = paid
        if paid >= pr.amount:
            status = "kept"
        elif business_date > pr.deadline:
            status = "broken" if paid == 0 else "partially_paid"
        else:
            continue
        pr.status = status
        pr.evaluated_on = business_date
        counts[status] += 1
        record(
            session,
            actor,
            f"promise.{status}",
            "promise",
            pr.id,
            after={"paid_amount": str(paid), "amount": str(pr.amount)},
        )
        if status != "kept":
            broken_cases.add(pr.case_id)
            case = session.get(Case, pr.case_id)
            case.broken_promises = (case.broken_promises or 0) + 1
            session.add(
                CaseEvent(
                    case_id=case.id,
                    kind="promise_broken",
                    actor=actor.username,
                    business_date=business_date,
                    data={
                        "promise_id": pr.id,
                        "status": status,
                        "amount": str(pr.amount),
                        "paid_amount": str(paid),
                        "due_on": str(pr.due_on),
                    },
                )
            )
    session.flush()
    if broken_cases:
        refresh_priorities(session, case_ids=sorted(broken_cases))
    return counts


# --- visits --------------------------------------------------------------------------------------


def schedule_visit(
    session: Session,
    case: Case,
    *,
    scheduled_on: dt.date,
    address: str,
    assignee_id: int | None,
    actor: Actor,
    business_date: dt.date,
) -> Visit:
    if not case.is_open:
        raise Conflict(f"The case is {case.stage} (closed); no visit can be scheduled.")
    if scheduled_on < business_date:
        raise ValidationFailed(
            "The visit date is in the past.",
            errors=[{"field": "scheduled_on", "message": f"before {business_date}"}],
        )
    v = Visit(
        case_id=case.id,
        scheduled_on=scheduled_on,
        address=address,
        assignee_id=assignee_id if assignee_id is not None else actor.id,
        status="scheduled",
        created_by=actor.username,
    )
    session.add(v)
    if case.next_action_on is None or case.next_action_on > scheduled_on:
        case.next_action_on = scheduled_on
    session.flush()
    record(
        session,
        actor,
        "visit.schedule",
        "visit",
        v.id,
        after={"case_id": case.id, "scheduled_on": str(scheduled_on), "assignee_id": v.assignee_id},
    )
    return v


def get_visit(session: Session, visit_id: int, actor: Actor) -> tuple[Visit, Case]:
    v = session.get(Visit, visit_id)
    if v is None:
        raise NotFound(f"Visit {visit_id} does not exist.")
    case = get_case(session, v.case_id, actor)
    return v, case


def _check_visit_version(v: Visit, version: int | None) -> None:
    if version is not None and version != v.version:
        raise StaleVersion(
            f"Visit {v.id} was changed by someone else. Reload and try again.",
            current={"id": v.id, "version": v.version, "status": v.status},
        )


def report_visit(
    session: Session,
    v: Visit,
    *,
    findings: str,
    operating_status: str,
    collateral_status: str,
    visited_on: dt.date,
    actor: Actor,
    business_date: dt.date,
    version: int | None = None,
) -> Visit:
    _check_visit_version(v, version)
    if v.status not in ("scheduled", "reported"):
        raise Conflict(f"The visit is {v.status}; its report can no longer be changed.")
    if operating_status not in OPERATING_STATUSES:
        raise ValidationFailed(
            "Unknown operating status.", errors=[{"field": "operating_status", "message": "unknown"}]
        )
    if collateral_status not in COLLATERAL_STATUSES:
        raise ValidationFailed(
            "Unknown collateral status.", errors=[{"field": "collateral_status", "message": "unknown"}]
        )
    if visited_on > business_date:
        raise ValidationFailed(
            "The visit date of the report is in the future.",
            errors=[{"field": "visited_on", "message": f"after {business_date}"}],
        )
    v.findings, v.operating_status, v.collateral_status = findings, operating_status, collateral_status
    v.visited_on, v.reported_by, v.status = visited_on, actor.username, "reported"
    session.flush()
    record(
        session,
        actor,
        "visit.report",
        "visit",
        v.id,
        after={
            "operating_status": operating_status,
            "collateral_status": collateral_status,
            "visited_on": str(visited_on),
        },
    )
    return v


def close_visit(
    session: Session,
    v: Visit,
    *,
    actor: Actor,
    business_date: dt.date,
    cancel: bool = False,
    version: int | None = None,
) -> Visit:
    _check_visit_version(v, version)
    if cancel:
        if v.status != "scheduled":
            raise Conflict(f"The visit is {v.status}; only a scheduled visit can be cancelled.")
        v.status = "cancelled"
    else:
        if v.status != "reported":
            raise Conflict(f"The visit is {v.status}; file the report before closing it.")
        v.status = "closed"
    v.closed_on = business_date
    session.flush()
    record(session, actor, f"visit.{v.status}", "visit", v.id, after={"status": v.status})
    return v


def add_visit_attachment(
    session: Session,
    v: Visit,
    *,
    filename: str,
    content_type: str,
    data: bytes,
    attachments_dir: str,
    actor: Actor,
) -> VisitAttachment:
    """Store a photo or file of a visit report (size and type limits; the type is checked on the bytes)."""
    if v.status in ("closed", "cancelled"):
        raise Conflict(f"The visit is {v.status}; no more files can be added.")
    if not data:
        raise ValidationFailed("The file is empty.", errors=[{"field": "file", "message": "empty"}])
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            f"The file is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB.",
            errors=[{"field": "file", "message": "too large"}],
        )
    magics = ALLOWED_ATTACHMENT_TYPES.get(content_type)
    if magics is None or not any(data.startswith(m) for m in magics):
        raise ValidationFailed(
            "Only JPEG, PNG or PDF files can be attached (checked on the content).",
            errors=[{"field": "file", "message": f"type {content_type} not allowed"}],
        )
    digest = hashlib.sha256(data).hexdigest()
    key = f"visits/{v.id}/{uuid.uuid4().hex}"
    path = Path(attachments_dir) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    safe_name = Path(filename or "file").name[:200] or "file"
    att = VisitAttachment(
        visit_id=v.id,
        filename=safe_name,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by=actor.username,
    )
    v.attachments.append(att)
    session.flush()
    record(
        session,
        actor,
        "visit.attachment",
        "visit",
        v.id,
        after={"attachment_id": att.id, "filename": safe_name, "size": len(data), "sha256": digest},
    )
    return att


def attachment_path(attachments_dir: str, att: VisitAttachment) -> Path:
    return Path(attachments_dir) / att.storage_key


# --- timeline ------------------------------------------------------------------------------------


@dataclass
class TimelineItem:
    on: dt.date
    at: dt.datetime | None
    kind: str
    title: str
    actor: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


TimelineSource = Callable[[Session, Case], Iterable[TimelineItem]]
_timeline_sources: list[TimelineSource] = []


def register_timeline_source(fn: TimelineSource) -> TimelineSource:
    """Hook for other packages (notices, approvals): ``fn(session, case)`` yields TimelineItems that
    join the case's feed. Usable as a decorator; registering twice is a no-op."""
    if fn not in _timeline_sources:
        _timeline_sources.append(fn)
    return fn


def _own_items(session: Session, case: Case) -> Iterable[TimelineItem]:
    for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)):
        if e.kind == "stage_change":
            title = f"{e.trigger}: {e.from_stage} → {e.to_stage}"
        elif e.kind == "opened":
            title = f"case opened in {e.to_stage}"
        else:
            title = e.kind.replace("_", " ")
        yield TimelineItem(
            e.business_date,
            e.at,
            e.kind,
            title,
            e.actor,
            {
                "from_stage": e.from_stage,
                "to_stage": e.to_stage,
                "trigger": e.trigger,
                "reason": e.reason,
                **(e.data or {}),
            },
        )
    for c in session.scalars(select(ContactLog).where(ContactLog.case_id == case.id)):
        yield TimelineItem(
            c.business_date,
            c.at,
            "contact",
            f"{c.channel}: {c.outcome}",
            c.actor,
            {
                "contact_id": c.contact_id,
                "note": c.note,
                "next_action_on": _plain(c.next_action_on),
                "batch_id": c.batch_id,
            },
        )
    for p in session.scalars(select(Promise).where(Promise.case_id == case.id)):
        yield TimelineItem(
            p.promised_on,
            p.created_at,
            "promise",
            f"promise to pay {p.amount} by {p.due_on} ({p.status})",
            p.created_by,
            {
                "promise_id": p.id,
                "amount": str(p.amount),
                "due_on": str(p.due_on),
                "grace_days": p.grace_days,
                "status": p.status,
                "paid_amount": str(p.paid_amount),
            },
        )
    for pay in session.scalars(
        select(Payment).where(Payment.loan_id == case.loan_id, Payment.paid_on >= case.opened_on)
    ):
        yield TimelineItem(
            pay.paid_on,
            pay.received_at,
            "payment",
            f"payment of {pay.amount}",
            None,
            {"payment_id": pay.id, "amount": str(pay.amount), "recovery": pay.recovery},
        )
    for v in session.scalars(select(Visit).where(Visit.case_id == case.id)):
        yield TimelineItem(
            v.scheduled_on,
            v.created_at,
            "visit",
            f"visit {v.status} at {v.address}",
            v.created_by,
            {
                "visit_id": v.id,
                "status": v.status,
                "operating_status": v.operating_status,
                "collateral_status": v.collateral_status,
                "findings": v.findings,
            },
        )
    for h in case.holds:
        end = f" until {h.ends_on}" if h.ends_on else ""
        yield TimelineItem(
            h.starts_on,
            h.created_at,
            "hold",
            f"{h.kind.replace('_', ' ')} from {h.starts_on}{end}",
            h.created_by,
            {"hold_id": h.id, "ends_on": _plain(h.ends_on), "reason": h.reason},
        )


_MIN_AT = dt.datetime.min.replace(tzinfo=dt.UTC)


def timeline(session: Session, case: Case) -> list[TimelineItem]:
    """One chronological feed (oldest first) of everything that happened on the case."""
    items = list(_own_items(session, case))
    for src in list(_timeline_sources):
        items.extend(src(session, case))
    items.sort(key=lambda i: (i.on, i.at or _MIN_AT))
    return items


# --- the cure-on-payment hook --------------------------------------------------------------------


def on_payment(session: Session, loan: Loan, business_date: dt.date, actor: Actor = SYSTEM) -> Case | None:
    """Called at the end of ``loans.service.record_payment``: settle promises on the loan and, when nothing
    is overdue any more, cure its open case at once. Returns the case if it was cured."""
    case = session.scalar(select(Case).where(Case.loan_id == loan.id, Case.is_open.is_(True)))
    if case is None:
        return None
    evaluate_promises(session, business_date, case_ids=[case.id], actor=actor)
    dpd_now, status = session.execute(select(Loan.dpd, Loan.status).where(Loan.id == loan.id)).one()
    if dpd_now == 0 and status != LoanStatus.written_off:
        states.fire(
            session,
            case,
            "cure",
            actor=actor,
            business_date=business_date,
            reason="a payment cleared all arrears",
        )
        return case
    refresh_priorities(session, case_ids=[case.id])
    return None


def add_case_note(session: Session, case: Case, kind: str, key: str, *, business_date: dt.date, actor: Actor,
               data: dict[str, Any], reason: str | None = None) -> CaseEvent | None:
    """Add one non-stage case event, once per (case, kind, key): a repeat of the same night adds nothing."""
    key = key[:32]
    prior = session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == kind, CaseEvent.trigger == key)).all()
    if any(e.data == data for e in prior):
        return None
    ev = CaseEvent(case_id=case.id, kind=kind, trigger=key, actor=actor.username, reason=reason,
                   business_date=business_date, data=data)
    session.add(ev)
    session.flush()
    return ev


def create_task(session: Session, case: Case, kind: str, *, due_on: dt.date, actor: Actor = SYSTEM,
                trigger_key: str) -> CaseEvent | None:
    """A to-do the strategy gives the case's collector (``call``, ``visit``).

    It shows on the timeline and brings the case back to the top of the queue on ``due_on`` (the
    collector's next-action date is never pushed later by a task).
    """
    ev = add_case_note(session, case, "task", trigger_key, business_date=due_on, actor=actor,
                    data={"task": kind, "due_on": due_on.isoformat()})
    if ev is not None and (case.next_action_on is None or case.next_action_on > due_on):
        case.next_action_on = due_on
        session.flush()
    return ev
