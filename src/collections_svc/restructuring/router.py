"""Restructuring API: preview a plan, propose it on a case, read a loan's restructuring history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from collections_svc.approvals.router import _ctx, out
from collections_svc.approvals.schemas import ProposalDetail
from collections_svc.auth.deps import READERS, STAFF, DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.cases import service as cases_service
from collections_svc.loans.service import get_loan
from collections_svc.restructuring import service
from collections_svc.restructuring.schemas import REASON_CODES, PreviewIn, ProposeIn

router = APIRouter(prefix="/api/v1", tags=["restructuring"])
Reader = Annotated[User, Depends(allow(*READERS))]
Staff = Annotated[User, Depends(allow(*STAFF))]
Worker = Annotated[User, Depends(allow(Role.collector, Role.supervisor, Role.admin))]


@router.get("/restructuring/reason-codes", summary="Financial-difficulty reason codes (CN-RST-01)")
def reason_codes(user: Reader) -> dict[str, str]:
    return REASON_CODES


@router.post(
    "/restructuring/preview", summary="New schedule beside the old, totals, NPV change; writes nothing"
)
def preview(body: PreviewIn, session: DbSession, user: Staff) -> dict[str, Any]:
    return service.build_plan(session, get_loan(session, body.loan_id), body.terms)


@router.post(
    "/cases/{case_id}/restructuring",
    response_model=ProposalDetail,
    status_code=201,
    summary="Propose a restructuring (opens the negotiation) for maker-checker approval",
)
def propose(case_id: int, body: ProposeIn, request: Request, session: DbSession, user: Worker):
    settings, now, today = _ctx(request)
    actor = actor_of(user)
    case = cases_service.get_case(session, case_id, actor, for_update=True)
    cases_service.check_version(case, body.version)
    p = service.propose(
        session, settings, actor, case, body.terms, business_date=today, now=now, comment=body.comment
    )
    return out(session, settings, p, user, now, detail=True)


@router.get("/loans/{loan_id}/restructuring", summary="Observation periods and archived schedules of a loan")
def history(loan_id: int, session: DbSession, user: Reader) -> dict[str, Any]:
    from sqlalchemy import select

    from collections_svc.restructuring.models import Observation

    loan = get_loan(session, loan_id)
    obs = session.scalars(select(Observation).where(Observation.loan_id == loan.id).order_by(Observation.id))
    return {
        "loan_id": loan.id,
        "restructured": loan.restructured,
        "restructure_count": loan.restructure_count,
        "observations": [
            {
                "id": o.id,
                "restructuring_no": o.restructuring_no,
                "reason_code": o.reason_code,
                "change_on": o.change_on,
                "starts_on": o.starts_on,
                "ends_on": o.ends_on,
                "status": o.status,
                "restart_count": o.restart_count,
                "last_missed_due_on": o.last_missed_due_on,
                "re_restructured": o.re_restructured,
                "proposal_id": o.proposal_id,
            }
            for o in obs
        ],
        "archived_schedules": {
            str(v): [
                {
                    "seq": a.seq,
                    "due_on": a.due_on,
                    "principal_due": str(a.principal_due),
                    "interest_due": str(a.interest_due),
                    "penalty_due": str(a.penalty_due),
                    "paid": str(a.principal_paid + a.interest_paid + a.penalty_paid),
                    "settled_on": a.settled_on,
                }
                for a in rows
            ]
            for v, rows in service.schedule_history(session, loan.id).items()
        },
        "current_schedule": [
            {
                "seq": i.seq,
                "due_on": i.due_on,
                "principal_due": str(i.principal_due),
                "interest_due": str(i.interest_due),
                "penalty_due": str(i.penalty_due),
                "settled_on": i.settled_on,
            }
            for i in loan.installments
        ],
    }
