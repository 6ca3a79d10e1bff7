"""Input rows (shared by the JSON API and CSV import) and API outputs of the loan book."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from collections_svc.loans.models import ContactRole, LoanStatus, Product
from collections_svc.loans.validators import validate_phone, validate_uscc

Amount = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
NonNegAmount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
ExternalId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-/]+$")]


def _tz(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from None
    return v


TimeZone = Annotated[str, AfterValidator(_tz)]


class BorrowerIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    external_id: ExternalId
    name: str = Field(min_length=1, max_length=200)
    uscc: Annotated[str, AfterValidator(validate_uscc)]
    industry: str | None = Field(None, max_length=64)
    region: str | None = Field(None, max_length=64)
    segment: str | None = Field(None, max_length=32)
    group_id: str | None = Field(None, max_length=64)
    timezone: TimeZone = "Asia/Shanghai"
    language: str = Field("zh_CN", pattern=r"^(zh_CN|en)$")


class ContactIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    borrower_external_id: ExternalId
    role: ContactRole
    name: str = Field(min_length=1, max_length=100)
    phone: Annotated[str, AfterValidator(validate_phone)] | None = None
    email: str | None = Field(None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    address: str | None = Field(None, max_length=300)
    timezone: TimeZone | None = None
    sms_consent: bool = True
    opted_out: bool = False

    @field_validator("phone", "email", "address", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        return None if isinstance(v, str) and not v.strip() else v


class LoanIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    external_id: ExternalId
    borrower_external_id: ExternalId
    contract_no: str = Field(min_length=1, max_length=64)
    product: Product
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    principal: Amount
    annual_rate: Decimal = Field(ge=0, le=1, max_digits=9, decimal_places=6)
    disbursed_on: dt.date
    maturity_on: dt.date

    @model_validator(mode="after")
    def _dates(self) -> LoanIn:
        if self.maturity_on < self.disbursed_on:
            raise ValueError("maturity_on is before disbursed_on")
        return self


class InstallmentIn(BaseModel):
    loan_external_id: ExternalId
    seq: int = Field(ge=1, le=10_000)
    due_on: dt.date
    principal_due: NonNegAmount
    interest_due: NonNegAmount
    penalty_due: NonNegAmount = Decimal(0)


class PaymentIn(BaseModel):
    external_id: ExternalId
    loan_external_id: ExternalId
    paid_on: dt.date
    amount: Amount
    note: str | None = Field(None, max_length=500)


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    borrower_id: int
    role: ContactRole
    name: str
    phone: str | None
    email: str | None
    address: str | None
    timezone: str | None
    sms_consent: bool
    opted_out: bool
    phone_invalid: bool
    version: int


class InstallmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    due_on: dt.date
    principal_due: Decimal
    interest_due: Decimal
    penalty_due: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    penalty_paid: Decimal
    unpaid: Decimal
    settled_on: dt.date | None


class LoanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    external_id: str
    borrower_id: int
    contract_no: str
    product: Product
    currency: str
    principal: Decimal
    outstanding_principal: Decimal
    annual_rate: Decimal
    disbursed_on: dt.date
    maturity_on: dt.date
    status: LoanStatus
    dpd: int
    bucket: str | None
    overdue_amount: Decimal
    oldest_unpaid_due_on: dt.date | None
    overpayment: Decimal
    restructured: bool
    version: int


class LoanDetail(LoanOut):
    installments: list[InstallmentOut]


class BorrowerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    external_id: str
    name: str
    uscc: str
    industry: str | None
    region: str | None
    segment: str | None
    group_id: str | None
    relationship_manager_id: int | None
    timezone: str
    language: str
    version: int


class BorrowerDetail(BorrowerOut):
    contacts: list[ContactOut]
    loans: list[LoanOut]


class BorrowerUpdate(BaseModel):
    version: int
    name: str | None = Field(None, min_length=1, max_length=200)
    industry: str | None = Field(None, max_length=64)
    region: str | None = Field(None, max_length=64)
    segment: str | None = Field(None, max_length=32)
    group_id: str | None = Field(None, max_length=64)
    relationship_manager_id: int | None = None
    timezone: TimeZone | None = None
    language: str | None = Field(None, pattern=r"^(zh_CN|en)$")


class ContactUpdate(BaseModel):
    version: int
    name: str | None = Field(None, min_length=1, max_length=100)
    phone: Annotated[str, AfterValidator(validate_phone)] | None = None
    email: str | None = Field(None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    address: str | None = Field(None, max_length=300)
    sms_consent: bool | None = None
    opted_out: bool | None = None


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    external_id: str
    loan_id: int
    paid_on: dt.date
    amount: Decimal
    unapplied: Decimal
    recovery: bool
    created: bool = True


class BucketLineOut(BaseModel):
    bucket: str
    label: str
    loans: int
    overdue_amount: Decimal
    outstanding_principal: Decimal


class DpdRunOut(BaseModel):
    as_of: dt.date
    loans_changed: int
    loans_reset: int
    bucket_moves: int
    buckets: list[BucketLineOut]
