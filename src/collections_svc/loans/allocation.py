"""Payment allocation: oldest unpaid installment first; within one, the configured component order.

Pure functions over installment rows so the property tests can drive them without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class InstallmentLike(Protocol):
    seq: int
    due_on: dt.date
    principal_due: Decimal
    interest_due: Decimal
    penalty_due: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    penalty_paid: Decimal
    settled_on: dt.date | None


@dataclass(frozen=True)
class Allocation:
    installment: InstallmentLike
    component: str
    amount: Decimal


def allocate(installments: list[InstallmentLike], amount: Decimal, order: list[str], value_date: dt.date
             ) -> tuple[list[Allocation], Decimal]:
    """Apply ``amount`` to the installments in place; return the allocations and the unapplied rest.

    Nothing is lost: sum(allocations) + rest == amount, always.
    """
    if amount <= 0:
        raise ValueError("payment amount must be positive")
    rest = amount
    out: list[Allocation] = []
    for inst in sorted(installments, key=lambda i: (i.due_on, i.seq)):
        if rest <= 0:
            break
        for comp in order:
            due = getattr(inst, f"{comp}_due")
            paid = getattr(inst, f"{comp}_paid")
            take = min(due - paid, rest)
            if take > 0:
                setattr(inst, f"{comp}_paid", paid + take)
                rest -= take
                out.append(Allocation(inst, comp, take))
        if inst.settled_on is None and all(
            getattr(inst, f"{c}_paid") >= getattr(inst, f"{c}_due") for c in ("principal", "interest", "penalty")
        ):
            inst.settled_on = value_date
    return out, rest
