"""The loan book: borrowers, contacts, loans, installments, payments and bucket history.

Money columns are ``Money`` (exact Decimal in Python, integer cents in the database).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collections_svc.db import Base, Money, UTCDateTime, VersionedMixin, utcnow


def str_enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(e, name=name, native_enum=False, length=32, values_callable=lambda x: [m.value for m in x],
                validate_strings=True)


class ContactRole(enum.StrEnum):
    legal_representative = "legal_representative"
    finance = "finance"
    guarantor = "guarantor"
    other = "other"


class Product(enum.StrEnum):
    working_capital = "working_capital"
    fixed_asset = "fixed_asset"
    project_finance = "project_finance"
    trade_finance = "trade_finance"
    other = "other"


class LoanStatus(enum.StrEnum):
    active = "active"
    paid_off = "paid_off"
    written_off = "written_off"


class Borrower(VersionedMixin, Base):
    __tablename__ = "borrower"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    industry: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64), index=True)
    segment: Mapped[str | None] = mapped_column(String(32))
    group_id: Mapped[str | None] = mapped_column(String(64), index=True)
    relationship_manager_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    language: Mapped[str] = mapped_column(String(8), default="zh_CN")

    contacts: Mapped[list[Contact]] = relationship(back_populates="borrower", order_by="Contact.id")
    loans: Mapped[list[Loan]] = relationship(back_populates="borrower", order_by="Loan.id")


class Contact(VersionedMixin, Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id", ondelete="CASCADE"), index=True)
    role: Mapped[ContactRole] = mapped_column(str_enum(ContactRole, "contact_role"))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    timezone: Mapped[str | None] = mapped_column(String(64))  # falls back to the borrower's
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_invalid: Mapped[bool] = mapped_column(Boolean, default=False)

    borrower: Mapped[Borrower] = relationship(back_populates="contacts")

    __table_args__ = (UniqueConstraint("borrower_id", "role", "name", name="uq_contact_borrower_role_name"),)


class Loan(VersionedMixin, Base):
    __tablename__ = "loan"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrower.id"), index=True)
    contract_no: Mapped[str] = mapped_column(String(64))
    product: Mapped[Product] = mapped_column(str_enum(Product, "loan_product"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    principal: Mapped[Decimal] = mapped_column(Money)
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    disbursed_on: Mapped[dt.date] = mapped_column(Date)
    maturity_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[LoanStatus] = mapped_column(str_enum(LoanStatus, "loan_status"), default=LoanStatus.active)
    # Maintained by payment allocation: principal repaid so far (for outstanding principal).
    principal_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # Sum of principal in the schedule; principal beyond it falls due at maturity (CN-PLM-05).
    scheduled_principal: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # Money received beyond everything owed; never dropped.
    overpayment: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # Written by the set-based DPD pass (loans.dpd); read by the queue, sweep and reports.
    dpd: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    overdue_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0), server_default=text("0"))
    oldest_unpaid_due_on: Mapped[dt.date | None] = mapped_column(Date)
    bucket: Mapped[str | None] = mapped_column(String(8))
    bucket_changed_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    restructured: Mapped[bool] = mapped_column(Boolean, default=False)
    restructure_count: Mapped[int] = mapped_column(Integer, default=0)

    borrower: Mapped[Borrower] = relationship(back_populates="loans")
    installments: Mapped[list[Installment]] = relationship(
        back_populates="loan", order_by="Installment.seq", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("principal > 0", name="principal_positive"),
        CheckConstraint("maturity_on >= disbursed_on", name="maturity_after_disbursement"),
        Index("ix_loan_dpd_positive", "dpd", postgresql_where=text("dpd > 0"), sqlite_where=text("dpd > 0")),
    )

    @property
    def outstanding_principal(self) -> Decimal:
        return self.principal - self.principal_paid


class Installment(Base):
    __tablename__ = "installment"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    principal_due: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    interest_due: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    penalty_due: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    principal_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    interest_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    penalty_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # Value date of the payment that settled it in full; null while anything is unpaid.
    settled_on: Mapped[dt.date | None] = mapped_column(Date)

    loan: Mapped[Loan] = relationship(back_populates="installments")

    __table_args__ = (
        UniqueConstraint("loan_id", "seq", name="uq_installment_loan_seq"),
        CheckConstraint("principal_due >= 0 AND interest_due >= 0 AND penalty_due >= 0", name="dues_not_negative"),
        CheckConstraint("principal_paid <= principal_due AND interest_paid <= interest_due "
                        "AND penalty_paid <= penalty_due", name="paid_within_due"),
        # The DPD pass reads only unsettled installments by due date: a small partial index.
        Index("ix_installment_open_due", "due_on", "loan_id",
              postgresql_where=text("settled_on IS NULL"), sqlite_where=text("settled_on IS NULL")),
        Index("ix_installment_settled_on", "settled_on"),
    )

    @property
    def total_due(self) -> Decimal:
        return self.principal_due + self.interest_due + self.penalty_due

    @property
    def total_paid(self) -> Decimal:
        return self.principal_paid + self.interest_paid + self.penalty_paid

    @property
    def unpaid(self) -> Decimal:
        return self.total_due - self.total_paid


class Payment(Base):
    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    unapplied: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # Payments received after write-off are recoveries (reported separately).
    recovery: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    allocations: Mapped[list[PaymentAllocation]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_paid_on", "paid_on"),
    )


class PaymentAllocation(Base):
    __tablename__ = "payment_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"), index=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("installment.id"), index=True)
    component: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)


class BucketHistory(Base):
    __tablename__ = "loan_bucket_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"))
    bucket: Mapped[str] = mapped_column(String(8))
    entered_on: Mapped[dt.date] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_loan_bucket_history_loan", "loan_id", "entered_on"),
        Index("ix_loan_bucket_history_open", "loan_id", unique=True,
              postgresql_where=text("left_on IS NULL"), sqlite_where=text("left_on IS NULL")),
    )
