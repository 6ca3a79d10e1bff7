"""Collection cases and their event trail. Only ``collections_svc.states`` writes ``Case.stage``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collections_svc.db import Base, Money, UTCDateTime, VersionedMixin, utcnow

OPEN_STAGES = ("classified", "phone_reminder", "letter", "visit", "restructuring", "legal")
CLOSED_STAGES = ("resolved", "restructured", "written_off", "closed")


class Case(VersionedMixin, Base):
    __tablename__ = "collection_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32), default="classified")
    is_open: Mapped[bool] = mapped_column(default=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    stage_entered_on: Mapped[dt.date] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    team: Mapped[str | None] = mapped_column(String(64))
    next_action_on: Mapped[dt.date | None] = mapped_column(Date)
    strategy_version: Mapped[str | None] = mapped_column(String(32))
    broken_promises: Mapped[int] = mapped_column(Integer, default=0)
    # The queue's priority score, kept by cases.service.refresh_priorities (see its docstring).
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    holds: Mapped[list[CaseHold]] = relationship(
        order_by="CaseHold.starts_on", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # At most one open case per loan, enforced by the database (DESIGN.md rule 4).
        Index(
            "uq_collection_case_open_loan",
            "loan_id",
            unique=True,
            postgresql_where=text("is_open"),
            sqlite_where=text("is_open = 1"),
        ),
        Index("ix_collection_case_stage", "stage"),
        # The queue's default order reads open cases by priority straight from this index.
        # Collectors' queues filter by team (own + team visibility).
        Index(
            "ix_collection_case_open_team",
            "team",
            "priority",
            postgresql_where=text("is_open"),
            sqlite_where=text("is_open = 1"),
        ),
        Index(
            "ix_collection_case_open_priority",
            "priority",
            "id",
            postgresql_where=text("is_open"),
            sqlite_where=text("is_open = 1"),
        ),
    )


class CaseEvent(Base):
    """One row per stage change (and other case-level events): from, to, trigger, actor, reason, when."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="stage_change")
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str | None] = mapped_column(String(32))
    trigger: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    business_date: Mapped[dt.date] = mapped_column(Date)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict | None] = mapped_column(JSON)


HOLD_KINDS = ("dispute", "bankruptcy_stay", "supervisor_hold")


class CaseHold(Base):
    """A period when the case gets no automatic escalation or notice: ``starts_on <= day < ends_on``.

    ``starts_on`` may be backdated; ``ends_on`` (the first day without the hold) is optional.
    """

    __tablename__ = "case_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),)

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


def is_on_hold(case: Case, business_date: dt.date) -> bool:
    """True when any hold of the case covers ``business_date`` (pure: reads the loaded holds)."""
    return any(h.covers(business_date) for h in case.holds)


class AssignmentRule(Base):
    """Routes new cases: the first active rule (lowest ``priority``) whose filters all match wins.

    Empty filters match anything. The case goes to ``team`` and to ``assignee_id`` if set, else to the
    active collector of that team with the fewest open cases (workload balance).
    """

    __tablename__ = "assignment_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    region: Mapped[str | None] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(32))
    min_exposure: Mapped[Decimal | None] = mapped_column(Money)
    max_exposure: Mapped[Decimal | None] = mapped_column(Money)
    team: Mapped[str] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


CHANNELS = ("phone", "sms", "visit", "letter", "email")
OUTCOMES = (
    "reached",
    "no_answer",
    "wrong_number",
    "refused",
    "promised",
    "disputed",
    "paid_claimed",
    "left_message",
)


class ContactLog(Base):
    """One contact attempt (call, SMS, visit, letter). ``batch_id`` ties one contact logged for several
    cases of the same borrower."""

    __tablename__ = "contact_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id", ondelete="CASCADE"), index=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    next_action_on: Mapped[dt.date | None] = mapped_column(Date)
    business_date: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(32), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


PROMISE_STATUSES = ("open", "kept", "broken", "partially_paid", "cancelled")


class Promise(VersionedMixin, Base):
    """A promise to pay ``amount`` by ``due_on`` (+ ``grace_days``), made on ``promised_on``.

    Evaluated against the loan's payments valued from ``promised_on`` to ``due_on + grace_days``: kept as
    soon as they reach the amount; after the grace period ``broken`` (nothing paid) or ``partially_paid``
    (something, not all), both of which count as a broken promise (IND-05).
    """

    __tablename__ = "promise"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id", ondelete="CASCADE"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    contact_log_id: Mapped[int | None] = mapped_column(ForeignKey("contact_log.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    promised_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    evaluated_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("grace_days >= 0", name="grace_not_negative"),
        Index(
            "ix_promise_open_due",
            "due_on",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    @property
    def deadline(self) -> dt.date:
        return self.due_on + dt.timedelta(days=self.grace_days)


VISIT_STATUSES = ("scheduled", "reported", "closed", "cancelled")
OPERATING_STATUSES = ("normal", "reduced", "suspended", "ceased", "unknown")
COLLATERAL_STATUSES = ("intact", "impaired", "missing", "not_applicable", "unknown")


class Visit(VersionedMixin, Base):
    """An on-site visit: scheduled, then reported (findings, operating and collateral status), closed."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id", ondelete="CASCADE"), index=True)
    scheduled_on: Mapped[dt.date] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(300))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    findings: Mapped[str | None] = mapped_column(Text)
    operating_status: Mapped[str | None] = mapped_column(String(16))
    collateral_status: Mapped[str | None] = mapped_column(String(16))
    visited_on: Mapped[dt.date | None] = mapped_column(Date)
    reported_by: Mapped[str | None] = mapped_column(String(64))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))

    attachments: Mapped[list[VisitAttachment]] = relationship(
        order_by="VisitAttachment.id", lazy="selectin", cascade="all, delete-orphan"
    )


class VisitAttachment(Base):
    """A photo or file of a visit report; the bytes live under ``settings.attachments_dir``."""

    __tablename__ = "visit_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
