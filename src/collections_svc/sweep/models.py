"""The sweep run ledger: one row per (business date, partition). Its unique key makes reruns harmless."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from collections_svc.db import Base, UTCDateTime, utcnow


class SweepStatus:
    running = "running"
    succeeded = "succeeded"              # every case processed
    completed_with_errors = "completed_with_errors"  # some cases failed; the rest were processed
    failed = "failed"                    # the run stopped and changed nothing; it may be run again
    DONE = ("succeeded", "completed_with_errors")


class SweepRun(Base):
    __tablename__ = "sweep_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    partition: Mapped[str] = mapped_column(String(16), default="0/1")   # "K/N": loans with id % N == K
    status: Mapped[str] = mapped_column(String(24), default=SweepStatus.running)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    triggered_by: Mapped[str] = mapped_column(String(64), default="system")
    strategy_version: Mapped[str | None] = mapped_column(String(32))
    loans_evaluated: Mapped[int] = mapped_column(Integer, default=0)
    cases_opened: Mapped[int] = mapped_column(Integer, default=0)
    cases_escalated: Mapped[int] = mapped_column(Integer, default=0)
    cases_cured: Mapped[int] = mapped_column(Integer, default=0)
    notices_queued: Mapped[int] = mapped_column(Integer, default=0)
    promises_broken: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list | None] = mapped_column(JSON)
    stats: Mapped[dict | None] = mapped_column(JSON)   # step timings, DPD figures, proposals, tasks

    __table_args__ = (UniqueConstraint("business_date", "partition", name="uq_sweep_run_business_date"),)
