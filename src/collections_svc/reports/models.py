"""The portfolio snapshot the sweep writes, stored as intervals, and its per-date ledger.

Why intervals and not one row per loan per day: a loan's reportable state (status, oldest unpaid due
date, overdue amount, outstanding principal, category, case stage, slicing dimensions) changes on a
few days a month; what changes every day is only DPD, and DPD as of a date is derived exactly from
the stored oldest unpaid due date (IND-01: DPD = as-of date - oldest unpaid due date). So a row holds
one state from ``valid_from`` up to (excluding) ``valid_to``; a new row is written only when
something other than the DPD tick changes. Every month the first sweep writes a *keyframe* row for
every loan in the book, so no interval crosses a month start and an as-of query reads only the rows
that start between that month's keyframe and the date (one month of rows, via the primary key).
bench/README.md has the measured storage against naive daily rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from collections_svc.db import Base, Money, UTCDateTime, utcnow

# Snapshot status codes (SmallInteger keeps the row narrow).
ACTIVE, PAID_OFF, WRITTEN_OFF = 0, 1, 2
STATUS_CODES = {"active": ACTIVE, "paid_off": PAID_OFF, "written_off": WRITTEN_OFF}


class LoanSnapshot(Base):
    """One loan's state from ``valid_from`` until the day before ``valid_to`` (null = still current).

    No foreign key to ``loan``: the snapshot is history, written set-based for the whole book, and the
    reports must never join the live tables for portfolio figures.
    """

    __tablename__ = "loan_snapshot"

    valid_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    loan_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[int] = mapped_column(SmallInteger, default=ACTIVE)
    # DPD as of D inside the interval = D - oldest_unpaid_due_on (0 when null).
    oldest_unpaid_due_on: Mapped[dt.date | None] = mapped_column(Date)
    overdue_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    outstanding: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))   # principal - principal repaid
    category_rank: Mapped[int | None] = mapped_column(SmallInteger)         # 0 normal .. 4 loss; null = unclassified
    ifrs9_stage: Mapped[int | None] = mapped_column(SmallInteger)
    case_stage: Mapped[str | None] = mapped_column(String(32))              # stage of the open case, if any
    borrower_id: Mapped[int] = mapped_column(Integer)
    product: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    keyframe: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # One loan's history (documents, roll rates across gaps of more than a month).
        Index("ix_loan_snapshot_loan", "loan_id", "valid_from"),
    )


class SnapshotDay(Base):
    """Ledger: the snapshot for (business date, sweep partition) was written. Makes reruns harmless."""

    __tablename__ = "snapshot_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    partition: Mapped[str] = mapped_column(String(16), default="0/1")
    keyframe: Mapped[bool] = mapped_column(Boolean, default=False)
    loans: Mapped[int] = mapped_column(Integer, default=0)          # loans in the book that day (partition)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("business_date", "partition", name="uq_snapshot_day_date_partition"),)
