"""A fixture book with known movements over two month-ends, driven through the real sweep.

Sweeps run on 2026-01-30 (Friday; January's month-end business date, a keyframe), 2026-02-16 (February's
keyframe) and 2026-02-27 (Friday; February's month-end business date, only changed loans get a row).

loan  outstanding 01-30   at 2026-01-30 (DPD, bucket)        what happens               at 2026-02-27
L1    100,000             current, M0                        nothing                    current, M0
L2    200,000             current, M0 (first due 02-10)      02-10 instalment unpaid    DPD 17, M1
L3    300,000             due 01-10 unpaid: DPD 20, M1       pays 101,000 on 02-05      DPD 0, M0 (cured)
L4    400,000             due 01-10 unpaid: DPD 20, M1       nothing                    DPD 48, M2
L5    500,000             due 2025-11-25 unpaid: DPD 66, M3  nothing                    DPD 94, M4
L6     50,000             due 01-15 unpaid: DPD 15, M1       pays all on 02-10          paid off
L7    700,000             due 2025-11-10 unpaid: DPD 81, M3  written off 02-20          written off
L8    400,000             due 2025-12-20 unpaid: DPD 41, M2  pays the 12-20 one 02-03   due 01-20 unpaid: DPD 38, M2
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from collections_svc.cases.models import AssignmentRule, Case, ContactLog, Promise
from collections_svc.loans.models import Contact, Loan, LoanStatus
from collections_svc.sweep.service import run_sweep
from tests.factories import make_loan, pay

D = dt.date.fromisoformat
JAN, FEB_KEY, FEB = D("2026-01-30"), D("2026-02-16"), D("2026-02-27")


@pytest.fixture
def book(session, settings, users):
    collector = users["collector"]
    session.add(AssignmentRule(priority=1, team="east", assignee_id=collector.id, active=True))
    session.flush()
    L = {}
    L["L1"] = make_loan(session, schedule=[("2026-06-10", "100000.00", "400.00")])
    L["L2"] = make_loan(session, schedule=[("2026-02-10", "20000.00", "800.00"),
                                           ("2026-08-10", "180000.00", "800.00")])
    L["L3"] = make_loan(session, schedule=[("2026-01-10", "100000.00", "1000.00"),
                                           ("2026-06-10", "200000.00", "1000.00")])
    L["L4"] = make_loan(session, schedule=[("2026-01-10", "100000.00", "1000.00"),
                                           ("2026-07-10", "300000.00", "1000.00")], product="fixed_asset")
    L["L5"] = make_loan(session, schedule=[("2025-11-25", "100000.00", "1000.00"),
                                           ("2026-11-25", "400000.00", "1000.00")], disbursed_on="2025-06-01")
    L["L6"] = make_loan(session, schedule=[("2026-01-15", "50000.00", "300.00")])
    L["L7"] = make_loan(session, schedule=[("2025-11-10", "100000.00", "2000.00"),
                                           ("2026-11-10", "600000.00", "2000.00")], disbursed_on="2025-06-01")
    L["L8"] = make_loan(session, schedule=[("2025-12-20", "80000.00", "800.00"),
                                           ("2026-01-20", "80000.00", "800.00"),
                                           ("2026-12-20", "240000.00", "800.00")], disbursed_on="2025-06-01")
    session.commit()
    ids = {k: v.id for k, v in L.items()}
    borrowers = {k: v.borrower_id for k, v in L.items()}

    def loan(k: str) -> Loan:    # the sweep expunges the session: look the loan up again
        return session.get(Loan, ids[k])

    rep = run_sweep(session, JAN, settings)
    session.commit()
    assert rep.status == "succeeded", rep.errors
    case_of = {k: session.query(Case).filter_by(loan_id=v).one() for k, v in ids.items() if k not in ("L1", "L2")}

    # Promises (IND-05): L3 keeps, L4 breaks (nothing paid), L8 pays part; L5's falls due in March.
    def promise(k: str, amount: str, promised: str, due: str, grace: int = 0) -> None:
        session.add(Promise(case_id=case_of[k].id, loan_id=ids[k], amount=Decimal(amount),
                            promised_on=D(promised), due_on=D(due), grace_days=grace, created_by="collector1"))

    promise("L3", "101000.00", "2026-02-02", "2026-02-06")
    promise("L4", "50000.00", "2026-02-02", "2026-02-12", grace=2)
    promise("L8", "161600.00", "2026-02-02", "2026-02-05")
    promise("L5", "10000.00", "2026-02-02", "2026-03-10")
    # Contact log: three calls by collector1 (two conversations with the debtor's people), one SMS.
    rep_contact = {k: session.query(Contact).filter_by(borrower_id=b).first() for k, b in borrowers.items()}
    for k, channel, outcome in (("L3", "phone", "reached"), ("L4", "phone", "no_answer"),
                                ("L8", "phone", "promised"), ("L4", "sms", "left_message")):
        session.add(ContactLog(case_id=case_of[k].id, borrower_id=borrowers[k], contact_id=rep_contact[k].id,
                               channel=channel, outcome=outcome, business_date=D("2026-02-02"), actor="collector1"))
    session.commit()

    pay(session, settings, loan("L8"), "80800.00", "2026-02-03")
    pay(session, settings, loan("L3"), "101000.00", "2026-02-05")
    pay(session, settings, loan("L6"), "50300.00", "2026-02-10")
    session.commit()
    rep = run_sweep(session, FEB_KEY, settings)
    session.commit()
    assert rep.status == "succeeded", rep.errors

    loan("L7").status = LoanStatus.written_off            # the write-off itself is the legal package's business
    session.commit()
    pay(session, settings, loan("L7"), "70000.00", "2026-02-25")   # a recovery after write-off (IND-06)
    session.commit()
    rep = run_sweep(session, FEB, settings)
    session.commit()
    assert rep.status == "succeeded", rep.errors
    return ids
