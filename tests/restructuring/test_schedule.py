"""Schedule generator: exact money, rounding absorbed by the last installment (hypothesis property)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collections_svc.restructuring import schedule as sched


@settings(max_examples=300, deadline=None)
@given(
    cents=st.integers(min_value=1, max_value=10**13),
    rate_ppm=st.integers(min_value=0, max_value=300_000),
    method=st.sampled_from(["equal_installment", "equal_principal", "bullet"]),
    count=st.integers(min_value=1, max_value=360),
    freq=st.sampled_from([1, 2, 3, 6, 12]),
    grace_frac=st.floats(min_value=0, max_value=0.99),
)
def test_principal_sums_exactly_and_nothing_negative(cents, rate_ppm, method, count, freq, grace_frac):
    principal = Decimal(cents) / 100
    grace = int((count - 1) * grace_frac)
    rows = sched.generate(
        principal=principal,
        annual_rate=Decimal(rate_ppm) / 1_000_000,
        method=method,
        first_due_on=dt.date(2026, 1, 31),
        count=count,
        frequency_months=freq,
        grace_periods=grace,
    )
    assert len(rows) == count
    assert sum(r.principal for r in rows) == principal
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)
    assert all(r.principal == r.principal.quantize(Decimal("0.01")) for r in rows)
    assert all(r.principal == 0 for r in rows[:grace])
    assert [r.due_on for r in rows] == sorted({r.due_on for r in rows})


def test_equal_installment_known_figures():
    # 120,000 over 12 months at 12%: annuity 10,661.85; the last one absorbs the rounding
    rows = sched.generate(
        principal=Decimal("120000"),
        annual_rate=Decimal("0.12"),
        method="equal_installment",
        first_due_on=dt.date(2026, 1, 15),
        count=12,
    )
    assert rows[0].interest == Decimal("1200.00") and rows[0].total == Decimal("10661.85")
    assert all(r.total == Decimal("10661.85") for r in rows[:-1])
    assert abs(rows[-1].total - Decimal("10661.85")) <= Decimal("0.10")
    assert sum(r.principal for r in rows) == Decimal("120000.00")


def test_bullet_and_custom():
    rows = sched.generate(
        principal=Decimal("1000"),
        annual_rate=Decimal("0.06"),
        method="bullet",
        first_due_on=dt.date(2026, 3, 31),
        count=3,
        frequency_months=3,
    )
    assert [str(r.due_on) for r in rows] == ["2026-03-31", "2026-06-30", "2026-09-30"]
    assert [r.principal for r in rows] == [0, 0, Decimal("1000")] and rows[0].interest == Decimal("15.00")
    custom = [(dt.date(2026, 5, 1), Decimal("400")), (dt.date(2026, 9, 1), Decimal("600"))]
    rows = sched.generate(
        principal=Decimal("1000"),
        annual_rate=Decimal("0.06"),
        method="custom",
        first_due_on=dt.date(2026, 5, 1),
        count=2,
        custom_principal=custom,
    )
    assert [r.principal for r in rows] == [Decimal("400"), Decimal("600")]
    with pytest.raises(sched.ScheduleError, match="sum to 900"):
        sched.generate(
            principal=Decimal("1000"),
            annual_rate=Decimal("0.06"),
            method="custom",
            first_due_on=dt.date(2026, 5, 1),
            count=2,
            custom_principal=[(dt.date(2026, 5, 1), Decimal("300")), (dt.date(2026, 9, 1), Decimal("600"))],
        )


def test_npv_discounts_later_money():
    flows = [(dt.date(2027, 1, 1), Decimal("1050"))]
    assert sched.npv(flows, Decimal("0.05"), dt.date(2026, 1, 1)) == Decimal("1000.00")
    assert sched.npv(flows, Decimal("0.05"), dt.date(2027, 6, 1)) == Decimal("1050.00")
