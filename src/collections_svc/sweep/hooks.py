"""The sweep's and the scheduler's calls into other packages, in one place.

The sweep orchestrates: it decides *which* cases move tonight and then asks the owning package to do
each thing (``states`` moves a stage, ``cases`` opens cases and tasks, ``notices`` queues the outbox,
``approvals`` files suggestions, ``monitoring`` classifies). Keeping those calls here keeps
``sweep/service.py`` about the night's order of work, and gives tests one seam to observe a call.

Imports sit inside the functions: ``cases``, ``notices`` and ``strategy`` import the sweep package in
turn, so module-level imports here would form a cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

# ---------------------------------------------------------------- states and cases


def fire(session: Session, case: Any, trigger: str, *, actor: Any, business_date: dt.date,
         reason: str | None = None, **ctx: Any) -> Any:
    """Fire a state-machine trigger on a case (the only way a stage changes)."""
    from collections_svc.states import fire as fire_trigger
    return fire_trigger(session, case, trigger, actor=actor, business_date=business_date, reason=reason, **ctx)


def open_case(session: Session, loan_id: int, *, business_date: dt.date, actor: Any) -> Any:
    """Open (idempotently) the collection case of an overdue loan."""
    from collections_svc.cases.service import open_case as open_one
    return open_one(session, loan_id, business_date=business_date, actor=actor)


def held_cases(session: Session, case_ids: Sequence[int], business_date: dt.date) -> set[int]:
    """Case ids on hold on the date, in one query."""
    from collections_svc.cases.models import CaseHold
    if not case_ids:
        return set()
    rows = session.execute(select(CaseHold.case_id).where(
        CaseHold.case_id.in_(list(case_ids)), CaseHold.starts_on <= business_date,
        or_(CaseHold.ends_on.is_(None), CaseHold.ends_on > business_date))).scalars()
    return set(rows)


def evaluate_promises(session: Session, business_date: dt.date) -> int:
    """Mark promises kept or broken as of the date; return how many broke (IND-05)."""
    from collections_svc.cases.service import evaluate_promises as settle
    counts = settle(session, business_date)
    # A partly paid promise is broken too: the strategy treats both the same.
    return int(counts.get("broken", 0)) + int(counts.get("partially_paid", 0))


def create_task(session: Session, case: Any, kind: str, *, business_date: dt.date, actor: Any,
                trigger_key: str) -> bool:
    """A call or visit to-do for the case's collector; False when this stage entry already made it."""
    from collections_svc.cases.service import create_task as add_task
    return add_task(session, case, kind, due_on=business_date, actor=actor, trigger_key=trigger_key) is not None


# Contact outcomes that mean the right party was reached (anything else is an attempt only).
REACHED = ("reached", "promised", "disputed", "paid_claimed")


def last_contacts(session: Session, case_ids: Iterable[int]) -> dict[int, dt.date]:
    """Date of the last successful contact per case (one query)."""
    from collections_svc.cases.models import ContactLog
    ids = list(case_ids)
    if not ids:
        return {}
    return dict(session.execute(
        select(ContactLog.case_id, func.max(ContactLog.business_date))
        .where(ContactLog.case_id.in_(ids), ContactLog.outcome.in_(REACHED)).group_by(ContactLog.case_id)).all())


# ---------------------------------------------------------------- notices, approvals, monitoring


def enqueue_notice(session: Session, case: Any, channel: str, template: str, *, trigger_key: str,
                   business_date: dt.date) -> bool:
    """Queue one outbox notice; True when one was queued (the outbox dedupes repeats)."""
    from collections_svc.notices.service import enqueue
    return enqueue(session, case, template, trigger_key=trigger_key, business_date=business_date,
                   channel=channel) is not None


def known_templates() -> set[str]:
    """Template names ("channel/name") the notices package ships, for validating strategies."""
    from collections_svc.notices.templates import MANIFEST
    return {f"{spec.channel}/{name}" for name, spec in MANIFEST.items()}


def propose(session: Session, case: Any, kind: str, *, business_date: dt.date, actor: Any,
            trigger_key: str, reason: str) -> bool:
    """Suggest a restructuring negotiation or legal referral to a supervisor (never decides it)."""
    from collections_svc.approvals.service import suggest
    return suggest(session, case, kind, business_date=business_date, actor=actor, trigger_key=trigger_key,
                   reason=reason) is not None


def classifications(session: Session, loan_ids: Iterable[int]) -> dict[int, str]:
    """Current five-category classification per loan (one query)."""
    from collections_svc.monitoring.models import LoanClassification
    ids = list(loan_ids)
    if not ids:
        return {}
    return dict(session.execute(select(LoanClassification.loan_id, LoanClassification.category)
                                .where(LoanClassification.loan_id.in_(ids))).all())


def classify_book(session: Session, business_date: dt.date, settings: Any) -> Any:
    """Hand the book to the monitoring engine (DPD warnings, classification, due reviews)."""
    from collections_svc.monitoring.nightly import run_monitoring
    return run_monitoring(session, business_date, settings)


def write_snapshot(session: Session, business_date: dt.date, partition: tuple[int, int]) -> Any:
    """Write the reports' daily loan snapshot for the date and partition (idempotent per date)."""
    from collections_svc.reports.snapshot import write_snapshot as write
    return write(session, business_date, partition)


# ---------------------------------------------------------------- scheduler jobs of other packages


def dispatch_notices(session_factory: Any, settings: Any) -> Any:
    """Send one batch of due notices (the notices worker claims rows itself and commits per notice)."""
    from collections_svc.notices.worker import run
    return run(settings, once=True)


def review_checks(session_factory: Any, settings: Any, business_date: dt.date) -> int:
    """Flag post-loan reviews past their due date (monitoring)."""
    from collections_svc.db import session_scope
    from collections_svc.monitoring.reviews import flag_overdue_reviews
    with session_scope(session_factory) as s:
        return flag_overdue_reviews(s, business_date, settings)
