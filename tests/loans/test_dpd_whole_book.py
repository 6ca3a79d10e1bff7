"""The set-based DPD pass over a generated book agrees with a plain per-loan computation.

Uses the benchmark's generator (bench/generate.py) on a small book, so the benchmark measures the same
data shape that this test proves correct.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select

from collections_svc.loans.dpd import bucket_for, run_dpd
from collections_svc.loans.models import BucketHistory, Installment, Loan

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from generate import generate  # noqa: E402

AS_OF = dt.date(2026, 4, 1)


def _expected(session, as_of: dt.date) -> dict[int, int]:
    oldest: dict[int, dt.date] = {}
    for inst in session.scalars(select(Installment).where(Installment.due_on < as_of)):
        if inst.unpaid > 0 and (inst.loan_id not in oldest or inst.due_on < oldest[inst.loan_id]):
            oldest[inst.loan_id] = inst.due_on
    return defaultdict(int, {lid: (as_of - d).days for lid, d in oldest.items()})


def test_whole_book_pass_matches_per_loan_reference(session, settings):
    generate(session.connection(), 600, AS_OF, log=lambda _: None)
    for day in (AS_OF, AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=40)):
        run_dpd(session, day, settings.dpd)
        expected = _expected(session, day)
        loans = session.scalars(select(Loan)).all()
        assert len(loans) == 600
        for loan in loans:
            assert loan.dpd == expected[loan.id], f"loan {loan.external_id} on {day}"
            assert loan.bucket == bucket_for(loan.dpd, settings.dpd.buckets).code
        if day == AS_OF:  # the generated book spreads over every bucket on its own date
            buckets = {b for (b,) in session.execute(select(Loan.bucket).distinct())}
            assert buckets == {b.code for b in settings.dpd.buckets}
    # (40 days later nobody has paid, so no loan is current any more.)
    # Exactly one open history row per loan, matching its current bucket.
    open_rows = dict(session.execute(select(BucketHistory.loan_id, BucketHistory.bucket)
                                     .where(BucketHistory.left_on.is_(None))).all())
    assert open_rows == {lo.id: lo.bucket for lo in loans}
    assert session.scalar(select(func.count()).select_from(BucketHistory)) > 600
