"""Test-only stand-ins for the state machine and case services, used ONLY while those packages are
missing from this branch (they are built in parallel). When the real modules exist, nothing here is
installed and the sweep tests run against them unchanged.

The stand-ins keep the contract the sweep relies on: ``states.fire(session, case, trigger, *, actor,
business_date, reason=None, **ctx)`` with "escalate" (ctx target, forward only) and "cure" (open ->
resolved), each adding one case_event; ``cases.service.open_case`` idempotent per loan;
``is_on_hold`` and ``evaluate_promises``.
"""

from __future__ import annotations

import importlib.util
import sys
import types

from sqlalchemy import select

REAL_STATES = importlib.util.find_spec("collections_svc.states") is not None
try:
    REAL_CASES = importlib.util.find_spec("collections_svc.cases.service") is not None
except ModuleNotFoundError:
    REAL_CASES = False

HELD: set[int] = set()   # case ids the stand-in is_on_hold reports as held


def _fire(session, case, trigger, *, actor, business_date, reason=None, **ctx):
    from collections_svc.cases.models import OPEN_STAGES, CaseEvent
    from collections_svc.errors import InvalidTransition
    if not case.is_open:
        raise InvalidTransition(f"The case is closed ({case.stage}); {trigger} is not allowed.")
    before = case.stage
    if trigger == "escalate":
        target = ctx["target"]
        if OPEN_STAGES.index(target) <= OPEN_STAGES.index(before):
            raise InvalidTransition(f"Cannot escalate from {before} to {target}.")
        case.stage = target
    elif trigger == "cure":
        case.stage, case.is_open, case.closed_on = "resolved", False, business_date
    else:
        raise InvalidTransition(f"The stand-in state machine does not know {trigger!r}.")
    case.stage_entered_on = business_date
    ev = CaseEvent(case_id=case.id, from_stage=before, to_stage=case.stage, trigger=trigger,
                   actor=actor.username, reason=reason, business_date=business_date)
    session.add(ev)
    session.flush()
    return ev


def _open_case(session, loan_id, *, business_date, actor):
    from collections_svc.cases.models import Case, CaseEvent
    from collections_svc.loans.models import Loan
    found = session.scalar(select(Case).where(Case.loan_id == loan_id, Case.is_open.is_(True)))
    if found is not None:
        return found
    loan = session.get(Loan, loan_id)
    case = Case(loan_id=loan_id, borrower_id=loan.borrower_id, stage="classified", is_open=True,
                opened_on=business_date, stage_entered_on=business_date)
    session.add(case)
    session.flush()
    session.add(CaseEvent(case_id=case.id, kind="opened", to_stage="classified", trigger="open",
                          actor=actor.username, business_date=business_date))
    session.flush()
    return case


def _is_on_hold(case, business_date):
    return case.id in HELD


def _evaluate_promises(session, business_date):
    return 0


def install() -> None:
    if not REAL_STATES and "collections_svc.states" not in sys.modules:
        mod = types.ModuleType("collections_svc.states")
        mod.fire = _fire
        mod.__stand_in__ = True
        sys.modules["collections_svc.states"] = mod
    if not REAL_CASES and "collections_svc.cases.service" not in sys.modules:
        mod = types.ModuleType("collections_svc.cases.service")
        mod.open_case = _open_case
        mod.is_on_hold = _is_on_hold
        mod.evaluate_promises = _evaluate_promises
        mod.__stand_in__ = True
        sys.modules["collections_svc.cases.service"] = mod


def hold(session, case_id: int, business_date) -> None:
    """Put a case on hold from ``business_date`` (through the real cases service when it exists)."""
    if not REAL_CASES:
        HELD.add(case_id)
        return
    from collections_svc.auth.service import SYSTEM
    from collections_svc.cases import service
    from collections_svc.cases.models import Case
    service.add_hold(session, session.get(Case, case_id), kind="dispute", starts_on=business_date,
                     ends_on=None, reason="borrower disputes the amount", actor=SYSTEM,
                     business_date=business_date)
