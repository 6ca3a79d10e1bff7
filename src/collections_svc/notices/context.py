"""Build the template context of a case: amounts as of a business date, formatted per locale."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collections_svc.cases.models import Case
from collections_svc.config import Settings
from collections_svc.loans.models import Borrower, Contact, Installment, Loan
from collections_svc.notices.amounts import money, rmb_upper
from collections_svc.notices.templates import OPT_OUT_HINT

PAY_BY_DAYS = 10
OFFER_DAYS = 30
REFERRAL_DAYS = 15
DISPUTE_DAYS = 15


def case_context(
    session: Session,
    settings: Settings,
    case: Case,
    contact: Contact | None,
    template: str,
    locale: str,
    business_date: dt.date,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    loan = session.get(Loan, case.loan_id)
    borrower = session.get(Borrower, case.borrower_id)
    if loan is None or borrower is None:  # pragma: no cover - foreign keys forbid it
        raise LookupError(f"case {case.id} has no loan or borrower")
    overdue = list(
        session.scalars(
            select(Installment)
            .where(
                Installment.loan_id == loan.id,
                Installment.due_on < business_date,
                Installment.settled_on.is_(None),
            )
            .order_by(Installment.seq)
        )
    )
    overdue = [i for i in overdue if i.unpaid > 0]
    cur = loan.currency
    p = sum((i.principal_due - i.principal_paid for i in overdue), Decimal("0.00"))
    it = sum((i.interest_due - i.interest_paid for i in overdue), Decimal("0.00"))
    pen = sum((i.penalty_due - i.penalty_paid for i in overdue), Decimal("0.00"))
    total = p + it + pen
    oldest = overdue[0].due_on if overdue else None
    dpd = (business_date - oldest).days if oldest else 0
    m = lambda v: money(v, cur, locale)  # noqa: E731
    address = (
        (contact.address if contact and contact.address else None)
        or next((c.address for c in borrower.contacts if c.address), None)
        or borrower.name
    )
    ctx: dict[str, Any] = {
        "bank_name": settings.bank.name if locale == "zh_CN" else settings.bank.name_en,
        "bank_phone": settings.bank.phone,
        "bank_address": settings.bank.address,
        "reference": f"CS{case.id:06d}-{template}-{business_date:%Y%m%d}",
        "letter_date": business_date.isoformat(),
        "as_of": business_date.isoformat(),
        "borrower_name": borrower.name,
        "borrower_uscc": borrower.uscc,
        "contact_name": contact.name if contact else borrower.name,
        "contact_address": address,
        "contract_no": loan.contract_no,
        "dpd": dpd,
        "outstanding_principal": m(loan.principal - loan.principal_paid),
        "oldest_due_on": oldest.isoformat() if oldest else "-",
        "overdue_principal": m(p),
        "overdue_interest": m(it),
        "overdue_penalty": m(pen),
        "overdue_amount": m(total),
        "overdue_amount_upper": rmb_upper(total),
        "overdue_lines": [
            {"seq": i.seq, "due_on": i.due_on.isoformat(), "amount": m(i.unpaid)} for i in overdue
        ],
        "dispute_days": DISPUTE_DAYS,
        "pay_by": (business_date + dt.timedelta(days=PAY_BY_DAYS)).isoformat(),
        "offer_expires_on": (business_date + dt.timedelta(days=OFFER_DAYS)).isoformat(),
        "referral_date": (business_date + dt.timedelta(days=REFERRAL_DAYS)).isoformat(),
        "opt_out_hint": OPT_OUT_HINT[locale] if settings.notices.wants_opt_out_hint else "",
        "_currency": cur,
        "_overdue_total": total,
    }
    for k, v in (extra or {}).items():
        ctx[k] = v.isoformat() if isinstance(v, dt.date) else v
    return ctx
