"""DPD engine examples from the issue and RULES.md IND-01 / CN-PLM-05."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from collections_svc.config import DpdSettings
from collections_svc.loans.dpd import bucket_for, run_dpd
from collections_svc.loans.models import BucketHistory
from tests.factories import make_loan, pay

D = dt.date.fromisoformat


def test_unpaid_installment_gives_days_since_due(session, settings):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00"), ("2026-04-15", "1000.00", "50.00")])
    run_dpd(session, D("2026-04-01"), settings.dpd)
    session.refresh(loan)
    assert loan.dpd == 17
    assert loan.bucket == "M1"
    assert loan.overdue_amount == Decimal("1050.00")
    assert loan.oldest_unpaid_due_on == D("2026-03-15")


def test_due_date_itself_is_not_overdue(session, settings):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "0.00")])
    run_dpd(session, D("2026-03-15"), settings.dpd)
    session.refresh(loan)
    assert (loan.dpd, loan.bucket) == (0, "M0")
    run_dpd(session, D("2026-03-16"), settings.dpd)
    session.refresh(loan)
    assert loan.dpd == 1


def test_payment_moves_dpd_to_next_unpaid_or_zero(session, settings):
    loan = make_loan(session, schedule=[("2026-02-15", "1000.00", "50.00"), ("2026-03-15", "1000.00", "50.00"),
                                        ("2026-05-15", "1000.00", "50.00")])
    run_dpd(session, D("2026-04-01"), settings.dpd)
    session.refresh(loan)
    assert loan.dpd == 45
    pay(session, settings, loan, "1050.00", "2026-04-01")
    session.refresh(loan)
    assert loan.dpd == 17  # the March installment is now the oldest unpaid
    pay(session, settings, loan, "1050.00", "2026-04-01")
    session.refresh(loan)
    assert (loan.dpd, loan.bucket, loan.overdue_amount) == (0, "M0", Decimal("0.00"))


def test_matured_loan_is_overdue_from_the_day_after_maturity(session, settings):
    # Bullet loan: interest monthly, principal at maturity 2026-06-30, never repaid.
    loan = make_loan(session, schedule=[("2026-05-31", "0.00", "100.00"), ("2026-06-30", "50000.00", "100.00")],
                     disbursed_on="2026-04-30")
    pay(session, settings, loan, "100.00", "2026-05-31")
    run_dpd(session, D("2026-06-30"), settings.dpd)
    session.refresh(loan)
    assert loan.dpd == 0
    run_dpd(session, D("2026-07-01"), settings.dpd)
    session.refresh(loan)
    assert loan.dpd == 1


def test_principal_outside_the_schedule_falls_due_at_maturity(session, settings):
    # Schedule covers only interest; the principal is due at maturity (CN-PLM-05).
    loan = make_loan(session, schedule=[("2026-05-31", "0.00", "100.00")], principal="80000.00",
                     disbursed_on="2026-04-30", maturity_on="2026-06-30")
    pay(session, settings, loan, "100.00", "2026-05-31")
    run_dpd(session, D("2026-07-01"), settings.dpd)
    session.refresh(loan)
    assert loan.dpd == 1
    assert loan.overdue_amount == Decimal("80000.00")


def test_amount_under_materiality_does_not_count(session, settings):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    pay(session, settings, loan, "1049.50", "2026-03-15")  # 0.50 left unpaid
    material = DpdSettings(materiality_absolute=Decimal("1.00"))
    run_dpd(session, D("2026-04-01"), material)
    session.refresh(loan)
    assert loan.dpd == 0
    run_dpd(session, D("2026-04-01"), settings.dpd)  # default threshold 0: any cent counts
    session.refresh(loan)
    assert loan.dpd == 17


def test_relative_and_absolute_thresholds_must_both_be_exceeded(session, settings):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "0.00")])
    pay(session, settings, loan, "995.00", "2026-03-15")  # 5.00 unpaid = 0.5%
    both = DpdSettings(materiality_absolute=Decimal("1.00"), materiality_relative=Decimal("0.01"))
    run_dpd(session, D("2026-04-01"), both)
    session.refresh(loan)
    assert loan.dpd == 0  # above 1.00 but not above 1% of 1000


def test_past_as_of_ignores_later_payments(session, settings):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "0.00")])
    pay(session, settings, loan, "1000.00", "2026-03-25")
    run_dpd(session, D("2026-03-20"), settings.dpd)  # catch-up for a date before the payment
    session.refresh(loan)
    assert loan.dpd == 5
    run_dpd(session, D("2026-03-26"), settings.dpd)
    session.refresh(loan)
    assert loan.dpd == 0


def test_bucket_history_records_entries_and_exits(session, settings):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "0.00"), ("2026-09-15", "1000.00", "0.00")])
    for day in ("2026-03-10", "2026-03-20", "2026-03-21", "2026-04-20"):
        run_dpd(session, D(day), settings.dpd)
    pay(session, settings, loan, "1000.00", "2026-04-25")
    rows = session.query(BucketHistory).filter_by(loan_id=loan.id).order_by(BucketHistory.entered_on).all()
    assert [(r.bucket, str(r.entered_on), r.left_on and str(r.left_on)) for r in rows] == [
        ("M0", "2026-03-10", "2026-03-20"), ("M1", "2026-03-20", "2026-04-20"),
        ("M2", "2026-04-20", "2026-04-25"), ("M0", "2026-04-25", None)]


def test_rerunning_the_same_date_changes_nothing(session, settings):
    make_loan(session, schedule=[("2026-03-15", "1000.00", "0.00")])
    first = run_dpd(session, D("2026-04-01"), settings.dpd)
    again = run_dpd(session, D("2026-04-01"), settings.dpd)
    assert first.loans_changed == 1
    assert (again.loans_changed, again.loans_reset, again.bucket_moves) == (0, 0, 0)


@hsettings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=5000))
def test_every_dpd_falls_in_exactly_one_bucket(dpd):
    buckets = DpdSettings().buckets
    matches = [b for b in buckets if b.min_dpd <= dpd and (b.max_dpd is None or dpd <= b.max_dpd)]
    assert len(matches) == 1
    assert bucket_for(dpd, buckets) == matches[0]


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(unpaid_from=st.integers(min_value=0, max_value=5), as_of_offset=st.integers(min_value=0, max_value=400))
def test_dpd_is_days_since_oldest_unpaid_due(session, settings, unpaid_from, as_of_offset):
    """Property: with installments 1..unpaid_from-1 paid, DPD = as_of - due date of the first unpaid one."""
    dues = [D("2026-01-10") + dt.timedelta(days=30 * k) for k in range(6)]
    loan = make_loan(session, schedule=[(d.isoformat(), "100.00", "0.00") for d in dues])
    if unpaid_from:
        pay(session, settings, loan, str(100 * unpaid_from) + ".00", "2026-01-10", today="2026-01-10")
    as_of = D("2026-01-10") + dt.timedelta(days=as_of_offset)
    run_dpd(session, as_of, settings.dpd, loan_ids=[loan.id])
    session.refresh(loan)
    oldest = dues[unpaid_from] if unpaid_from < 6 else None
    expected = (as_of - oldest).days if oldest and oldest < as_of else 0
    assert loan.dpd == expected
