"""The one place where the sweep and the scheduler call other packages.

The state machine (``states``), case services (``cases.service``), notices, monitoring and approvals
are built in parallel. Each call below resolves its target lazily; integration means fixing names
here and nowhere else.

- Required calls (``fire``, ``open_case``) raise ``HookUnavailable`` with a clear message when the
  package is missing: the sweep cannot move cases without the state machine.
- Optional calls (notices, tasks, proposals, promises, holds, classification, reviews) do nothing
  and log one line when their package is missing, so the sweep still runs on a partial build.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

log = logging.getLogger("collections_svc.sweep.hooks")
_warned: set[str] = set()


class HookUnavailable(RuntimeError):
    pass


_absent: set[str] = set()


def _resolve(module: str, attr: str) -> Callable[..., Any] | None:
    mod = sys.modules.get(module)
    if mod is None:
        if module in _absent:   # a failed import is not cached by Python: searching again per case is slow
            return None
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # Only "the module is not there" means unavailable; a broken import inside it must surface.
            if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
                _absent.add(module)
                return None
            raise
    return getattr(mod, attr, None)


def _missing(what: str) -> None:
    if what not in _warned:
        _warned.add(what)
        log.info("%s is not available in this build; skipping it", what)


def available(module: str, attr: str) -> bool:
    return _resolve(module, attr) is not None


# ---------------------------------------------------------------- required: states and cases


def fire(session: Session, case: Any, trigger: str, *, actor: Any, business_date: dt.date,
         reason: str | None = None, **ctx: Any) -> Any:
    """Fire a state-machine trigger on a case (the only way a stage changes)."""
    fn = _resolve("collections_svc.states", "fire")
    if fn is None:
        raise HookUnavailable("The case state machine (collections_svc.states.fire) is not installed; "
                              "the sweep cannot escalate or cure cases without it.")
    return fn(session, case, trigger, actor=actor, business_date=business_date, reason=reason, **ctx)


def open_case(session: Session, loan_id: int, *, business_date: dt.date, actor: Any) -> Any:
    """Open (idempotently) the collection case of an overdue loan."""
    fn = _resolve("collections_svc.cases.service", "open_case")
    if fn is None:
        raise HookUnavailable("The case service (collections_svc.cases.service.open_case) is not installed; "
                              "the sweep cannot open cases without it.")
    return fn(session, loan_id, business_date=business_date, actor=actor)


# ---------------------------------------------------------------- optional


def is_on_hold(case: Any, business_date: dt.date) -> bool:
    fn = _resolve("collections_svc.cases.service", "is_on_hold") or _resolve("collections_svc.cases.models",
                                                                              "is_on_hold")
    if fn is None:
        _missing("cases.service.is_on_hold (holds)")
        return False
    return bool(fn(case, business_date))


def held_cases(session: Session, case_ids: Sequence[int], business_date: dt.date) -> set[int] | None:
    """Case ids on hold on the date, in one query; None when holds are not stored (ask per case)."""
    hold = _resolve("collections_svc.cases.models", "CaseHold")
    if hold is None or not case_ids:
        return None if hold is None else set()
    rows = session.execute(select(hold.case_id).where(
        hold.case_id.in_(list(case_ids)), hold.starts_on <= business_date,
        or_(hold.ends_on.is_(None), hold.ends_on > business_date))).scalars()
    return set(rows)


def evaluate_promises(session: Session, business_date: dt.date) -> int:
    """Mark promises kept or broken as of the date; return how many broke."""
    fn = _resolve("collections_svc.cases.service", "evaluate_promises")
    if fn is None:
        _missing("cases.service.evaluate_promises (promises to pay)")
        return 0
    result = fn(session, business_date)
    if isinstance(result, dict):   # counts per new status; a partly paid promise is broken too
        return int(result.get("broken", 0)) + int(result.get("partially_paid", 0))
    return _count(result, "broken")


def enqueue_notice(session: Session, case: Any, channel: str, template: str, *, trigger_key: str,
                   business_date: dt.date) -> bool:
    """Queue one outbox notice; True when one was queued (the outbox dedupes repeats)."""
    fn = _resolve("collections_svc.notices.service", "enqueue")
    if fn is None:
        _missing("notices.service.enqueue (outbox)")
        return False
    return fn(session, case, template, trigger_key=trigger_key, business_date=business_date,
              channel=channel) is not None


def create_task(session: Session, case: Any, kind: str, *, business_date: dt.date, actor: Any,
                trigger_key: str) -> bool:
    fn = _resolve("collections_svc.cases.service", "create_task")
    if fn is None:
        _missing("cases.service.create_task (call and visit tasks)")
        return False
    return fn(session, case, kind, due_on=business_date, actor=actor, trigger_key=trigger_key) is not None


def propose(session: Session, case: Any, kind: str, *, business_date: dt.date, actor: Any,
            trigger_key: str, reason: str) -> bool:
    """Suggest a restructuring negotiation or legal referral to a supervisor (never decides it)."""
    fn = _resolve("collections_svc.approvals.service", "suggest")
    if fn is None:
        _missing("approvals.service.suggest (proposals for a supervisor)")
        return False
    return fn(session, case, kind, business_date=business_date, actor=actor, trigger_key=trigger_key,
              reason=reason) is not None


def classifications(session: Session, loan_ids: Iterable[int]) -> dict[int, str]:
    """Current five-category classification per loan (one query); empty without monitoring."""
    model = _resolve("collections_svc.monitoring.models", "LoanClassification")
    if model is None:
        _missing("monitoring.models.LoanClassification (classification facts)")
        return {}
    ids = list(loan_ids)
    if not ids:
        return {}
    return dict(session.execute(select(model.loan_id, model.category).where(model.loan_id.in_(ids))).all())


# Contact outcomes that mean the right party was reached (anything else is an attempt only).
REACHED = ("reached", "promised", "disputed", "paid_claimed")


def last_contacts(session: Session, case_ids: Iterable[int]) -> dict[int, dt.date]:
    """Date of the last successful contact per case (one query); empty without the contact log."""
    model = _resolve("collections_svc.cases.models", "ContactLog")
    if model is None:
        _missing("cases.models.ContactLog (contact facts)")
        return {}
    ids = list(case_ids)
    if not ids:
        return {}
    return dict(session.execute(
        select(model.case_id, func.max(model.business_date))
        .where(model.case_id.in_(ids), model.outcome.in_(REACHED)).group_by(model.case_id)).all())


def classify_book(session: Session, business_date: dt.date, settings: Any) -> Any:
    """Hand the book to the monitoring engine (DPD warnings, classification, due reviews)."""
    fn = (_resolve("collections_svc.monitoring.nightly", "run_monitoring")
          or _resolve("collections_svc.monitoring.classification", "classify_book"))
    if fn is None:
        _missing("monitoring.nightly.run_monitoring (five-category classification)")
        return None
    return fn(session, business_date, settings)


def write_snapshot(session: Session, business_date: dt.date, partition: tuple[int, int]) -> Any:
    """Write the reports' daily loan snapshot for the date and partition (idempotent per date)."""
    fn = _resolve("collections_svc.reports.snapshot", "write_snapshot")
    if fn is None:
        _missing("reports.snapshot.write_snapshot (daily portfolio snapshot)")
        return None
    return fn(session, business_date, partition)


def known_templates() -> set[str] | None:
    """Template names ("channel/name") the notices package ships; None when it is not installed."""
    manifest = _resolve("collections_svc.notices.templates", "MANIFEST")
    if manifest is None:
        return None
    return {f"{spec.channel}/{name}" for name, spec in manifest.items()}


# ---------------------------------------------------------------- scheduler jobs of other packages


def dispatch_notices(session_factory: Any, settings: Any) -> Any:
    """Send one batch of due notices (the notices worker claims rows itself and commits per notice)."""
    fn = _resolve("collections_svc.notices.worker", "run")
    if fn is None:
        log.info("notice dispatch skipped: the notices package is not installed")
        return None
    return fn(settings, once=True)


def review_checks(session_factory: Any, settings: Any, business_date: dt.date) -> Any:
    """Flag post-loan reviews past their due date (monitoring)."""
    fn = _resolve("collections_svc.monitoring.reviews", "flag_overdue_reviews")
    if fn is None:
        log.info("review due-date checks skipped: the monitoring package is not installed")
        return None
    from collections_svc.db import session_scope
    with session_scope(session_factory) as s:
        return fn(s, business_date, settings)


def _count(result: Any, attr: str) -> int:
    if result is None:
        return 0
    if isinstance(result, int):
        return result
    if hasattr(result, attr):
        v = getattr(result, attr)
        return v if isinstance(v, int) else len(v)
    if isinstance(result, dict):
        v = result.get(attr, 0)
        return v if isinstance(v, int) else len(v)
    try:
        return len(result)
    except TypeError:
        return 0
