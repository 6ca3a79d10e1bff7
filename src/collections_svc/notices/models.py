"""The notice outbox: one row per notice, its send attempts, its status history and inbound SMS.

A notice row is written in the transaction of the event that caused it (DESIGN.md rule 3) and is
unique per (case, template, trigger occurrence), so a repeated trigger creates nothing (rule 4).
The dispatcher moves it: queued/deferred -> sending -> sent -> delivered | undelivered | failed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collections_svc.db import Base, UTCDateTime, utcnow

CHANNELS = ("sms", "letter", "console")
STATUSES = ("queued", "deferred", "sending", "sent", "delivered", "undelivered", "failed", "cancelled")
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "cancelled"})
DUE_STATUSES = ("queued", "deferred")


class Notice(Base):
    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    channel: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    trigger_key: Mapped[str] = mapped_column(String(128))
    business_date: Mapped[dt.date] = mapped_column(Date)
    to_address: Mapped[str | None] = mapped_column(String(300))  # phone (E.164) or postal address
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The claim: which dispatcher holds the row in 'sending' and until when (then it is reconciled).
    claim_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    final_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    defer_reason: Mapped[str | None] = mapped_column(Text)
    document_path: Mapped[str | None] = mapped_column(String(400))  # the stored PDF for letters
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    attempts_log: Mapped[list[NoticeAttempt]] = relationship(
        order_by="NoticeAttempt.id", cascade="all, delete-orphan", passive_deletes=True
    )
    status_events: Mapped[list[NoticeStatusEvent]] = relationship(
        order_by="NoticeStatusEvent.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("case_id", "template", "trigger_key", name="uq_notice_case_template_trigger"),
        Index("ix_notice_due", "status", "next_attempt_at"),
        Index("ix_notice_contact_sent", "contact_id", "sent_at"),
        Index("ix_notice_case_sent", "case_id", "sent_at"),
    )


class NoticeAttempt(Base):
    """One try at the provider. Written and committed BEFORE the provider is called."""

    __tablename__ = "notice_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # started | sent | retry | failed | unknown | reconciled_sent | reconciled_not_sent
    outcome: Mapped[str] = mapped_column(String(24), default="started")
    error_code: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    provider_sid: Mapped[str | None] = mapped_column(String(64))


class NoticeStatusEvent(Base):
    """The status history: dispatcher steps and provider callbacks (idempotent on sid + status)."""

    __tablename__ = "notice_status_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null while a callback is parked because it arrived before the dispatcher stored the SID.
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), index=True)
    message_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))  # dispatcher | twilio | user | reconcile
    error_code: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("message_sid", "status", name="uq_notice_status_event_sid_status"),)


class InboundSms(Base):
    """Every signed inbound SMS, with the keyword found and what we did (opt out / in / help / none)."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    to_number: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    keyword: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # opt_out | opt_in | help | none
    contact_ids: Mapped[list | None] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
