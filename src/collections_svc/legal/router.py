"""Legal API: referral and write-off proposals, the dossier PDF, legal case tracking, recoveries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from collections_svc.approvals.router import _ctx, out
from collections_svc.approvals.schemas import ProposalDetail
from collections_svc.auth.deps import READERS, STAFF, DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.cases import service as cases_service
from collections_svc.errors import NotFound
from collections_svc.legal import service
from collections_svc.legal.models import LegalCase, LegalTask
from collections_svc.legal.schemas import (
    LegalCaseOut,
    LegalCaseUpdate,
    LegalEventIn,
    LegalEventOut,
    LegalTaskOut,
    ReferralIn,
    TaskDoneIn,
    WriteOffIn,
)
from collections_svc.loans.service import get_loan

router = APIRouter(prefix="/api/v1", tags=["legal"])
Reader = Annotated[User, Depends(allow(*READERS))]
Staff = Annotated[User, Depends(allow(*STAFF))]
Worker = Annotated[User, Depends(allow(Role.collector, Role.supervisor, Role.admin))]
Supervisor = Annotated[User, Depends(allow(Role.supervisor, Role.admin))]


def _lc_out(lc: LegalCase) -> LegalCaseOut:
    o = LegalCaseOut.model_validate(lc)
    o.totals = service.legal_totals(lc)
    return o


def _load_lc(session, legal_case_id: int, user: User) -> LegalCase:
    lc = service.get_legal_case(session, legal_case_id)
    cases_service.get_case(session, lc.case_id, actor_of(user))
    return lc


@router.post(
    "/cases/{case_id}/legal-referral",
    response_model=ProposalDetail,
    status_code=201,
    summary="Propose referring the case to litigation (maker-checker)",
)
def propose_referral(case_id: int, body: ReferralIn, request: Request, session: DbSession, user: Worker):
    settings, now, today = _ctx(request)
    actor = actor_of(user)
    case = cases_service.get_case(session, case_id, actor, for_update=True)
    cases_service.check_version(case, body.version)
    p = service.propose_referral(
        session,
        settings,
        actor,
        case,
        reason=body.reason,
        claim_amount=body.claim_amount,
        body_type=body.body_type,
        body_name=body.body_name,
        business_date=today,
        now=now,
    )
    return out(session, settings, p, user, now, detail=True)


@router.get(
    "/cases/{case_id}/legal-dossier.pdf",
    summary="The referral dossier as one PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def dossier_pdf(case_id: int, request: Request, session: DbSession, user: Staff):
    settings, _, today = _ctx(request)
    case = cases_service.get_case(session, case_id, actor_of(user))
    pdf = service.render_dossier_pdf(service.build_dossier(session, case, today), settings, today)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="dossier-case-{case.id}.pdf"'},
    )


@router.get(
    "/cases/{case_id}/legal-dossier.zip",
    summary="The dossier PDF with all visit attachments (zip)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def dossier_zip(case_id: int, request: Request, session: DbSession, user: Staff):
    settings, _, today = _ctx(request)
    case = cases_service.get_case(session, case_id, actor_of(user))
    data = service.dossier_zip(service.build_dossier(session, case, today), settings, today)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="dossier-case-{case.id}.zip"'},
    )


@router.get("/legal/tasks", response_model=list[LegalTaskOut], summary="Open legal tasks due by a date")
def tasks_due(request: Request, session: DbSession, user: Reader, due_by: dt.date | None = None):
    _, _, today = _ctx(request)
    actor = actor_of(user)
    out_rows = []
    for t in service.open_tasks_due(session, due_by or today):
        lc = session.get(LegalCase, t.legal_case_id)
        try:
            cases_service.get_case(session, lc.case_id, actor)
        except NotFound:
            continue
        out_rows.append(t)
    return out_rows


@router.post(
    "/loans/{loan_id}/write-off",
    response_model=ProposalDetail,
    status_code=201,
    summary="Propose writing the loan off (核销; maker-checker)",
)
def propose_write_off(loan_id: int, body: WriteOffIn, request: Request, session: DbSession, user: Worker):
    settings, now, today = _ctx(request)
    p = service.propose_write_off(
        session,
        settings,
        actor_of(user),
        get_loan(session, loan_id),
        reason=body.reason,
        business_date=today,
        now=now,
    )
    return out(session, settings, p, user, now, detail=True)


@router.get("/legal/cases", response_model=list[LegalCaseOut], summary="Legal cases (newest first)")
def list_cases(session: DbSession, user: Reader, status: str | None = None):
    stmt = select(LegalCase).order_by(LegalCase.id.desc()).limit(500)
    if status:
        stmt = stmt.where(LegalCase.status == status)
    actor = actor_of(user)
    rows = []
    for lc in session.scalars(stmt):
        try:
            cases_service.get_case(session, lc.case_id, actor)
        except NotFound:
            continue
        rows.append(_lc_out(lc))
    return rows


@router.get("/legal/cases/{legal_case_id}", response_model=LegalCaseOut, summary="A legal case")
def get_case(legal_case_id: int, session: DbSession, user: Reader):
    return _lc_out(_load_lc(session, legal_case_id, user))


@router.patch(
    "/legal/cases/{legal_case_id}",
    response_model=LegalCaseOut,
    summary="Update court/arbitration body, case number, filing, judgment ...",
)
def update_case(legal_case_id: int, body: LegalCaseUpdate, session: DbSession, user: Worker):
    lc = _load_lc(session, legal_case_id, user)
    values = body.model_dump(exclude_unset=True, exclude={"version"})
    service.update_legal_case(session, lc, actor_of(user), version=body.version, values=values)
    return _lc_out(lc)


@router.post(
    "/legal/cases/{legal_case_id}/events",
    response_model=LegalEventOut,
    status_code=201,
    summary="Record a hearing, claim, judgment, enforcement step, recovery, cost or deadline",
)
def add_event(legal_case_id: int, body: LegalEventIn, session: DbSession, user: Worker):
    lc = _load_lc(session, legal_case_id, user)
    return service.add_legal_event(session, lc, actor_of(user), **body.model_dump())


@router.post("/legal/tasks/{task_id}/done", response_model=LegalTaskOut, summary="Mark a legal task done")
def task_done(task_id: int, body: TaskDoneIn, session: DbSession, user: Worker):
    task = session.get(LegalTask, task_id)
    if task is None:
        raise NotFound(f"Task {task_id} does not exist.")
    _load_lc(session, task.legal_case_id, user)
    return service.complete_task(session, task, actor_of(user), version=body.version)


@router.get("/legal/recoveries", summary="Payments received after write-off (recoveries)")
def recoveries(session: DbSession, user: Reader, loan_id: int | None = None) -> dict[str, Any]:
    return service.recoveries(session, loan_id)
