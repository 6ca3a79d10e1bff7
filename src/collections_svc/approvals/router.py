"""Approvals API: the supervisors' inbox and the maker-checker actions on any proposal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from collections_svc.approvals import service
from collections_svc.approvals.models import Proposal
from collections_svc.approvals.schemas import DecisionIn, ProposalCreate, ProposalDetail, ProposalOut
from collections_svc.auth.deps import READERS, STAFF, DbSession, allow
from collections_svc.auth.models import User
from collections_svc.auth.service import actor_of
from collections_svc.cases import service as cases_service
from collections_svc.common.clock import business_date
from collections_svc.config import Settings
from collections_svc.errors import ValidationFailed

# Importing these registers what an approval of their kinds does (handlers run inside approve/reject).
from collections_svc.legal import service as _legal  # noqa: F401
from collections_svc.monitoring import overrides as _overrides  # noqa: F401
from collections_svc.restructuring import service as _restructuring  # noqa: F401

router = APIRouter(prefix="/api/v1", tags=["approvals"])
# Kinds whose payload is built and checked by their own endpoint (never through the generic one).
DEDICATED = {
    "restructuring": "POST /api/v1/cases/{case_id}/restructuring",
    "legal_referral": "POST /api/v1/cases/{case_id}/legal-referral",
    "write_off": "POST /api/v1/loans/{loan_id}/write-off",
    # CN-CLS-09 / CN-RST-03 are checked when it is proposed; the payload is built there.
    "classification_override": "POST /api/v1/monitoring/classification/overrides",
}
Reader = Annotated[User, Depends(allow(*READERS))]
Staff = Annotated[User, Depends(allow(*STAFF))]


def _ctx(request: Request) -> tuple[Settings, dt.datetime, dt.date]:
    st = request.app.state
    now = st.clock.now()
    return st.settings, now, business_date(now, st.settings.bank.timezone)


def out(
    session: Session, settings: Settings, p: Proposal, user: User, now: dt.datetime, *, detail: bool = False
) -> ProposalOut:
    cls = ProposalDetail if detail else ProposalOut
    o = cls.model_validate(p)
    if p.submitted_at is not None and p.state == "submitted":
        o.age_hours = round((now - p.submitted_at).total_seconds() / 3600, 1)
    o.overdue = service.is_overdue(settings, p, now)
    limit = service.authority_of(settings, user)
    o.can_decide = (
        p.state == "submitted"
        and user.id != p.maker_id
        and limit is not None
        and limit >= p.amount
        and not any(d.decision == "approved" and d.actor_id == user.id for d in p.decisions)
    )
    return o


def _load(session: Session, proposal_id: int, user: User) -> Proposal:
    p = service.get_proposal(session, proposal_id, for_update=True)
    if p.case_id is not None:
        cases_service.get_case(session, p.case_id, actor_of(user))  # collectors: own/team cases only
    return p


@router.get(
    "/approvals",
    response_model=list[ProposalOut],
    summary="Approvals inbox: pending proposals, oldest first; `overdue` flags long waits",
)
def inbox(
    request: Request,
    session: DbSession,
    user: Reader,
    kind: str | None = None,
    state: str = "submitted",
    min_amount: Annotated[Decimal | None, Query(ge=0)] = None,
    max_amount: Annotated[Decimal | None, Query(ge=0)] = None,
    min_age_hours: Annotated[float | None, Query(ge=0)] = None,
    overdue_only: bool = False,
    decidable_only: bool = False,
):
    settings, now, _ = _ctx(request)
    rows = service.inbox(
        session,
        settings,
        now=now,
        kind=kind,
        min_amount=min_amount,
        max_amount=max_amount,
        min_age_hours=min_age_hours,
        state=state,
        overdue_only=overdue_only,
    )
    result = [out(session, settings, p, user, now) for p in rows]
    return [r for r in result if r.can_decide] if decidable_only else result


@router.get("/approvals/{proposal_id}", response_model=ProposalDetail, summary="A proposal with its trail")
def get_one(proposal_id: int, request: Request, session: DbSession, user: Reader):
    settings, now, _ = _ctx(request)
    p = service.get_proposal(session, proposal_id)
    if p.case_id is not None:
        cases_service.get_case(session, p.case_id, actor_of(user))
    return out(session, settings, p, user, now, detail=True)


@router.post(
    "/approvals",
    response_model=ProposalDetail,
    status_code=201,
    summary="Make a proposal of a generic kind (de_escalation, ...)",
)
def create(body: ProposalCreate, request: Request, session: DbSession, user: Staff):
    settings, now, today = _ctx(request)
    if body.kind in DEDICATED:
        raise ValidationFailed(
            f"A {body.kind.replace('_', ' ')} proposal is made with {DEDICATED[body.kind]}.",
            errors=[{"field": "kind", "message": "use the dedicated endpoint"}],
        )
    if body.case_id is not None:
        cases_service.get_case(session, body.case_id, actor_of(user))
    p = service.create_proposal(
        session,
        settings,
        actor_of(user),
        kind=body.kind,
        loan_id=body.loan_id,
        case_id=body.case_id,
        payload=body.payload,
        title=body.title,
        business_date=today,
        now=now,
        submit_now=body.submit,
        comment=body.comment,
    )
    return out(session, settings, p, user, now, detail=True)


@router.post("/approvals/{proposal_id}/submit", response_model=ProposalDetail, summary="Submit a draft")
def submit(proposal_id: int, body: DecisionIn, request: Request, session: DbSession, user: Staff):
    settings, now, today = _ctx(request)
    p = _load(session, proposal_id, user)
    service.submit(session, settings, p, actor_of(user), version=body.version, business_date=today, now=now)
    return out(session, settings, p, user, now, detail=True)


@router.post(
    "/approvals/{proposal_id}/approve",
    response_model=ProposalDetail,
    summary="Approve (checker only: never the maker; needs authority for the amount)",
)
def approve(proposal_id: int, body: DecisionIn, request: Request, session: DbSession, user: Staff):
    settings, now, today = _ctx(request)
    p = _load(session, proposal_id, user)
    service.approve(
        session, settings, p, user, version=body.version, comment=body.comment, business_date=today, now=now
    )
    return out(session, settings, p, user, now, detail=True)


@router.post(
    "/approvals/{proposal_id}/reject",
    response_model=ProposalDetail,
    summary="Reject with a reason (checker only)",
)
def reject(proposal_id: int, body: DecisionIn, request: Request, session: DbSession, user: Staff):
    settings, now, today = _ctx(request)
    p = _load(session, proposal_id, user)
    service.reject(
        session, settings, p, user, version=body.version, comment=body.comment, business_date=today, now=now
    )
    return out(session, settings, p, user, now, detail=True)


@router.post(
    "/approvals/{proposal_id}/withdraw", response_model=ProposalDetail, summary="Withdraw (the maker only)"
)
def withdraw(proposal_id: int, body: DecisionIn, request: Request, session: DbSession, user: Staff):
    settings, now, today = _ctx(request)
    p = _load(session, proposal_id, user)
    service.withdraw(
        session,
        settings,
        p,
        actor_of(user),
        version=body.version,
        comment=body.comment,
        business_date=today,
        now=now,
    )
    return out(session, settings, p, user, now, detail=True)
