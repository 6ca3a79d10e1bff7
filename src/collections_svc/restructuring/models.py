"""Restructuring history: archived schedules and observation periods (RULES.md CN-RST-02)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from collections_svc.db import Base, Money, UTCDateTime, VersionedMixin, utcnow


class ScheduleArchive(Base):
    """A copy of every installment a restructuring replaced (schedule version N is the one in force
    before the N-th restructuring took effect). The live ``installment`` table holds the current one."""

    __tablename__ = "installment_archive"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"))
    schedule_version: Mapped[int] = mapped_column(Integer)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("approval_proposal.id"))
    seq: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    principal_due: Mapped[Decimal] = mapped_column(Money)
    interest_due: Mapped[Decimal] = mapped_column(Money)
    penalty_due: Mapped[Decimal] = mapped_column(Money)
    principal_paid: Mapped[Decimal] = mapped_column(Money)
    interest_paid: Mapped[Decimal] = mapped_column(Money)
    penalty_paid: Mapped[Decimal] = mapped_column(Money)
    settled_on: Mapped[dt.date | None] = mapped_column(Date)
    archived_on: Mapped[dt.date] = mapped_column(Date)
    archived_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_installment_archive_loan_version", "loan_id", "schedule_version"),)


OBSERVATION_STATUSES = ("active", "completed", "superseded")


class Observation(VersionedMixin, Base):
    """The observation period of one restructuring (CN-RST-02): from the first repayment date after
    the change, at least two repayment periods and at least one year; a missed payment restarts it
    from that due date. ``re_restructured`` marks a restructuring made while an earlier observation was
    still running (CN-RST-04: classification floor 可疑 doubtful)."""

    __tablename__ = "restructuring_observation"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("approval_proposal.id"))
    restructuring_no: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(32))
    change_on: Mapped[dt.date] = mapped_column(Date)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    frequency_months: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    restart_count: Mapped[int] = mapped_column(Integer, default=0)
    last_missed_due_on: Mapped[dt.date | None] = mapped_column(Date)
    re_restructured: Mapped[bool] = mapped_column(Boolean, default=False)
    # The loan's maturity before its first restructuring: the base of the CN-PLM-05 cumulative limit.
    original_maturity_on: Mapped[dt.date] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "uq_restructuring_observation_active_loan",
            "loan_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )
