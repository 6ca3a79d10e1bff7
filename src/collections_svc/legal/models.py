"""Litigation and arbitration tracking after an approved legal referral, and the tasks its deadlines make."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collections_svc.db import Base, Money, UTCDateTime, VersionedMixin, utcnow

BODY_TYPES = ("court", "arbitration")
LEGAL_STATUSES = ("preparing", "filed", "hearing", "judgment", "enforcement", "closed")
EVENT_KINDS = (
    "filing",
    "hearing",
    "claim",
    "judgment",
    "enforcement_step",
    "recovery",
    "cost",
    "deadline",
    "note",
)


class LegalCase(VersionedMixin, Base):
    __tablename__ = "legal_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("approval_proposal.id"))
    body_type: Mapped[str] = mapped_column(String(16), default="court")
    body_name: Mapped[str | None] = mapped_column(String(200))
    case_number: Mapped[str | None] = mapped_column(String(100))
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="preparing")
    claim_amount: Mapped[Decimal | None] = mapped_column(Money)
    judgment_on: Mapped[dt.date | None] = mapped_column(Date)
    judgment_amount: Mapped[Decimal | None] = mapped_column(Money)
    judgment_summary: Mapped[str | None] = mapped_column(Text)
    counsel: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))

    events: Mapped[list[LegalEvent]] = relationship(
        order_by="LegalEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )
    tasks: Mapped[list[LegalTask]] = relationship(
        order_by="LegalTask.due_on", lazy="selectin", cascade="all, delete-orphan"
    )


class LegalEvent(Base):
    """A hearing, claim, judgment, enforcement step, recovery, cost or deadline of a legal case."""

    __tablename__ = "legal_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_case_id: Mapped[int] = mapped_column(ForeignKey("legal_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    deadline_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LegalTask(VersionedMixin, Base):
    """Work a legal deadline creates (hearing preparation, appeal window, enforcement filing...)."""

    __tablename__ = "legal_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_case_id: Mapped[int] = mapped_column(ForeignKey("legal_case.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("legal_event.id"))
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    done_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index(
            "ix_legal_task_open_due",
            "due_on",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )
