"""Maker-checker proposals and their decision trail (one mechanism for every sensitive action)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collections_svc.db import Base, Money, UTCDateTime, VersionedMixin, utcnow

# Known kinds; other packages may register more (see approvals.service.register_kind).
KINDS = ("restructuring", "legal_referral", "write_off", "classification_override", "de_escalation")
STATES = ("draft", "submitted", "approved", "rejected", "withdrawn", "expired")
OPEN_STATES = ("draft", "submitted")
DECISIONS = ("created", "submitted", "approved", "rejected", "withdrawn", "expired")


class Proposal(VersionedMixin, Base):
    """A proposed sensitive action. ``amount`` is the authority basis: the loan's outstanding principal
    when the proposal was made (checked again when it is decided)."""

    __tablename__ = "approval_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("collection_case.id"), index=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    maker: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict] = mapped_column(JSON)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # Approvals needed (2 above the second-approval threshold) and received so far.
    approvals_required: Mapped[int] = mapped_column(Integer, default=1)
    approvals_received: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    business_date: Mapped[dt.date | None] = mapped_column()
    # What the approval did (e.g. the restructuring's observation end); filled by the kind's handler.
    outcome: Mapped[dict | None] = mapped_column(JSON)

    decisions: Mapped[list[Decision]] = relationship(
        order_by="Decision.id", lazy="selectin", cascade="all, delete-orphan", back_populates="proposal"
    )

    __table_args__ = (
        Index(
            "ix_approval_proposal_pending",
            "submitted_at",
            postgresql_where=text("state = 'submitted'"),
            sqlite_where=text("state = 'submitted'"),
        ),
    )


class Decision(Base):
    """One step of the trail: who did what to a proposal, when, with which comment."""

    __tablename__ = "approval_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("approval_proposal.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    business_date: Mapped[dt.date | None] = mapped_column()

    proposal: Mapped[Proposal] = relationship(back_populates="decisions")
