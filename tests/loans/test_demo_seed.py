"""The demo seed: a realistic small book with loans in every DPD bucket once the DPD pass has run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from collections_svc.demo import seed_portfolio
from collections_svc.loans.dpd import run_dpd
from collections_svc.loans.models import Borrower, Contact, Loan
from collections_svc.loans.validators import validate_phone, validate_uscc


def test_small_demo_book_has_loans_in_every_bucket(session, settings):
    today = dt.date(2026, 4, 1)
    counts = seed_portfolio(session, settings, today, borrowers=120)
    run_dpd(session, today, settings.dpd)
    assert counts["borrowers"] == 120 and counts["loans"] >= 120
    per_bucket = dict(session.execute(select(Loan.bucket, func.count()).group_by(Loan.bucket)).all())
    for b in settings.dpd.buckets:
        assert per_bucket.get(b.code, 0) > 0, f"no demo loan in bucket {b.code} ({b.label}): {per_bucket}"
    assert per_bucket["M0"] > sum(per_bucket.values()) / 2  # most of the book is current
    # Identifiers are valid and names Chinese.
    for b in session.scalars(select(Borrower).limit(20)):
        assert validate_uscc(b.uscc) == b.uscc and b.name.endswith("有限公司")
    for c in session.scalars(select(Contact).where(Contact.phone.is_not(None)).limit(20)):
        assert validate_phone(c.phone) == c.phone
