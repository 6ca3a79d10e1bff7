"""Monitoring tables: current classification per loan, its history, financial statements, early
warnings, the watchlist, review tasks and review reports. Override proposals are approvals proposals
of kind ``classification_override`` (``approval_proposal``); ``override_id`` columns point there.

Why a separate current-state table (``loan_classification``) rather than columns on ``loan``: the
nightly engine rewrites it with set-based UPDATEs over the whole book, and a narrow row keeps that
cheap (PostgreSQL rewrites whole rows); the loan table stays owned by the loan book and the
restructuring work, so parallel migrations do not collide; and the engine's own bookkeeping (the
floor it computed, the active override and its caps, the EU materiality counter) lives next to
the category it explains. Readers join on the primary key ``loan_id``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from collections_svc.db import Base, Money, UTCDateTime, VersionedMixin, utcnow
from collections_svc.monitoring.settings import CATEGORIES

# Rank of each category: the engine compares integers (0 normal .. 4 loss); >= 2 is NPL.
RANK = {c: i for i, c in enumerate(CATEGORIES)}
NPL_RANK = RANK["substandard"]


class LoanClassification(Base):
    """The current five-category classification, IFRS 9 stage and EU default flag of one loan."""

    __tablename__ = "loan_classification"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    category_rank: Mapped[int] = mapped_column(Integer)
    since: Mapped[dt.date] = mapped_column(Date)  # date the current category took effect
    ifrs9_stage: Mapped[int] = mapped_column(Integer, default=1)
    ifrs9_since: Mapped[dt.date] = mapped_column(Date)
    eu_default: Mapped[bool] = mapped_column(Boolean, default=False)
    eu_breach_since: Mapped[dt.date | None] = mapped_column(Date)  # EU-DOD-02 materiality counter start
    # What the rules demanded at the last run (rank) and which rule ids; evidence is in the history.
    floor_rank: Mapped[int] = mapped_column(Integer, default=0)
    rule_ids: Mapped[list | None] = mapped_column(JSON)
    classified_on: Mapped[dt.date] = mapped_column(Date)  # business date of the last engine run
    # The approved override in force (an approval_proposal id): floors at or below the caps are rebutted.
    override_id: Mapped[int | None] = mapped_column(ForeignKey("approval_proposal.id"))
    override_until: Mapped[dt.date | None] = mapped_column(Date)
    override_category_cap: Mapped[int | None] = mapped_column(Integer)
    override_stage_cap: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_loan_classification_category", "category_rank"),)


class ClassificationHistory(Base):
    """One row per change of a loan's category, IFRS 9 stage or EU default flag, with rule ids and
    evidence."""

    __tablename__ = "classification_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"))
    business_date: Mapped[dt.date] = mapped_column(Date)
    from_category: Mapped[str | None] = mapped_column(String(20))
    to_category: Mapped[str] = mapped_column(String(20))
    from_stage: Mapped[int | None] = mapped_column(Integer)
    to_stage: Mapped[int] = mapped_column(Integer)
    eu_default: Mapped[bool] = mapped_column(Boolean, default=False)
    rule_ids: Mapped[list | None] = mapped_column(JSON)
    evidence: Mapped[dict | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16), default="engine")  # engine | override
    override_id: Mapped[int | None] = mapped_column(ForeignKey("approval_proposal.id"))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_classification_history_loan", "loan_id", "business_date"),
        Index("ix_classification_history_date", "business_date"),
    )


class FinancialStatement(VersionedMixin, Base):
    """A borrower's periodic financial statement (amounts in the book currency)."""

    __tablename__ = "financial_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id", ondelete="CASCADE"))
    period_end: Mapped[dt.date] = mapped_column(Date)
    period_type: Mapped[str] = mapped_column(String(16), default="annual")  # annual | semiannual | quarterly
    total_assets: Mapped[Decimal] = mapped_column(Money)
    total_liabilities: Mapped[Decimal] = mapped_column(Money)
    current_assets: Mapped[Decimal] = mapped_column(Money)
    current_liabilities: Mapped[Decimal] = mapped_column(Money)
    inventory: Mapped[Decimal] = mapped_column(Money)
    cash: Mapped[Decimal] = mapped_column(Money)
    revenue: Mapped[Decimal] = mapped_column(Money)
    operating_profit: Mapped[Decimal] = mapped_column(Money)
    net_profit: Mapped[Decimal] = mapped_column(Money)
    interest_expense: Mapped[Decimal] = mapped_column(Money)
    operating_cash_flow: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(16), default="api")
    received_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("borrower_id", "period_type", "period_end", name="uq_financial_statement_period"),
        Index("ix_financial_statement_borrower", "borrower_id", "period_end"),
    )


class EarlyWarning(VersionedMixin, Base):
    """An early-warning signal (预警信号) with severity, evidence, owner and status."""

    __tablename__ = "early_warning"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id", ondelete="CASCADE"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # ratio | deterioration | dpd | signal
    code: Mapped[str] = mapped_column(String(48))  # ratio name, signal name, "dpd_30", ...
    rule_id: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged | closed
    evidence: Mapped[dict | None] = mapped_column(JSON)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    raised_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    # Makes re-evaluation harmless: one warning per (rule, subject, period/episode).
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)

    __table_args__ = (Index("ix_early_warning_status", "status", "severity"),)


class WatchlistEntry(Base):
    __tablename__ = "watchlist_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id", ondelete="CASCADE"))
    added_on: Mapped[dt.date] = mapped_column(Date)
    removed_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("early_warning.id"))
    added_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index(
            "uq_watchlist_entry_active",
            "borrower_id",
            unique=True,
            postgresql_where=text("removed_on IS NULL"),
            sqlite_where=text("removed_on IS NULL"),
        ),
    )


class ReviewTask(VersionedMixin, Base):
    """A due post-loan check (贷后检查) assigned to the borrower's relationship manager."""

    __tablename__ = "review_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id", ondelete="CASCADE"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"))
    # first_check | routine | pre_maturity | ad_hoc | group_npl | info_update
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | cancelled
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict | None] = mapped_column(JSON)
    created_on: Mapped[dt.date] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    overdue_flagged_on: Mapped[dt.date | None] = mapped_column(Date)
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)

    __table_args__ = (Index("ix_review_task_open_due", "status", "due_on"),)


class ReviewReport(Base):
    """The report of a performed review: type, date, on/off-site, findings, conclusion."""

    __tablename__ = "review_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("review_task.id"), index=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id", ondelete="CASCADE"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"))
    review_type: Mapped[str] = mapped_column(String(16))
    review_date: Mapped[dt.date] = mapped_column(Date)
    on_site: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[dict] = mapped_column(JSON)  # operations, finances, use_of_funds, collateral, guarantors
    conclusion: Mapped[str] = mapped_column(Text)
    recommended_category: Mapped[str | None] = mapped_column(String(20))
    attachments: Mapped[list | None] = mapped_column(JSON)
    # The classification override proposed from the recommendation, or why none was.
    override_id: Mapped[int | None] = mapped_column(ForeignKey("approval_proposal.id"))
    override_note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
