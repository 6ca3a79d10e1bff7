"""Property tests of loans.allocation.allocate: money is never lost or over-applied, oldest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collections_svc.loans.allocation import allocate

COMPONENTS = ("penalty", "interest", "principal")
VALUE_DATE = dt.date(2026, 4, 1)
EARLIER = dt.date(2026, 1, 1)


@dataclass
class Inst:
    seq: int
    due_on: dt.date
    principal_due: Decimal
    interest_due: Decimal
    penalty_due: Decimal
    principal_paid: Decimal = Decimal(0)
    interest_paid: Decimal = Decimal(0)
    penalty_paid: Decimal = Decimal(0)
    settled_on: dt.date | None = None

    def unpaid(self) -> Decimal:
        return sum((getattr(self, f"{c}_due") - getattr(self, f"{c}_paid") for c in COMPONENTS), Decimal(0))


cents = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c) / 100)


@st.composite
def schedules(draw):
    n = draw(st.integers(min_value=0, max_value=6))
    out = []
    for k in range(n):
        dues = {c: draw(cents) for c in COMPONENTS}
        # Some money may already have been paid on each component (never more than due).
        paid = {
            c: (dues[c] * draw(st.sampled_from([0, 0, Decimal("0.5"), 1]))).quantize(Decimal("0.01"))
            for c in COMPONENTS
        }
        inst = Inst(
            seq=k + 1,
            due_on=dt.date(2026, 1, 15) + dt.timedelta(days=30 * k),
            **{f"{c}_due": dues[c] for c in COMPONENTS},
            **{f"{c}_paid": paid[c] for c in COMPONENTS},
        )
        if inst.unpaid() == 0:
            inst.settled_on = EARLIER  # consistent input: settled iff nothing is left to pay
        out.append(inst)
    # Installments arrive in any order; allocation must sort them itself.
    return draw(st.permutations(out))


amounts = st.integers(min_value=1, max_value=3_000_000).map(lambda c: Decimal(c) / 100)
orders = st.permutations(COMPONENTS).map(list)


@settings(max_examples=300, deadline=None)
@given(insts=schedules(), amount=amounts, order=orders)
def test_allocation_never_loses_or_overapplies_money(insts, amount, order):
    before = {i.seq: {c: getattr(i, f"{c}_paid") for c in COMPONENTS} for i in insts}
    owed = sum((i.unpaid() for i in insts), Decimal(0))
    allocs, rest = allocate(list(insts), amount, order, VALUE_DATE)

    # Nothing lost: what was applied plus the rest is exactly the payment.
    assert sum((a.amount for a in allocs), Decimal(0)) + rest == amount
    assert rest >= 0
    assert rest == max(amount - owed, Decimal(0))
    for a in allocs:
        assert a.amount > 0
    for i in insts:
        for c in COMPONENTS:
            # No component is paid beyond its due amount, and the allocations explain every change.
            assert getattr(i, f"{c}_paid") <= getattr(i, f"{c}_due")
            applied = sum((a.amount for a in allocs if a.installment is i and a.component == c), Decimal(0))
            assert getattr(i, f"{c}_paid") == before[i.seq][c] + applied


@settings(max_examples=300, deadline=None)
@given(insts=schedules(), amount=amounts, order=orders)
def test_no_installment_gets_money_while_an_older_one_is_unpaid(insts, amount, order):
    allocs, _ = allocate(list(insts), amount, order, VALUE_DATE)
    by_age = sorted(insts, key=lambda i: (i.due_on, i.seq))
    funded = {id(a.installment) for a in allocs}
    for k, inst in enumerate(by_age):
        if id(inst) in funded:
            assert all(older.unpaid() == 0 for older in by_age[:k]), "a newer installment was paid first"
    # Within one installment, components are settled in the configured order.
    for inst in by_age:
        comps = [a.component for a in allocs if a.installment is inst]
        assert comps == sorted(comps, key=order.index)
        for earlier in comps[:-1]:
            assert getattr(inst, f"{earlier}_paid") == getattr(inst, f"{earlier}_due")


@settings(max_examples=300, deadline=None)
@given(insts=schedules(), amount=amounts, order=orders)
def test_settled_on_is_set_exactly_when_fully_paid(insts, amount, order):
    open_before = {i.seq for i in insts if i.settled_on is None}
    allocate(list(insts), amount, order, VALUE_DATE)
    for i in insts:
        assert (i.settled_on is not None) == (i.unpaid() == 0)
        if i.seq in open_before and i.settled_on is not None:
            assert i.settled_on == VALUE_DATE  # settled by this payment, on its value date


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-1.00")])
def test_a_non_positive_amount_is_refused(amount):
    with pytest.raises(ValueError, match="positive"):
        allocate([], amount, list(COMPONENTS), VALUE_DATE)
