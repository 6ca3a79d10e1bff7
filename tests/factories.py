"""Small builders for loan-book rows used across tests (through the real services)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from sqlalchemy.orm import Session

from collections_svc.auth.service import SYSTEM
from collections_svc.loans import service
from collections_svc.loans.models import Loan
from collections_svc.loans.schemas import BorrowerIn, ContactIn, InstallmentIn, LoanIn, PaymentIn
from collections_svc.loans.validators import uscc_check_char

_seq = itertools.count(1)


def uscc(n: int) -> str:
    body = f"91310000{n:09d}"
    return body + uscc_check_char(body)


def make_loan(session: Session, *, schedule: list[tuple[str, str, str]], principal: str | None = None,
              borrower: str | None = None, product: str = "working_capital", disbursed_on: str = "2025-12-01",
              maturity_on: str | None = None, group_id: str | None = None) -> Loan:
    """schedule: [(due_on, principal_due, interest_due)]; returns the loan."""
    n = next(_seq)
    bext = borrower or f"TB{n:05d}"
    if borrower is None or not service._by_external_id(session, __import__(
            "collections_svc.loans.models", fromlist=["Borrower"]).Borrower, {bext}):
        service.upsert_borrowers(session, [(1, BorrowerIn(external_id=bext, name=f"测试企业{n}有限公司",
                                                            uscc=uscc(n * 7919 % 10**9), group_id=group_id))], SYSTEM)
        service.upsert_contacts(session, [(1, ContactIn(borrower_external_id=bext, role="legal_representative",
                                                          name=f"法人{n}", phone="+8613800138000"))], SYSTEM)
    total = sum(Decimal(p) for _, p, _ in schedule)
    lext = f"TL{n:05d}"
    st = service.upsert_loans(session, [(1, LoanIn(
        external_id=lext, borrower_external_id=bext, contract_no=f"HT{n}", product=product,
        principal=Decimal(principal) if principal else total, annual_rate=Decimal("0.0435"),
        disbursed_on=dt.date.fromisoformat(disbursed_on),
        maturity_on=dt.date.fromisoformat(maturity_on or schedule[-1][0])))], SYSTEM)
    assert not st.errors, st.errors
    st = service.upsert_installments(session, [(k + 1, InstallmentIn(
        loan_external_id=lext, seq=k + 1, due_on=dt.date.fromisoformat(d), principal_due=Decimal(p),
        interest_due=Decimal(i))) for k, (d, p, i) in enumerate(schedule)], SYSTEM)
    assert not st.errors, st.errors
    return service._by_external_id(session, Loan, {lext})[lext]


def pay(session: Session, settings, loan: Loan, amount: str, paid_on: str, today: str | None = None):
    n = next(_seq)
    return service.record_payment(session, settings, PaymentIn(
        external_id=f"TP{n:06d}", loan_external_id=loan.external_id, paid_on=dt.date.fromisoformat(paid_on),
        amount=Decimal(amount)), SYSTEM, dt.date.fromisoformat(today or paid_on))


def hold_case(session: Session, case_id: int, starts_on: dt.date, kind: str = "dispute") -> None:
    """Put a case on an open-ended hold through the cases service (the sweep must then leave it alone)."""
    from collections_svc.auth.service import SYSTEM
    from collections_svc.cases import service
    from collections_svc.cases.models import Case
    service.add_hold(session, session.get(Case, case_id), kind=kind, starts_on=starts_on, ends_on=None,
                     reason="borrower disputes the amount", actor=SYSTEM, business_date=starts_on)
