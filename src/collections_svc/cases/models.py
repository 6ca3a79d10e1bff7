"""Collection cases and their event trail. Only ``collections_svc.states`` writes ``Case.stage``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from collections_svc.db import Base, UTCDateTime, VersionedMixin, utcnow

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

    __table_args__ = (
        # At most one open case per loan, enforced by the database (DESIGN.md rule 4).
        Index("uq_collection_case_open_loan", "loan_id", unique=True,
              postgresql_where=text("is_open"), sqlite_where=text("is_open = 1")),
        Index("ix_collection_case_stage", "stage"),
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
