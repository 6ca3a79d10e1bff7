"""Payments through the API: allocation order, overpayments, idempotency, recoveries, value dates."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from collections_svc.auth.service import SYSTEM
from collections_svc.loans.models import Installment, LoanStatus, Payment, PaymentAllocation
from collections_svc.loans.schemas import InstallmentIn
from collections_svc.loans.service import upsert_installments
from tests.factories import make_loan


def _post(client, auth, loan, amount, paid_on="2026-04-01", ext="PAY-1"):
    return client.post(
        "/api/v1/payments",
        headers=auth("integration"),
        json={"external_id": ext, "loan_external_id": loan.external_id, "paid_on": paid_on, "amount": amount},
    )


def _with_penalty(session, loan, seq, due_on, principal, interest, penalty):
    st = upsert_installments(
        session,
        [
            (
                1,
                InstallmentIn(
                    loan_external_id=loan.external_id,
                    seq=seq,
                    due_on=due_on,
                    principal_due=Decimal(principal),
                    interest_due=Decimal(interest),
                    penalty_due=Decimal(penalty),
                ),
            )
        ],
        SYSTEM,
    )
    assert not st.errors, st.errors


def _allocations(session, external_id):
    pay = session.scalars(select(Payment).where(Payment.external_id == external_id)).one()
    rows = session.execute(
        select(Installment.seq, PaymentAllocation.component, PaymentAllocation.amount)
        .join(Installment, Installment.id == PaymentAllocation.installment_id)
        .where(PaymentAllocation.payment_id == pay.id)
        .order_by(PaymentAllocation.id)
    ).all()
    return [(seq, comp, str(amount)) for seq, comp, amount in rows]


def test_payment_settles_penalty_then_interest_then_principal_of_the_oldest_installment_first(
    client, auth, session
):
    loan = make_loan(
        session, schedule=[("2026-02-15", "1000.00", "50.00"), ("2026-03-15", "1000.00", "40.00")]
    )
    _with_penalty(session, loan, 1, "2026-02-15", "1000.00", "50.00", "5.00")
    _with_penalty(session, loan, 2, "2026-03-15", "1000.00", "40.00", "3.00")
    session.commit()
    r = _post(client, auth, loan, "1100.00")
    assert r.status_code == 201, r.text
    assert r.json()["unapplied"] == "0.00"
    assert _allocations(session, "PAY-1") == [
        (1, "penalty", "5.00"),
        (1, "interest", "50.00"),
        (1, "principal", "1000.00"),
        (2, "penalty", "3.00"),
        (2, "interest", "40.00"),
        (2, "principal", "2.00"),
    ]
    insts = {i.seq: i for i in session.scalars(select(Installment).where(Installment.loan_id == loan.id))}
    assert insts[1].settled_on is not None and str(insts[1].settled_on) == "2026-04-01"
    assert insts[2].settled_on is None and insts[2].principal_paid == Decimal("2.00")
    session.refresh(loan)
    assert loan.principal_paid == Decimal("1002.00")
    assert loan.dpd == 17  # the March installment is still unpaid


def test_an_overpayment_is_kept_on_the_loan_never_dropped(client, auth, session):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    r = _post(client, auth, loan, "1500.00")
    assert r.status_code == 201
    assert r.json()["amount"] == "1500.00" and r.json()["unapplied"] == "450.00"
    session.refresh(loan)
    assert loan.overpayment == Decimal("450.00")
    assert loan.status == LoanStatus.paid_off
    allocated = sum(a.amount for a in session.scalars(select(PaymentAllocation)))
    assert allocated + loan.overpayment == Decimal("1500.00")


def test_repeating_a_payment_is_harmless_and_a_conflicting_repeat_is_409(client, auth, session):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    first = _post(client, auth, loan, "500.00")
    assert first.status_code == 201 and first.json()["created"] is True
    again = _post(client, auth, loan, "500.00")
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["id"] == first.json()["id"]
    conflict = _post(client, auth, loan, "600.00")
    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("application/problem+json")
    assert "new external id" in conflict.json()["detail"]
    assert len(session.scalars(select(Payment)).all()) == 1
    session.refresh(loan)
    assert loan.principal_paid == Decimal("450.00")  # 50 interest first, then principal, applied once


def test_a_payment_into_a_written_off_loan_is_a_recovery(client, auth, session):
    loan = make_loan(session, schedule=[("2026-01-15", "1000.00", "50.00")])
    loan.status = LoanStatus.written_off
    session.commit()
    r = _post(client, auth, loan, "300.00")
    assert r.status_code == 201
    assert r.json()["recovery"] is True and r.json()["unapplied"] == "300.00"
    assert session.scalars(select(PaymentAllocation)).all() == []
    session.refresh(loan)
    assert loan.status == LoanStatus.written_off and loan.principal_paid == Decimal("0.00")


def test_a_value_date_after_today_is_rejected_and_nothing_is_recorded(client, auth, session):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    r = _post(client, auth, loan, "100.00", paid_on="2026-04-02")  # the test clock says 2026-04-01
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "paid_on"
    assert session.scalars(select(Payment)).all() == []


def test_payment_for_an_unknown_loan_is_404(client, auth, users):
    r = client.post(
        "/api/v1/payments",
        headers=auth("integration"),
        json={"external_id": "X1", "loan_external_id": "NOPE", "paid_on": "2026-04-01", "amount": "1.00"},
    )
    assert r.status_code == 404
    assert "NOPE" in r.json()["detail"]


def test_amount_must_be_positive_with_at_most_two_decimals(client, auth, session):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    for amount in ("0", "-5.00", "1.005"):
        r = _post(client, auth, loan, amount)
        assert r.status_code == 422, amount
        assert r.json()["errors"][0]["field"] == "amount"


def test_payments_of_a_loan_are_listed_in_value_date_order(client, auth, session):
    loan = make_loan(session, schedule=[("2026-02-15", "1000.00", "0.00"), ("2026-03-15", "1000.00", "0.00")])
    session.commit()
    _post(client, auth, loan, "100.00", paid_on="2026-03-20", ext="B")
    _post(client, auth, loan, "100.00", paid_on="2026-03-01", ext="A")
    r = client.get(f"/api/v1/loans/{loan.id}/payments", headers=auth("collector"))
    assert [p["external_id"] for p in r.json()] == ["A", "B"]
