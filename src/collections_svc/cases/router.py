"""Cases API: the collector's queue, case actions, contacts, promises, holds, visits and the timeline.

Collectors see and act on their own and their team's cases only (checked per object: someone else's
case is a 404); supervisors, admins, risk officers and auditors see all. Writes need collector,
supervisor or admin. Every stage change goes through ``states.fire``.

Queue priority score (higher = call first), stored on the case by ``cases.service.refresh_priorities``:
    min(dpd, 360) + min(overdue amount in units of 10,000, 300) + 25 * broken promises
(classification weight joins once the monitoring package stores a loan classification). The queue reads
open cases in index order of this score, so a page costs the same with 100 or 100,000 open cases.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from collections_svc import states
from collections_svc.auth.deps import READERS, DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import Actor, actor_of
from collections_svc.cases import service
from collections_svc.cases.models import (
    AssignmentRule,
    Case,
    CaseHold,
    ContactLog,
    Promise,
    Visit,
    is_on_hold,
)
from collections_svc.cases.schemas import (
    AssignIn,
    AttachmentOut,
    BorrowerCasesOut,
    BorrowerContactLogIn,
    BorrowerLoanRow,
    CaseDetail,
    CaseEventOut,
    CaseOpen,
    CaseOut,
    ContactLogIn,
    ContactLogOut,
    EvaluateOut,
    HoldIn,
    HoldOut,
    HoldRelease,
    LifecycleOut,
    PromiseCreate,
    PromiseOut,
    QueuePage,
    QueueRow,
    RuleIn,
    RuleOut,
    TimelineItemOut,
    TransitionIn,
    TransitionOut,
    VisitCloseIn,
    VisitIn,
    VisitOut,
    VisitReportIn,
)
from collections_svc.common.clock import request_business_date as _today
from collections_svc.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from collections_svc.loans.models import Borrower, Loan
from collections_svc.states.diagram import render_mermaid

router = APIRouter(prefix="/api/v1", tags=["cases"])
Reader = Annotated[User, Depends(allow(*READERS))]
Worker = Annotated[User, Depends(allow(Role.collector, Role.supervisor, Role.admin))]
Supervisor = Annotated[User, Depends(allow(Role.supervisor, Role.admin))]

COUNT_CAP = 10_000
QUEUE_COLUMNS = (
    Case.id,
    Case.loan_id,
    Loan.external_id.label("loan_external_id"),
    Loan.contract_no,
    Case.borrower_id,
    Borrower.name.label("borrower_name"),
    Case.stage,
    Case.is_open,
    Case.assignee_id,
    Case.team,
    Case.next_action_on,
    Loan.dpd,
    Loan.bucket,
    Loan.overdue_amount,
    Case.broken_promises,
    Case.priority,
    Case.version,
)

SORT_COLUMNS = {
    "dpd": Loan.dpd,
    "overdue_amount": Loan.overdue_amount,
    "next_action_on": Case.next_action_on,
    "opened_on": Case.opened_on,
    "stage_entered_on": Case.stage_entered_on,
    "stage": Case.stage,
    "broken_promises": Case.broken_promises,
    "id": Case.id,
}


def _detail(session: Session, case: Case, actor: Actor, today: dt.date) -> CaseDetail:
    loan = session.get(Loan, case.loan_id)
    dpd, overdue = session.execute(select(Loan.dpd, Loan.overdue_amount).where(Loan.id == loan.id)).one()
    return CaseDetail(
        **CaseOut.model_validate(case).model_dump(),
        on_hold=is_on_hold(case, today),
        holds=[HoldOut.model_validate(h) for h in case.holds],
        allowed_triggers=states.allowed_triggers(case, actor.role),
        loan_external_id=loan.external_id,
        contract_no=loan.contract_no,
        borrower_name=loan.borrower.name,
        dpd=dpd,
        bucket=loan.bucket,
        overdue_amount=overdue,
        outstanding_principal=loan.outstanding_principal,
    )


def _stale(session: Session, case_id: int, actor: Actor, today: dt.date, seen_version: int) -> StaleVersion:
    """After a lost race: roll back our half and report the winner's state.

    On SQLite the loser fails as soon as it tries to write, possibly before the winner commits; wait
    (briefly) until the winner's version is visible so the reply shows the state that won.
    """
    session.rollback()
    case = service.get_case(session, case_id, actor)
    deadline = time.monotonic() + 5
    while case.version == seen_version and time.monotonic() < deadline:
        session.rollback()
        time.sleep(0.02)
        case = service.get_case(session, case_id, actor)
    return StaleVersion(
        f"Case {case_id} was changed by someone else at the same time; nothing of yours was "
        f"saved. It is now in stage {case.stage} (version {case.version}). Reload and try again.",
        current=_detail(session, case, actor, today).model_dump(mode="json"),
    )


def _lost_race(session: Session, exc: Exception) -> bool:
    if isinstance(exc, StaleDataError):
        return True
    # SQLite: a write from an outdated snapshot fails as "database is locked" (SQLITE_BUSY_SNAPSHOT).
    return (
        isinstance(exc, OperationalError)
        and session.get_bind().dialect.name == "sqlite"
        and "locked" in str(exc)
    )


def _load_for_write(
    session: Session, case_id: int, actor: Actor, version: int | None, today: dt.date
) -> Case:
    case = service.get_case(session, case_id, actor, for_update=True)
    service.check_version(case, version, lambda c: _detail(session, c, actor, today).model_dump(mode="json"))
    return case


# --- lifecycle and queue -------------------------------------------------------------------------


@router.get(
    "/cases/lifecycle", response_model=LifecycleOut, summary="The case state machine as a Mermaid diagram"
)
def lifecycle(_: Reader):
    return LifecycleOut(
        mermaid=render_mermaid(),
        stages=list(states.STAGES),
        open_stages=list(states.OPEN_STAGES),
        closed_stages=list(states.CLOSED_STAGES),
        triggers=list(states.TRIGGERS),
    )


def _held_expr(today: dt.date):
    return exists().where(
        CaseHold.case_id == Case.id,
        CaseHold.starts_on <= today,
        or_(CaseHold.ends_on.is_(None), CaseHold.ends_on > today),
    )


@router.get(
    "/cases", response_model=QueuePage, summary="The case queue (filter, sort by priority or a column)"
)
def queue(
    request: Request,
    session: DbSession,
    user: Reader,
    stage: list[str] | None = Query(None, description="One or more stages"),
    bucket: list[str] | None = Query(None),
    assignee_id: int | None = None,
    mine: bool = Query(False, description="Only cases assigned to me"),
    team: str | None = None,
    dpd_min: int | None = Query(None, ge=0),
    dpd_max: int | None = Query(None, ge=0),
    overdue_min: Decimal | None = Query(None, ge=0),
    overdue_max: Decimal | None = Query(None, ge=0),
    next_action_by: dt.date | None = Query(None, description="Next action due on or before this date"),
    on_hold: bool | None = None,
    borrower_id: int | None = None,
    status: str = Query("open", pattern="^(open|closed|all)$"),
    sort: str = Query(
        "-priority",
        description="priority or a column (dpd, overdue_amount, next_action_on, "
        "opened_on, stage_entered_on, stage, broken_promises, id); '-' for descending",
    ),
    page: int = Query(1, ge=1),
    size: int = Query(50, ge=1, le=500),
):
    today = _today(request)
    filters = []
    needs_loan = False
    if user.role == Role.collector:
        filters.append(or_(Case.assignee_id == user.id, and_(Case.team.is_not(None), Case.team == user.team)))
    if status != "all":
        filters.append(Case.is_open if status == "open" else ~Case.is_open)  # matches the partial indexes
    if stage:
        filters.append(Case.stage.in_(stage))
    if mine:
        filters.append(Case.assignee_id == user.id)
    if assignee_id is not None:
        filters.append(Case.assignee_id == assignee_id)
    if team:
        filters.append(Case.team == team)
    if next_action_by is not None:
        filters.append(Case.next_action_on <= next_action_by)
    if on_hold is not None:
        filters.append(_held_expr(today) if on_hold else ~_held_expr(today))
    if borrower_id is not None:
        filters.append(Case.borrower_id == borrower_id)
    loan_filters = []
    if bucket:
        loan_filters.append(Loan.bucket.in_(bucket))
    if dpd_min is not None:
        loan_filters.append(Loan.dpd >= dpd_min)
    if dpd_max is not None:
        loan_filters.append(Loan.dpd <= dpd_max)
    if overdue_min is not None:
        loan_filters.append(Loan.overdue_amount >= overdue_min)
    if overdue_max is not None:
        loan_filters.append(Loan.overdue_amount <= overdue_max)
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "priority":
        # Stored score (see cases.service.refresh_priorities), read in index order; ties: newest case first.
        order = [Case.priority.desc(), Case.id.desc()] if desc else [Case.priority.asc(), Case.id.asc()]
    elif key in SORT_COLUMNS:
        col = SORT_COLUMNS[key]
        needs_loan = needs_loan or col.table is Loan.__table__
        order = [col.desc() if desc else col.asc(), Case.id.asc()]
    else:
        raise ValidationFailed(
            f"Cannot sort by {key!r}.", errors=[{"field": "sort", "message": "unknown column"}]
        )
    stmt = (
        select(*QUEUE_COLUMNS)
        .join(Loan, Loan.id == Case.loan_id)
        .join(Borrower, Borrower.id == Case.borrower_id)
        .where(*filters, *loan_filters)
        .order_by(*order)
        .limit(size)
        .offset((page - 1) * size)
    )
    rows = session.execute(stmt).all()
    # Count at most COUNT_CAP matching cases: an exact count of 100k rows costs more than the page itself.
    matching = select(Case.id)
    if loan_filters:
        matching = matching.join(Loan, Loan.id == Case.loan_id)
    matching = matching.where(*filters, *loan_filters).limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(matching)) or 0
    # Plain columns, not ORM objects: no identity map or relationship loading for a read-only page.
    ids = [r.id for r in rows]
    held = set()
    if ids:
        held = set(
            session.scalars(
                select(CaseHold.case_id).where(
                    CaseHold.case_id.in_(ids),
                    CaseHold.starts_on <= today,
                    or_(CaseHold.ends_on.is_(None), CaseHold.ends_on > today),
                )
            )
        )
    items = [QueueRow(**r._mapping, on_hold=r.id in held) for r in rows]
    return QueuePage(
        items=items, total=min(total, COUNT_CAP), total_capped=total > COUNT_CAP, page=page, size=size
    )


@router.post(
    "/cases",
    response_model=CaseDetail,
    status_code=201,
    summary="Open a case for an overdue loan (returns the open case if there is one)",
)
def open_case(body: CaseOpen, request: Request, response: Response, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    existing = session.scalar(select(Case.id).where(Case.loan_id == body.loan_id, Case.is_open.is_(True)))
    case = service.open_case(session, body.loan_id, business_date=today, actor=actor)
    if existing is not None:
        response.status_code = 200
    if not service.can_see(actor, case):
        raise NotFound(f"Loan {body.loan_id} has an open case that is not in your queue.")
    return _detail(session, case, actor, today)


@router.get(
    "/cases/{case_id}", response_model=CaseDetail, summary="A case with its loan figures and allowed actions"
)
def get_case(case_id: int, request: Request, session: DbSession, user: Reader):
    actor = actor_of(user)
    return _detail(session, service.get_case(session, case_id, actor), actor, _today(request))


@router.post(
    "/cases/{case_id}/transitions",
    response_model=TransitionOut,
    summary="Move the case by a trigger (escalate, cure, de_escalate, ...)",
)
def transition(case_id: int, body: TransitionIn, request: Request, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    if body.trigger in states.NEEDS_APPROVAL:
        # Maker-checker: these moves happen only when an approved proposal takes effect, never by a
        # direct call (an approval in the request body would let one person be maker and checker).
        raise Conflict(f"'{body.trigger}' needs an approved proposal. Propose it (restructuring, legal "
                       "referral or write-off) and a second person with the authority approves it; the case "
                       "moves when the approval is given.", trigger=body.trigger)
    case = _load_for_write(session, case_id, actor, body.version, today)
    ctx = {"target": body.target}
    try:
        ev = states.fire(
            session, case, body.trigger, actor=actor, business_date=today, reason=body.reason, **ctx
        )
    except (StaleDataError, OperationalError) as exc:
        if _lost_race(session, exc):
            raise _stale(session, case_id, actor, today, body.version) from None
        raise
    return TransitionOut(case=_detail(session, case, actor, today), event=CaseEventOut.model_validate(ev))


@router.get(
    "/cases/{case_id}/timeline",
    response_model=list[TimelineItemOut],
    summary="Everything that happened on the case, oldest first",
)
def get_timeline(case_id: int, session: DbSession, user: Reader):
    case = service.get_case(session, case_id, actor_of(user))
    return [TimelineItemOut(**vars(i)) for i in service.timeline(session, case)]


# --- contacts and promises -----------------------------------------------------------------------


def _promise_in(p) -> service.PromiseIn | None:
    return None if p is None else service.PromiseIn(amount=p.amount, due_on=p.due_on, grace_days=p.grace_days)


@router.get("/cases/{case_id}/contacts", response_model=list[ContactLogOut], summary="Contact log of a case")
def list_contacts(case_id: int, session: DbSession, user: Reader):
    case = service.get_case(session, case_id, actor_of(user))
    return session.scalars(
        select(ContactLog).where(ContactLog.case_id == case.id).order_by(ContactLog.id)
    ).all()


@router.post(
    "/cases/{case_id}/contacts",
    response_model=ContactLogOut,
    status_code=201,
    summary="Log a call, SMS, visit or letter (optionally with a promise to pay)",
)
def log_contact(case_id: int, body: ContactLogIn, request: Request, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    case = _load_for_write(session, case_id, actor, body.version, today)
    return service.log_contact(
        session,
        case,
        channel=body.channel,
        outcome=body.outcome,
        actor=actor,
        business_date=today,
        contact_id=body.contact_id,
        note=body.note,
        next_action_on=body.next_action_on,
        promise=_promise_in(body.promise),
    )


@router.get("/cases/{case_id}/promises", response_model=list[PromiseOut], summary="Promises to pay on a case")
def list_promises(case_id: int, session: DbSession, user: Reader):
    case = service.get_case(session, case_id, actor_of(user))
    return session.scalars(select(Promise).where(Promise.case_id == case.id).order_by(Promise.id)).all()


@router.post(
    "/cases/{case_id}/promises", response_model=PromiseOut, status_code=201, summary="Take a promise to pay"
)
def add_promise(case_id: int, body: PromiseCreate, request: Request, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    case = _load_for_write(session, case_id, actor, body.version, today)
    return service.add_promise(session, case, _promise_in(body), actor=actor, business_date=today)


@router.post(
    "/cases/{case_id}/promises/evaluate",
    response_model=EvaluateOut,
    summary="Settle this case's due promises against payments as of today",
)
def evaluate_case_promises(case_id: int, request: Request, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    case = service.get_case(session, case_id, actor, for_update=True)
    return service.evaluate_promises(session, today, case_ids=[case.id], actor=actor)


@router.post(
    "/promises/evaluate",
    response_model=EvaluateOut,
    summary="Settle all due promises as of today (the nightly job does the same)",
)
def evaluate_all_promises(request: Request, session: DbSession, user: Supervisor):
    return service.evaluate_promises(session, _today(request), actor=actor_of(user))


# --- holds ---------------------------------------------------------------------------------------


@router.get("/cases/{case_id}/holds", response_model=list[HoldOut], summary="Holds of a case")
def list_holds(case_id: int, session: DbSession, user: Reader):
    return service.get_case(session, case_id, actor_of(user)).holds


@router.post(
    "/cases/{case_id}/holds",
    response_model=HoldOut,
    status_code=201,
    summary="Put the case on hold (dispute, bankruptcy stay, supervisor hold); may be backdated",
)
def add_hold(case_id: int, body: HoldIn, request: Request, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    case = _load_for_write(session, case_id, actor, body.version, today)
    return service.add_hold(
        session,
        case,
        kind=body.kind,
        starts_on=body.starts_on or today,
        ends_on=body.ends_on,
        reason=body.reason,
        actor=actor,
        business_date=today,
    )


@router.post(
    "/cases/{case_id}/holds/{hold_id}/release", response_model=HoldOut, summary="End a hold from today"
)
def release_hold(
    case_id: int, hold_id: int, body: HoldRelease, request: Request, session: DbSession, user: Worker
):
    actor, today = actor_of(user), _today(request)
    case = service.get_case(session, case_id, actor, for_update=True)
    return service.release_hold(session, case, hold_id, actor=actor, business_date=today, reason=body.reason)


# --- visits --------------------------------------------------------------------------------------


@router.get("/cases/{case_id}/visits", response_model=list[VisitOut], summary="Visits of a case")
def list_visits(case_id: int, session: DbSession, user: Reader):
    case = service.get_case(session, case_id, actor_of(user))
    return session.scalars(select(Visit).where(Visit.case_id == case.id).order_by(Visit.id)).all()


@router.post(
    "/cases/{case_id}/visits", response_model=VisitOut, status_code=201, summary="Schedule an on-site visit"
)
def schedule_visit(case_id: int, body: VisitIn, request: Request, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    case = _load_for_write(session, case_id, actor, body.version, today)
    return service.schedule_visit(
        session,
        case,
        scheduled_on=body.scheduled_on,
        address=body.address,
        assignee_id=body.assignee_id,
        actor=actor,
        business_date=today,
    )


@router.post("/visits/{visit_id}/report", response_model=VisitOut, summary="File the visit report")
def report_visit(visit_id: int, body: VisitReportIn, request: Request, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    v, _case = service.get_visit(session, visit_id, actor)
    return service.report_visit(
        session,
        v,
        findings=body.findings,
        operating_status=body.operating_status,
        collateral_status=body.collateral_status,
        visited_on=body.visited_on or today,
        actor=actor,
        business_date=today,
        version=body.version,
    )


@router.post(
    "/visits/{visit_id}/close", response_model=VisitOut, summary="Close a reported visit (or cancel one)"
)
def close_visit(visit_id: int, body: VisitCloseIn, request: Request, session: DbSession, user: Worker):
    actor, today = actor_of(user), _today(request)
    v, _case = service.get_visit(session, visit_id, actor)
    return service.close_visit(
        session, v, actor=actor, business_date=today, cancel=body.cancel, version=body.version
    )


@router.post(
    "/visits/{visit_id}/attachments",
    response_model=AttachmentOut,
    status_code=201,
    summary="Attach a photo or file (JPEG, PNG, PDF; up to 10 MB) to a visit report",
)
def add_attachment(
    visit_id: int, request: Request, session: DbSession, user: Worker, file: UploadFile = File(...)
):
    actor = actor_of(user)
    v, _case = service.get_visit(session, visit_id, actor)
    data = file.file.read(service.MAX_ATTACHMENT_BYTES + 1)
    return service.add_visit_attachment(
        session,
        v,
        filename=file.filename or "file",
        content_type=(file.content_type or "").split(";")[0].strip(),
        data=data,
        attachments_dir=request.app.state.settings.attachments_dir,
        actor=actor,
    )


@router.get("/visits/{visit_id}/attachments/{attachment_id}", summary="Download a visit attachment")
def get_attachment(visit_id: int, attachment_id: int, request: Request, session: DbSession, user: Reader):
    v, _case = service.get_visit(session, visit_id, actor_of(user))
    att = next((a for a in v.attachments if a.id == attachment_id), None)
    if att is None:
        raise NotFound(f"Attachment {attachment_id} does not belong to visit {visit_id}.")
    path = service.attachment_path(request.app.state.settings.attachments_dir, att)
    if not path.is_file():
        raise NotFound("The file of this attachment is missing from storage.")
    return FileResponse(path, media_type=att.content_type, filename=att.filename)


# --- assignment ----------------------------------------------------------------------------------


@router.post(
    "/cases/assignments", response_model=list[CaseOut], summary="Reassign one or many cases (supervisor)"
)
def reassign(body: AssignIn, session: DbSession, user: Supervisor):
    return service.reassign(
        session, body.case_ids, actor=actor_of(user), assignee_id=body.assignee_id, team=body.team
    )


@router.get("/assignment-rules", response_model=list[RuleOut], summary="Rules that assign new cases")
def list_rules(session: DbSession, _: Supervisor):
    return session.scalars(select(AssignmentRule).order_by(AssignmentRule.priority, AssignmentRule.id)).all()


@router.post("/assignment-rules", response_model=RuleOut, status_code=201, summary="Add an assignment rule")
def add_rule(body: RuleIn, session: DbSession, user: Supervisor):
    return service.add_rule(session, actor_of(user), **body.model_dump())


# --- borrower view -------------------------------------------------------------------------------


@router.get(
    "/borrowers/{borrower_id}/cases",
    response_model=BorrowerCasesOut,
    summary="All of a borrower's loans and cases together",
)
def borrower_cases(borrower_id: int, session: DbSession, user: Reader):
    actor = actor_of(user)
    b = session.get(Borrower, borrower_id)
    if b is None:
        raise NotFound(f"Borrower {borrower_id} does not exist.")
    cases = [
        c
        for c in session.scalars(select(Case).where(Case.borrower_id == b.id).order_by(Case.id))
        if service.can_see(actor, c)
    ]
    loans = session.scalars(select(Loan).where(Loan.borrower_id == b.id).order_by(Loan.id)).all()
    open_by_loan = {c.loan_id: c.id for c in cases if c.is_open}
    rows = [
        BorrowerLoanRow(
            id=ln.id,
            external_id=ln.external_id,
            contract_no=ln.contract_no,
            status=ln.status.value,
            dpd=ln.dpd,
            bucket=ln.bucket,
            overdue_amount=ln.overdue_amount,
            outstanding_principal=ln.outstanding_principal,
            open_case_id=open_by_loan.get(ln.id),
        )
        for ln in loans
    ]
    return BorrowerCasesOut(
        borrower_id=b.id,
        borrower_name=b.name,
        uscc=b.uscc,
        loans=rows,
        cases=[CaseOut.model_validate(c) for c in cases],
        total_overdue=sum((r.overdue_amount for r in rows), Decimal(0)),
    )


@router.post(
    "/borrowers/{borrower_id}/contact-logs",
    response_model=list[ContactLogOut],
    status_code=201,
    summary="Log one contact for several cases of the borrower at once",
)
def log_borrower_contact(
    borrower_id: int, body: BorrowerContactLogIn, request: Request, session: DbSession, user: Worker
):
    actor, today = actor_of(user), _today(request)
    if session.get(Borrower, borrower_id) is None:
        raise NotFound(f"Borrower {borrower_id} does not exist.")
    return service.log_borrower_contact(
        session,
        borrower_id,
        body.case_ids,
        actor=actor,
        business_date=today,
        channel=body.channel,
        outcome=body.outcome,
        contact_id=body.contact_id,
        note=body.note,
        next_action_on=body.next_action_on,
        promise=_promise_in(body.promise),
    )
