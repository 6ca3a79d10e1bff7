"""The maker-checker mechanism every sensitive action uses. Services only ``flush()``.

A proposal is made (draft or submitted at once) by a *maker*; a *checker* approves or rejects it. The
server enforces, for every role including admins:

- the checker is never the maker (403);
- the checker holds authority for the amount: ``app_user.approval_limit`` if set, else the role default
  in ``settings.approvals.role_limits``; the amount basis is the loan's outstanding principal (the larger
  of the value when the proposal was made and now). Too low a limit is a 403 naming the limit needed
  and who could approve (escalation);
- above ``settings.approvals.second_approval_above`` two different checkers must approve.

What an approval *does* is up to the kind: packages register a handler with ``register_kind``; it runs
in the same transaction as the decision, so the decision and its effect commit or roll back together.
Every step is a ``Decision`` row, an audit event, and an item on the case timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collections_svc.approvals.models import KINDS, OPEN_STATES, Decision, Proposal
from collections_svc.audit.service import record
from collections_svc.auth.models import User
from collections_svc.auth.service import Actor, actor_of
from collections_svc.cases import service as cases_service
from collections_svc.cases.models import Case
from collections_svc.config import Settings
from collections_svc.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationFailed
from collections_svc.loans.models import Loan

__all__ = [
    "KindHandler",
    "register_kind",
    "create_proposal",
    "submit",
    "approve",
    "reject",
    "withdraw",
    "expire_stale",
    "authority_of",
    "eligible_approvers",
    "inbox",
    "get_proposal",
    "check_version",
    "is_overdue",
]

Apply = Callable[[Session, Settings, Proposal, Actor, dt.date], dict[str, Any] | None]


@dataclass(frozen=True)
class KindHandler:
    """What a kind does. ``on_approve`` runs after the final approval, ``on_reject`` after a rejection;
    both only add rows (same transaction) and may return a dict stored as ``proposal.outcome``."""

    kind: str
    label: str
    on_approve: Apply | None = None
    on_reject: Apply | None = None
    on_withdraw: Apply | None = None


_handlers: dict[str, KindHandler] = {k: KindHandler(k, k.replace("_", " ")) for k in KINDS}


def register_kind(handler: KindHandler) -> KindHandler:
    """Register (or replace) the behaviour of a proposal kind; new kinds are allowed."""
    _handlers[handler.kind] = handler
    return handler


def handler_for(kind: str) -> KindHandler:
    h = _handlers.get(kind)
    if h is None:
        raise ValidationFailed(
            f"Unknown proposal kind {kind!r}; use one of: {', '.join(sorted(_handlers))}.",
            errors=[{"field": "kind", "message": "unknown kind"}],
        )
    return h


def _money(d: Decimal | None) -> str:
    return "no limit set" if d is None else f"{d:,.2f}"


def _stamp(p: Proposal) -> dict[str, Any]:
    return {"state": p.state, "approvals_received": p.approvals_received, "version": p.version}


def _trail(
    session: Session,
    p: Proposal,
    actor: Actor,
    decision: str,
    comment: str | None,
    business_date: dt.date | None,
    now: dt.datetime,
    before: dict[str, Any] | None,
) -> Decision:
    d = Decision(
        proposal_id=p.id,
        decision=decision,
        actor=actor.username,
        actor_id=actor.id,
        comment=comment,
        at=now,
        business_date=business_date,
    )
    p.decisions.append(d)
    session.flush()
    record(
        session,
        actor,
        f"approval.{decision}",
        "approval_proposal",
        p.id,
        before=before,
        after={**_stamp(p), "kind": p.kind, "case_id": p.case_id, "loan_id": p.loan_id, "comment": comment},
    )
    return d


def get_proposal(session: Session, proposal_id: int, *, for_update: bool = False) -> Proposal:
    stmt = select(Proposal).where(Proposal.id == proposal_id)
    if for_update:
        stmt = stmt.with_for_update()
    p = session.scalar(stmt)
    if p is None:
        raise NotFound(f"Proposal {proposal_id} does not exist.")
    return p


def check_version(p: Proposal, version: int | None) -> None:
    if version is not None and version != p.version:
        raise StaleVersion(
            f"Proposal {p.id} was changed by someone else (you had version {version}, it is now "
            f"{p.version}, state {p.state}). Reload and try again.",
            current={"id": p.id, "version": p.version, "state": p.state},
        )


def outstanding_principal(session: Session, loan_id: int) -> Decimal:
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound(f"Loan {loan_id} does not exist.")
    return loan.outstanding_principal


def create_proposal(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    kind: str,
    loan_id: int,
    case_id: int | None,
    payload: dict[str, Any],
    title: str,
    business_date: dt.date,
    now: dt.datetime,
    submit_now: bool = True,
    comment: str | None = None,
) -> Proposal:
    """Create a proposal (submitted at once unless ``submit_now`` is False); the maker is ``actor``."""
    handler_for(kind)
    if actor.id is None:
        raise Forbidden("A proposal needs a person as its maker; the system cannot make proposals.")
    amount = outstanding_principal(session, loan_id)
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or case.loan_id != loan_id:
            raise ValidationFailed(
                f"Case {case_id} is not a case of loan {loan_id}.",
                errors=[{"field": "case_id", "message": "not a case of this loan"}],
            )
    pending = session.scalar(
        select(Proposal.id).where(
            Proposal.loan_id == loan_id, Proposal.kind == kind, Proposal.state.in_(OPEN_STATES)
        )
    )
    if pending is not None:
        raise Conflict(
            f"Loan {loan_id} already has an open {kind.replace('_', ' ')} proposal (#{pending}); "
            "decide or withdraw it first.",
            proposal_id=pending,
        )
    loan = session.get(Loan, loan_id)
    p = Proposal(
        kind=kind,
        state="draft",
        loan_id=loan_id,
        case_id=case_id,
        maker_id=actor.id,
        maker=actor.username,
        title=title[:200],
        payload=payload,
        amount=amount,
        currency=loan.currency if loan else "CNY",
        approvals_required=_required(settings, amount),
        approvals_received=0,
        business_date=business_date,
    )
    session.add(p)
    session.flush()
    _trail(session, p, actor, "created", comment, business_date, now, None)
    if submit_now:
        submit(session, settings, p, actor, version=None, business_date=business_date, now=now)
    return p


def _required(settings: Settings, amount: Decimal) -> int:
    threshold = settings.approvals.second_approval_above
    return 2 if threshold is not None and amount > threshold else 1


def submit(
    session: Session,
    settings: Settings,
    p: Proposal,
    actor: Actor,
    *,
    version: int | None,
    business_date: dt.date,
    now: dt.datetime,
) -> Proposal:
    check_version(p, version)
    if actor.id != p.maker_id:
        raise Forbidden("Only the maker of a draft may submit it.")
    if p.state != "draft":
        raise Conflict(f"Proposal {p.id} is {p.state}; only a draft can be submitted.")
    before = _stamp(p)
    p.amount = max(p.amount, outstanding_principal(session, p.loan_id))
    p.approvals_required = _required(settings, p.amount)
    p.state = "submitted"
    p.submitted_at = now
    session.flush()
    _trail(session, p, actor, "submitted", None, business_date, now, before)
    return p


def authority_of(settings: Settings, user: User) -> Decimal | None:
    """The largest outstanding principal ``user`` may approve, or None when they may approve nothing."""
    if user.approval_limit is not None:
        return Decimal(user.approval_limit)
    return settings.approvals.role_limits.get(user.role.value)


def eligible_approvers(session: Session, settings: Settings, p: Proposal, amount: Decimal) -> list[str]:
    """Active users (not the maker, not already approving) whose authority covers ``amount``."""
    done = {d.actor_id for d in p.decisions if d.decision == "approved"}
    out = []
    for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)):
        if u.id == p.maker_id or u.id in done:
            continue
        limit = authority_of(settings, u)
        if limit is not None and limit >= amount:
            out.append(u.username)
    return out


def _check_checker(session: Session, settings: Settings, p: Proposal, user: User) -> Decimal:
    if user.id == p.maker_id:
        raise Forbidden(
            f"You made proposal {p.id}; maker-checker requires someone else to decide it "
            "(this applies to every role, administrators included).",
            rule="maker_checker",
        )
    if p.state != "submitted":
        raise Conflict(
            f"Proposal {p.id} is {p.state}; only a submitted proposal can be decided.", state=p.state
        )
    amount = max(p.amount, outstanding_principal(session, p.loan_id))
    limit = authority_of(settings, user)
    if limit is None or limit < amount:
        who = eligible_approvers(session, settings, p, amount)
        raise Forbidden(
            f"Your approval limit ({_money(limit)} {p.currency}) is below the outstanding principal of "
            f"{amount:,.2f} {p.currency}; this needs an approver with a limit of at least {amount:,.2f} "
            f"{p.currency}. Escalate to " + (", ".join(who) if who else "a higher approver") + ".",
            rule="approval_limit",
            required_limit=str(amount),
            your_limit=None if limit is None else str(limit),
            escalate_to=who,
        )
    return amount


def approve(
    session: Session,
    settings: Settings,
    p: Proposal,
    user: User,
    *,
    version: int | None,
    comment: str | None,
    business_date: dt.date,
    now: dt.datetime,
) -> Proposal:
    """Record an approval; the final one runs the kind's ``on_approve`` in the same transaction."""
    check_version(p, version)
    actor = actor_of(user)
    _check_checker(session, settings, p, user)
    if any(d.decision == "approved" and d.actor_id == user.id for d in p.decisions):
        raise Forbidden(
            f"You already approved proposal {p.id}; the second approval must come from someone else.",
            rule="second_approver",
        )
    before = _stamp(p)
    p.approvals_received += 1
    final = p.approvals_received >= p.approvals_required
    if final:
        p.state = "approved"
        p.decided_at = now
    session.flush()
    _trail(session, p, actor, "approved", comment, business_date, now, before)
    if final:
        h = handler_for(p.kind)
        if h.on_approve is not None:
            outcome = h.on_approve(session, settings, p, actor, business_date)
            if outcome:
                p.outcome = {**(p.outcome or {}), **outcome}
        session.flush()
    return p


def reject(
    session: Session,
    settings: Settings,
    p: Proposal,
    user: User,
    *,
    version: int | None,
    comment: str | None,
    business_date: dt.date,
    now: dt.datetime,
) -> Proposal:
    check_version(p, version)
    if not (comment and comment.strip()):
        raise ValidationFailed(
            "A rejection needs a reason for the maker and the case timeline.",
            errors=[{"field": "comment", "message": "required"}],
        )
    actor = actor_of(user)
    _check_checker(session, settings, p, user)
    before = _stamp(p)
    p.state = "rejected"
    p.decided_at = now
    session.flush()
    _trail(session, p, actor, "rejected", comment, business_date, now, before)
    h = handler_for(p.kind)
    if h.on_reject is not None:
        outcome = h.on_reject(session, settings, p, actor, business_date)
        if outcome:
            p.outcome = {**(p.outcome or {}), **outcome}
        session.flush()
    return p


def withdraw(
    session: Session,
    settings: Settings,
    p: Proposal,
    actor: Actor,
    *,
    version: int | None,
    comment: str | None,
    business_date: dt.date,
    now: dt.datetime,
) -> Proposal:
    check_version(p, version)
    if actor.id != p.maker_id:
        raise Forbidden("Only the maker may withdraw a proposal.")
    if p.state not in OPEN_STATES:
        raise Conflict(f"Proposal {p.id} is {p.state}; it can no longer be withdrawn.", state=p.state)
    before = _stamp(p)
    p.state = "withdrawn"
    p.decided_at = now
    session.flush()
    _trail(session, p, actor, "withdrawn", comment, business_date, now, before)
    h = handler_for(p.kind)
    if h.on_withdraw is not None:
        h.on_withdraw(session, settings, p, actor, business_date)
    return p


def expire_stale(
    session: Session, settings: Settings, *, now: dt.datetime, business_date: dt.date, actor: Actor
) -> list[Proposal]:
    """Expire submitted proposals older than ``settings.approvals.expire_after_days`` (for the sweep)."""
    cutoff = now - dt.timedelta(days=settings.approvals.expire_after_days)
    out = []
    for p in session.scalars(
        select(Proposal)
        .where(Proposal.state == "submitted", Proposal.submitted_at < cutoff)
        .order_by(Proposal.id)
    ):
        before = _stamp(p)
        p.state = "expired"
        p.decided_at = now
        session.flush()
        _trail(
            session,
            p,
            actor,
            "expired",
            f"no decision within {settings.approvals.expire_after_days} days",
            business_date,
            now,
            before,
        )
        h = handler_for(p.kind)
        if h.on_withdraw is not None:
            h.on_withdraw(session, settings, p, actor, business_date)
        out.append(p)
    return out


def is_overdue(settings: Settings, p: Proposal, now: dt.datetime) -> bool:
    return (
        p.state == "submitted"
        and p.submitted_at is not None
        and now - p.submitted_at > dt.timedelta(hours=settings.approvals.pending_alert_hours)
    )


def inbox(
    session: Session,
    settings: Settings,
    *,
    now: dt.datetime,
    kind: str | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    min_age_hours: float | None = None,
    state: str = "submitted",
    overdue_only: bool = False,
    limit: int = 200,
) -> list[Proposal]:
    """Pending proposals (oldest first) filtered by kind, amount range and age."""
    stmt = select(Proposal).where(Proposal.state == state)
    if kind:
        stmt = stmt.where(Proposal.kind == kind)
    if min_amount is not None:
        stmt = stmt.where(Proposal.amount >= min_amount)
    if max_amount is not None:
        stmt = stmt.where(Proposal.amount <= max_amount)
    if min_age_hours is not None:
        stmt = stmt.where(Proposal.submitted_at <= now - dt.timedelta(hours=min_age_hours))
    if overdue_only:
        stmt = stmt.where(
            Proposal.submitted_at <= now - dt.timedelta(hours=settings.approvals.pending_alert_hours)
        )
    stmt = stmt.order_by(Proposal.submitted_at, Proposal.id).limit(limit)
    return list(session.scalars(stmt))


# --- the case timeline ---------------------------------------------------------------------------


@cases_service.register_timeline_source
def _timeline(session: Session, case: Case) -> Iterable[cases_service.TimelineItem]:
    rows = session.execute(
        select(Decision, Proposal)
        .join(Proposal, Decision.proposal_id == Proposal.id)
        .where(Proposal.case_id == case.id)
        .order_by(Decision.id)
    )
    for d, p in rows:
        yield cases_service.TimelineItem(
            d.business_date or d.at.date(),
            d.at,
            "approval",
            f"{p.kind.replace('_', ' ')} proposal #{p.id} {d.decision} by {d.actor}"
            + (f": {d.comment}" if d.comment else ""),
            d.actor,
            {
                "proposal_id": p.id,
                "proposal_kind": p.kind,
                "decision": d.decision,
                "comment": d.comment,
                "amount": str(p.amount),
                "state": p.state,
            },
        )


# --- built-in kind: de_escalation (move a case back, approved by a supervisor) -------------------


def _de_escalate(
    session: Session, settings: Settings, p: Proposal, actor: Actor, business_date: dt.date
) -> dict[str, Any]:
    from collections_svc import states  # late import: states imports cases

    case = session.get(Case, p.case_id) if p.case_id else None
    if case is None:
        raise ValidationFailed("A de-escalation proposal needs a case.")
    target = p.payload.get("target")
    reason = p.payload.get("reason") or p.title
    states.fire(
        session,
        case,
        "de_escalate",
        actor=actor,
        business_date=business_date,
        reason=f"de-escalation #{p.id} approved: {reason}",
        target=target,
        proposal_id=p.id,
    )
    return {"case_stage": case.stage}


register_kind(KindHandler("de_escalation", "de-escalation", on_approve=_de_escalate))


def suggest(session: Session, case: Case, kind: str, *, business_date: dt.date, actor: Actor,
            trigger_key: str, reason: str) -> object | None:
    """The strategy's hint that a supervisor should consider a proposal (restructuring, legal referral).

    Only a person can make the proposal, with its terms; this puts the hint on the case timeline (once per
    night and kind) so the supervisor sees why the case reached this point.
    """
    return cases_service.add_case_note(session, case, "suggestion", trigger_key, business_date=business_date,
                                    actor=actor, data={"proposal": kind}, reason=reason)
