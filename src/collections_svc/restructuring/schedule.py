"""Repayment schedule generation with exact money (pure functions, no database).

Methods: ``equal_installment`` (annuity), ``equal_principal``, ``bullet`` (interest only, principal at the
end) and ``custom`` (principal per due date given; interest computed). Interest per period is the balance
times the annual rate times ``frequency_months / 12`` (30/360 style), rounded half-up to the cent.
Regular principal portions are rounded *down* to the cent and the last installment takes the remainder,
so the principal always sums to the amount exactly and no installment is negative.

An optional grace period (``grace_periods``) makes the first periods interest-only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from collections_svc.common.dates import add_months

CENT = Decimal("0.01")
METHODS = ("equal_installment", "equal_principal", "bullet", "custom")


@dataclass(frozen=True)
class Row:
    seq: int
    due_on: dt.date
    principal: Decimal
    interest: Decimal
    penalty: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.penalty

    def as_dict(self) -> dict[str, str | int]:
        return {
            "seq": self.seq,
            "due_on": self.due_on.isoformat(),
            "principal": str(self.principal),
            "interest": str(self.interest),
            "penalty": str(self.penalty),
            "total": str(self.total),
        }


class ScheduleError(ValueError):
    """Inputs that cannot make a schedule (message names the field)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole months from ``a`` to ``b``, counting a started month as a whole one (rounded up)."""
    n = (b.year - a.year) * 12 + (b.month - a.month)
    if add_months(a, n) < b:
        n += 1
    return n


def _cents(x: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return x.quantize(CENT, rounding=rounding)


def due_dates(first_due_on: dt.date, count: int, frequency_months: int) -> list[dt.date]:
    return [add_months(first_due_on, k * frequency_months) for k in range(count)]


def generate(
    *,
    principal: Decimal,
    annual_rate: Decimal,
    method: str,
    first_due_on: dt.date,
    count: int,
    frequency_months: int = 1,
    grace_periods: int = 0,
    custom_principal: list[tuple[dt.date, Decimal]] | None = None,
) -> list[Row]:
    """Generate the schedule of ``principal`` (see the module docstring)."""
    principal = Decimal(principal)
    annual_rate = Decimal(annual_rate)
    if principal != _cents(principal):
        raise ScheduleError("principal", "The principal must be a whole number of cents.")
    if principal <= 0:
        raise ScheduleError("principal", "The principal to schedule must be positive.")
    if annual_rate < 0:
        raise ScheduleError("annual_rate", "The interest rate cannot be negative.")
    if method not in METHODS:
        raise ScheduleError("method", f"Unknown schedule method {method!r}; use one of {', '.join(METHODS)}.")
    if frequency_months not in (1, 2, 3, 6, 12):
        raise ScheduleError("frequency_months", "Repayment frequency must be 1, 2, 3, 6 or 12 months.")
    i = annual_rate * frequency_months / 12

    if method == "custom":
        if not custom_principal:
            raise ScheduleError("custom", "A custom schedule needs at least one (due date, principal) line.")
        dates = [d for d, _ in custom_principal]
        if dates != sorted(set(dates)):
            raise ScheduleError("custom", "Custom due dates must be distinct and in ascending order.")
        if any(p < 0 or p != _cents(p) for _, p in custom_principal):
            raise ScheduleError("custom", "Custom principal amounts must be non-negative whole cents.")
        total = sum((p for _, p in custom_principal), Decimal(0))
        if total != principal:
            raise ScheduleError(
                "custom", f"Custom principal amounts sum to {total}, not the {principal} to be scheduled."
            )
        rows, bal = [], principal
        for k, (d, p) in enumerate(custom_principal):
            rows.append(Row(k + 1, d, p, _cents(bal * i)))
            bal -= p
        return rows

    if count < 1:
        raise ScheduleError("count", "The schedule needs at least one installment.")
    if not 0 <= grace_periods < count:
        raise ScheduleError("grace_periods", "The grace period must leave at least one repaying installment.")
    dates = due_dates(first_due_on, count, frequency_months)
    n = count - grace_periods  # repaying installments
    bal = principal
    rows: list[Row] = []
    annuity = Decimal(0)
    if method == "equal_installment":
        if i == 0:
            annuity = _cents(principal / n, ROUND_DOWN)
        else:
            with localcontext() as ctx:
                ctx.prec = 34
                annuity = _cents(principal * i / (1 - (1 + i) ** -n))
    flat = _cents(principal / n, ROUND_DOWN)
    for k, d in enumerate(dates):
        interest = _cents(bal * i)
        last = k == count - 1
        if k < grace_periods:
            p = Decimal(0)
        elif last:
            p = bal
        elif method == "equal_installment":
            p = min(max(annuity - interest, Decimal(0)), bal)
        elif method == "equal_principal":
            p = min(flat, bal)
        else:  # bullet
            p = Decimal(0)
        rows.append(Row(k + 1, d, p, interest))
        bal -= p
    return rows


def totals(rows: list[Row]) -> dict[str, str]:
    return {
        "principal": str(sum((r.principal for r in rows), Decimal(0))),
        "interest": str(sum((r.interest for r in rows), Decimal(0))),
        "penalty": str(sum((r.penalty for r in rows), Decimal(0))),
        "total": str(sum((r.total for r in rows), Decimal(0))),
        "installments": str(len(rows)),
    }


def npv(flows: list[tuple[dt.date, Decimal]], annual_rate: Decimal, as_of: dt.date) -> Decimal:
    """Present value at ``as_of`` of dated amounts discounted at ``annual_rate`` (actual/365,
    compounded annually); amounts due on or before ``as_of`` count at face value."""
    with localcontext() as ctx:
        ctx.prec = 34
        base = 1 + Decimal(annual_rate)
        total = Decimal(0)
        for d, amt in flows:
            days = max((d - as_of).days, 0)
            total += Decimal(amt) / (base ** (Decimal(days) / Decimal(365)))
    return _cents(total)
