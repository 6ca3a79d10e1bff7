"""Property: for any loan states on two month-ends, every roll-rate row sums to 100% and the opening
balance is conserved (IND-03); the aging at a date sees exactly the DPD the rows encode (IND-01)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from collections_svc.loans.dpd import bucket_for
from collections_svc.reports import analytics
from collections_svc.reports.models import LoanSnapshot, SnapshotDay

A, B = dt.date(2026, 1, 30), dt.date(2026, 2, 27)
state = st.tuples(st.integers(0, 400), st.integers(1, 10**9))                   # dpd, outstanding cents
end_state = st.one_of(st.tuples(st.just(0), st.integers(0, 400), st.integers(0, 10**9)),
                      st.tuples(st.sampled_from([1, 2]), st.just(0), st.integers(0, 10**9)))


def row(loan_id: int, day: dt.date, status: int, dpd: int, cents: int) -> LoanSnapshot:
    return LoanSnapshot(valid_from=day, loan_id=loan_id, status=status, keyframe=True, borrower_id=1,
                        oldest_unpaid_due_on=day - dt.timedelta(days=dpd) if dpd and status == 0 else None,
                        overdue_amount=Decimal(0), outstanding=Decimal(cents) / 100)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(loans=st.lists(st.tuples(state, end_state), min_size=1, max_size=30))
def test_rows_sum_to_one_and_opening_balance_is_conserved(session, settings, loans):
    sp = session.begin_nested()
    try:
        session.add_all([SnapshotDay(business_date=A, partition="0/1", keyframe=True),
                         SnapshotDay(business_date=B, partition="0/1", keyframe=True)])
        for i, ((dpd1, c1), (status2, dpd2, c2)) in enumerate(loans):
            first = row(9_000_000 + i, A, 0, dpd1, c1)
            first.valid_to = B
            session.add(first)
            session.add(row(9_000_000 + i, B, status2, dpd2, c2))
        session.flush()
        m = analytics.roll_rates(session, settings, A.replace(day=1), B.replace(day=1))
        opening = sum(Decimal(c) for (_, c), _ in loans) / 100
        assert m["opening_balance"] == opening and m["unmatched"]["loans"] == 0
        assert sum(r["balance"] for r in m["rows"]) == opening
        for r in m["rows"]:
            if r["loans"]:
                assert sum(r["balances"].values()) == r["balance"]
                assert abs(sum(v for v in r["rates_count"].values() if v) - 1) < 1e-5
                if r["balance"]:
                    assert abs(sum(v for v in r["rates_balance"].values() if v) - 1) < 1e-5
        aging = analytics.aging(session, settings, A)["total"]
        by_bucket = {b["bucket"]: b["loans"] for b in aging["buckets"]}
        for code in by_bucket:
            expected = sum(1 for (d, _), _ in loans if bucket_for(d, settings.dpd.buckets).code == code)
            assert by_bucket[code] == expected
    finally:
        sp.rollback()
