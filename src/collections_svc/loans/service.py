"""Loan book writes: idempotent upserts by external id and payment allocation. Services only flush."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collections_svc.audit.service import record
from collections_svc.auth.service import Actor
from collections_svc.config import Settings
from collections_svc.errors import Conflict, NotFound, ValidationFailed
from collections_svc.loans import allocation, dpd
from collections_svc.loans.models import Borrower, Contact, Installment, Loan, LoanStatus, Payment, PaymentAllocation
from collections_svc.loans.schemas import BorrowerIn, ContactIn, InstallmentIn, LoanIn, PaymentIn


@dataclass
class UpsertStats:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: UpsertStats) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.errors.extend(other.errors)


def _apply(obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Set changed attributes only; return {field: [old, new]} so unchanged rows write nothing."""
    diff = {}
    for k, v in values.items():
        old = getattr(obj, k)
        if old != v:
            diff[k] = [_plain(old), _plain(v)]
            setattr(obj, k, v)
    return diff


def _plain(v: Any) -> Any:
    if isinstance(v, (dt.date, Decimal)):
        return str(v)
    return getattr(v, "value", v)


def _by_external_id(session: Session, model: Any, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    return {o.external_id: o for o in session.scalars(select(model).where(model.external_id.in_(ids)))}


def upsert_borrowers(session: Session, rows: Sequence[tuple[int, BorrowerIn]], actor: Actor) -> UpsertStats:
    st = UpsertStats()
    existing = _by_external_id(session, Borrower, {r.external_id for _, r in rows})
    by_uscc = {b.uscc: b.external_id for b in session.scalars(
        select(Borrower).where(Borrower.uscc.in_({r.uscc for _, r in rows})))}
    for n, r in rows:
        owner = by_uscc.get(r.uscc)
        if owner is not None and owner != r.external_id:
            st.errors.append({"row": n, "column": "uscc",
                              "message": f"this USCC already belongs to borrower {owner}"})
            continue
        by_uscc[r.uscc] = r.external_id
        b = existing.get(r.external_id)
        values = r.model_dump()
        if b is None:
            b = Borrower(**values)
            session.add(b)
            existing[r.external_id] = b
            st.created += 1
            session.flush()
            record(session, actor, "borrower.create", "borrower", b.id, after={"external_id": b.external_id})
        elif diff := _apply(b, values):
            st.updated += 1
            session.flush()
            record(session, actor, "borrower.update", "borrower", b.id, after=diff)
        else:
            st.unchanged += 1
    return st


def upsert_contacts(session: Session, rows: Sequence[tuple[int, ContactIn]], actor: Actor) -> UpsertStats:
    st = UpsertStats()
    borrowers = _by_external_id(session, Borrower, {r.borrower_external_id for _, r in rows})
    for n, r in rows:
        b = borrowers.get(r.borrower_external_id)
        if b is None:
            st.errors.append({"row": n, "column": "borrower_external_id",
                              "message": f"unknown borrower {r.borrower_external_id}"})
            continue
        values = r.model_dump(exclude={"borrower_external_id"})
        c = session.scalar(select(Contact).where(Contact.borrower_id == b.id, Contact.role == r.role,
                                                 Contact.name == r.name))
        if c is None:
            c = Contact(borrower_id=b.id, **values)
            session.add(c)
            st.created += 1
            session.flush()
            record(session, actor, "contact.create", "contact", c.id, after={"borrower_id": b.id, "role": r.role.value})
        elif diff := _apply(c, values):
            st.updated += 1
            session.flush()
            diff.pop("phone", None)  # phone numbers stay out of the audit trail (masked elsewhere)
            record(session, actor, "contact.update", "contact", c.id, after=diff)
        else:
            st.unchanged += 1
    return st


def upsert_loans(session: Session, rows: Sequence[tuple[int, LoanIn]], actor: Actor) -> UpsertStats:
    st = UpsertStats()
    borrowers = _by_external_id(session, Borrower, {r.borrower_external_id for _, r in rows})
    existing = _by_external_id(session, Loan, {r.external_id for _, r in rows})
    for n, r in rows:
        b = borrowers.get(r.borrower_external_id)
        if b is None:
            st.errors.append({"row": n, "column": "borrower_external_id",
                              "message": f"unknown borrower {r.borrower_external_id}"})
            continue
        values = r.model_dump(exclude={"borrower_external_id"})
        values["borrower_id"] = b.id
        loan = existing.get(r.external_id)
        if loan is None:
            loan = Loan(**values)
            session.add(loan)
            existing[r.external_id] = loan
            st.created += 1
            session.flush()
            record(session, actor, "loan.create", "loan", loan.id,
                   after={"external_id": loan.external_id, "principal": str(loan.principal)})
        else:
            if loan.principal_paid > 0 and values["principal"] != loan.principal:
                st.errors.append({"row": n, "column": "principal",
                                  "message": "principal cannot change after repayments; use a restructuring"})
                continue
            if diff := _apply(loan, values):
                st.updated += 1
                session.flush()
                record(session, actor, "loan.update", "loan", loan.id, after=diff)
            else:
                st.unchanged += 1
    return st


def upsert_installments(session: Session, rows: Sequence[tuple[int, InstallmentIn]], actor: Actor) -> UpsertStats:
    st = UpsertStats()
    loans = _by_external_id(session, Loan, {r.loan_external_id for _, r in rows})
    ids = [lo.id for lo in loans.values()]
    current = {(i.loan_id, i.seq): i for i in session.scalars(select(Installment).where(Installment.loan_id.in_(ids)))}
    touched: set[int] = set()
    for n, r in rows:
        loan = loans.get(r.loan_external_id)
        if loan is None:
            st.errors.append({"row": n, "column": "loan_external_id", "message": f"unknown loan {r.loan_external_id}"})
            continue
        if not (loan.disbursed_on <= r.due_on):
            st.errors.append({"row": n, "column": "due_on", "message": "due date is before the disbursement date"})
            continue
        values = r.model_dump(exclude={"loan_external_id", "seq"})
        inst = current.get((loan.id, r.seq))
        if inst is None:
            inst = Installment(loan_id=loan.id, seq=r.seq, **values)
            session.add(inst)
            current[(loan.id, r.seq)] = inst
            st.created += 1
            touched.add(loan.id)
        else:
            if any(getattr(inst, f"{c}_due") > values[f"{c}_due"] and getattr(inst, f"{c}_paid") > values[f"{c}_due"]
                   for c in ("principal", "interest", "penalty")):
                st.errors.append({"row": n, "column": "principal_due",
                                  "message": "the new amount due is below what was already paid"})
                continue
            if _apply(inst, values):
                inst.settled_on = inst.settled_on if inst.unpaid == 0 else None
                st.updated += 1
                touched.add(loan.id)
            else:
                st.unchanged += 1
    session.flush()
    for loan in loans.values():
        if loan.id in touched:
            total = sum((i.principal_due for (lid, _), i in current.items() if lid == loan.id), Decimal(0))
            if total > loan.principal:
                st.errors.append({"row": 0, "column": "principal_due",
                                  "message": f"schedule of loan {loan.external_id} exceeds its principal "
                                             f"({total} > {loan.principal})"})
                continue
            loan.scheduled_principal = total
            record(session, actor, "schedule.upsert", "loan", loan.id, after={"scheduled_principal": str(total)})
    session.flush()
    return st


def record_payment(session: Session, settings: Settings, p: PaymentIn, actor: Actor, business_date: dt.date
                   ) -> tuple[Payment, bool]:
    """Record and allocate one payment; idempotent by external id. Returns (payment, created)."""
    prior = session.scalar(select(Payment).where(Payment.external_id == p.external_id))
    loan = session.scalar(select(Loan).where(Loan.external_id == p.loan_external_id).with_for_update())
    if loan is None:
        raise NotFound(f"Loan {p.loan_external_id} does not exist.",
                       errors=[{"field": "loan_external_id", "message": "unknown loan"}])
    if prior is not None:
        if prior.loan_id == loan.id and prior.amount == p.amount and prior.paid_on == p.paid_on:
            return prior, False
        raise Conflict(f"Payment {p.external_id} was already recorded with different details; "
                       "a correction needs a new external id.")
    if p.paid_on > business_date:
        raise ValidationFailed("The value date is in the future.",
                               errors=[{"field": "paid_on", "message": f"after today's business date {business_date}"}])
    pay = Payment(external_id=p.external_id, loan_id=loan.id, paid_on=p.paid_on, amount=p.amount, note=p.note)
    session.add(pay)
    if loan.status == LoanStatus.written_off:
        # Off the books: the money is a recovery, reported as such, not allocated to the schedule.
        pay.recovery = True
        pay.unapplied = p.amount
    else:
        open_insts = list(session.scalars(
            select(Installment).where(Installment.loan_id == loan.id, Installment.settled_on.is_(None))
            .order_by(Installment.due_on, Installment.seq)))
        allocs, rest = allocation.allocate(open_insts, p.amount, settings.payments.allocation_order, p.paid_on)
        session.flush()
        for a in allocs:
            session.add(PaymentAllocation(payment_id=pay.id, installment_id=a.installment.id,
                                          component=a.component, amount=a.amount))
        principal = sum((a.amount for a in allocs if a.component == "principal"), Decimal(0))
        loan.principal_paid = loan.principal_paid + principal
        pay.unapplied = rest
        if rest > 0:
            loan.overpayment = loan.overpayment + rest
        if loan.principal_paid >= loan.principal and all(i.settled_on is not None for i in open_insts):
            loan.status = LoanStatus.paid_off
            loan.dpd, loan.overdue_amount, loan.oldest_unpaid_due_on = 0, Decimal(0), None
    session.flush()
    record(session, actor, "payment.create", "loan", loan.id,
           after={"payment": p.external_id, "amount": str(p.amount), "paid_on": str(p.paid_on),
                  "unapplied": str(pay.unapplied)})
    if loan.status == LoanStatus.active:
        dpd.run_dpd(session, business_date, settings.dpd, loan_ids=[loan.id])
    from collections_svc.cases import service as cases_service  # late import: cases depends on loans
    cases_service.on_payment(session, loan, business_date, actor)
    return pay, True


def get_loan(session: Session, loan_id: int) -> Loan:
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound(f"Loan {loan_id} does not exist.")
    return loan


def get_borrower(session: Session, borrower_id: int) -> Borrower:
    b = session.get(Borrower, borrower_id)
    if b is None:
        raise NotFound(f"Borrower {borrower_id} does not exist.")
    return b
