"""Builders for case tests: overdue loans and cases put directly into a stage (tests only)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from collections_svc.cases import service
from collections_svc.cases.models import CLOSED_STAGES, Case
from collections_svc.loans import dpd
from collections_svc.loans.models import Loan
from tests.factories import make_loan

TODAY = dt.date(2026, 4, 1)  # the business date of the `clock` fixture


def overdue_loan(
    session: Session,
    settings,
    *,
    borrower: str | None = None,
    principal_due: str = "100000",
    as_of: dt.date = TODAY,
) -> Loan:
    """A loan whose first installment (2026-02-15) is unpaid: DPD 45 on 2026-04-01."""
    loan = make_loan(
        session,
        borrower=borrower,
        schedule=[("2026-02-15", principal_due, "2000"), ("2026-08-15", principal_due, "2000")],
    )
    dpd.run_dpd(session, as_of, settings.dpd, loan_ids=[loan.id])
    session.expire(loan)
    return loan


def case_in_stage(
    session: Session,
    loan: Loan,
    stage: str,
    *,
    team: str | None = "east",
    assignee_id: int | None = None,
    on: dt.date = TODAY,
) -> Case:
    """A case created directly in ``stage`` (test setup only; production code opens cases in classified)."""
    closed = stage in CLOSED_STAGES
    case = Case(
        loan_id=loan.id,
        borrower_id=loan.borrower_id,
        stage=stage,
        is_open=not closed,
        opened_on=on,
        stage_entered_on=on,
        closed_on=on if closed else None,
        team=team,
        assignee_id=assignee_id,
        broken_promises=0,
    )
    session.add(case)
    session.flush()
    service.refresh_priorities(session, case_ids=[case.id])
    session.refresh(case)
    return case
