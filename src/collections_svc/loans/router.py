from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import or_, select

from collections_svc.audit.service import record
from collections_svc.auth.deps import READERS, DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.common.clock import request_business_date as _today
from collections_svc.common.pagination import Page, paginate
from collections_svc.errors import NotFound, StaleVersion, ValidationFailed
from collections_svc.loans import dpd, service
from collections_svc.loans.models import Borrower, Contact, Loan, LoanStatus, Payment
from collections_svc.loans.schemas import (
    BorrowerDetail,
    BorrowerOut,
    BorrowerUpdate,
    BucketLineOut,
    ContactIn,
    ContactOut,
    ContactUpdate,
    DpdRunOut,
    LoanDetail,
    LoanOut,
    PaymentIn,
    PaymentOut,
)

router = APIRouter(prefix="/api/v1", tags=["loan book"])
Reader = Annotated[User, Depends(allow(*READERS, Role.integration))]
Editor = Annotated[User, Depends(allow(Role.admin, Role.supervisor, Role.collector, Role.integration))]
PaymentWriter = Annotated[User, Depends(allow(Role.admin, Role.integration))]


@router.get("/borrowers", response_model=Page[BorrowerOut], summary="Search borrowers")
def list_borrowers(session: DbSession, _: Reader, q: str | None = Query(None, max_length=100),
                   region: str | None = None, group_id: str | None = None,
                   page: int = Query(1, ge=1), size: int = Query(50, ge=1, le=500)):
    stmt = select(Borrower)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Borrower.name.like(like), Borrower.uscc == q.upper(), Borrower.external_id == q))
    if region:
        stmt = stmt.where(Borrower.region == region)
    if group_id:
        stmt = stmt.where(Borrower.group_id == group_id)
    rows, total = paginate(session, stmt.order_by(Borrower.name, Borrower.id), page, size)
    return Page[BorrowerOut](items=[BorrowerOut.model_validate(r[0]) for r in rows], total=total, page=page, size=size)


@router.get("/borrowers/{borrower_id}", response_model=BorrowerDetail, summary="A borrower with contacts and loans")
def get_borrower(borrower_id: int, session: DbSession, _: Reader):
    return service.get_borrower(session, borrower_id)


@router.patch("/borrowers/{borrower_id}", response_model=BorrowerOut, summary="Change a borrower")
def update_borrower(borrower_id: int, body: BorrowerUpdate, session: DbSession,
                    user: Annotated[User, Depends(allow(Role.admin, Role.supervisor, Role.integration))]):
    b = service.get_borrower(session, borrower_id)
    if b.version != body.version:
        raise StaleVersion("This borrower was changed by someone else. Reload and try again.",
                           current_version=b.version)
    diff = service._apply(b, body.model_dump(exclude_unset=True, exclude={"version"}))
    session.flush()
    record(session, actor_of(user), "borrower.update", "borrower", b.id, after=diff)
    return b


@router.post("/borrowers/{borrower_id}/contacts", response_model=ContactOut, status_code=201,
             summary="Add a contact (the borrower's own people or a guarantor)")
def add_contact(borrower_id: int, body: ContactIn, session: DbSession, user: Editor):
    b = service.get_borrower(session, borrower_id)
    body = body.model_copy(update={"borrower_external_id": b.external_id})
    st = service.upsert_contacts(session, [(1, body)], actor_of(user))
    if st.errors:
        raise ValidationFailed(st.errors[0]["message"],
                               errors=[{"field": e["column"], "message": e["message"]} for e in st.errors])
    return session.scalar(select(Contact).where(Contact.borrower_id == b.id, Contact.role == body.role,
                                                Contact.name == body.name))


@router.patch("/contacts/{contact_id}", response_model=ContactOut, summary="Change a contact")
def update_contact(contact_id: int, body: ContactUpdate, session: DbSession, user: Editor):
    c = session.get(Contact, contact_id)
    if c is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    if c.version != body.version:
        raise StaleVersion("This contact was changed by someone else. Reload and try again.",
                           current_version=c.version)
    values = body.model_dump(exclude_unset=True, exclude={"version"})
    if "phone" in values:
        c.phone_invalid = False
    diff = service._apply(c, values)
    session.flush()
    diff.pop("phone", None)
    record(session, actor_of(user), "contact.update", "contact", c.id, after=diff)
    return c


@router.get("/loans", response_model=Page[LoanOut], summary="List loans with DPD and bucket")
def list_loans(session: DbSession, _: Reader, borrower_id: int | None = None, bucket: str | None = None,
               status: LoanStatus | None = None, dpd_min: int | None = Query(None, ge=0),
               dpd_max: int | None = Query(None, ge=0), page: int = Query(1, ge=1),
               size: int = Query(50, ge=1, le=500)):
    stmt = select(Loan)
    if borrower_id is not None:
        stmt = stmt.where(Loan.borrower_id == borrower_id)
    if bucket:
        stmt = stmt.where(Loan.bucket == bucket)
    if status:
        stmt = stmt.where(Loan.status == status)
    if dpd_min is not None:
        stmt = stmt.where(Loan.dpd >= dpd_min)
    if dpd_max is not None:
        stmt = stmt.where(Loan.dpd <= dpd_max)
    rows, total = paginate(session, stmt.order_by(Loan.dpd.desc(), Loan.id), page, size)
    return Page[LoanOut](items=[LoanOut.model_validate(r[0]) for r in rows], total=total, page=page, size=size)


@router.get("/loans/{loan_id}", response_model=LoanDetail, summary="A loan with its installment schedule")
def get_loan(loan_id: int, session: DbSession, _: Reader):
    return service.get_loan(session, loan_id)


@router.get("/loans/{loan_id}/payments", response_model=list[PaymentOut], summary="Payments of a loan")
def loan_payments(loan_id: int, session: DbSession, _: Reader):
    service.get_loan(session, loan_id)
    stmt = select(Payment).where(Payment.loan_id == loan_id).order_by(Payment.paid_on, Payment.id)
    return session.scalars(stmt).all()


@router.post("/payments", response_model=PaymentOut, status_code=201,
             summary="Record a payment (idempotent by external_id; 200 when already recorded)")
def post_payment(body: PaymentIn, request: Request, session: DbSession, user: PaymentWriter):
    pay, created = service.record_payment(session, request.app.state.settings, body, actor_of(user), _today(request))
    out = PaymentOut.model_validate(pay)
    out.created = created
    if not created:
        from fastapi.responses import JSONResponse
        return JSONResponse(out.model_dump(mode="json"), status_code=200)
    return out


@router.get("/book/buckets", response_model=list[BucketLineOut], summary="Loans and balances per DPD bucket")
def buckets(request: Request, session: DbSession, _: Reader):
    return [BucketLineOut(**b.__dict__) for b in dpd.bucket_summary(session, request.app.state.settings.dpd)]


@router.post("/book/dpd", response_model=DpdRunOut, summary="Recompute DPD and buckets for the whole book")
def run_dpd(request: Request, session: DbSession, user: Annotated[User, Depends(allow(Role.admin))],
            as_of: dt.date | None = None):
    settings = request.app.state.settings
    day = as_of or _today(request)
    res = dpd.run_dpd(session, day, settings.dpd)
    record(session, actor_of(user), "book.dpd", "book", None, after={"as_of": str(day), "changed": res.loans_changed})
    return DpdRunOut(as_of=day, loans_changed=res.loans_changed, loans_reset=res.loans_reset,
                     bucket_moves=res.bucket_moves,
                     buckets=[BucketLineOut(**b.__dict__) for b in dpd.bucket_summary(session, settings.dpd)])
