"""API shapes of cases: queue rows, case detail, actions, contacts, promises, holds, visits, timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Amount = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
Channel = Literal["phone", "sms", "visit", "letter", "email"]
Outcome = Literal[
    "reached", "no_answer", "wrong_number", "refused", "promised", "disputed", "paid_claimed", "left_message"
]
HoldKind = Literal["dispute", "bankruptcy_stay", "supervisor_hold"]
Trigger = Literal[
    "escalate",
    "cure",
    "open_negotiation",
    "restructure",
    "refer_to_legal",
    "write_off",
    "close",
    "de_escalate",
]


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    loan_id: int
    borrower_id: int
    stage: str
    is_open: bool
    opened_on: dt.date
    closed_on: dt.date | None
    stage_entered_on: dt.date
    assignee_id: int | None
    team: str | None
    next_action_on: dt.date | None
    broken_promises: int
    version: int


class HoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    starts_on: dt.date
    ends_on: dt.date | None = Field(description="First day without the hold (exclusive); null = open-ended")
    reason: str | None
    created_by: str
    released_by: str | None


class CaseDetail(CaseOut):
    on_hold: bool
    holds: list[HoldOut]
    allowed_triggers: list[str]
    loan_external_id: str
    contract_no: str
    borrower_name: str
    dpd: int
    bucket: str | None
    overdue_amount: Decimal
    outstanding_principal: Decimal


class QueueRow(BaseModel):
    id: int
    loan_id: int
    loan_external_id: str
    contract_no: str
    borrower_id: int
    borrower_name: str
    stage: str
    is_open: bool
    assignee_id: int | None
    team: str | None
    next_action_on: dt.date | None
    dpd: int
    bucket: str | None
    overdue_amount: Decimal
    broken_promises: int
    on_hold: bool
    priority: int
    version: int


class QueuePage(BaseModel):
    items: list[QueueRow]
    total: int = Field(description="Matching cases, counted up to 10,000")
    total_capped: bool = Field(description="True when more than 10,000 cases match (total shows 10,000)")
    page: int
    size: int


class CaseOpen(BaseModel):
    loan_id: int


class TransitionIn(BaseModel):
    trigger: Trigger
    version: int = Field(description="The case version you saw; a stale one gets 409 with the current state")
    reason: str | None = Field(None, max_length=2000)
    target: str | None = Field(None, description="Destination stage for escalate and de_escalate")


class CaseEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    from_stage: str | None
    to_stage: str | None
    trigger: str | None
    actor: str
    reason: str | None
    business_date: dt.date
    at: dt.datetime


class TransitionOut(BaseModel):
    case: CaseDetail
    event: CaseEventOut


class PromiseIn(BaseModel):
    amount: Amount
    due_on: dt.date
    grace_days: int = Field(0, ge=0, le=30)


class ContactLogIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    channel: Channel
    outcome: Outcome
    contact_id: int | None = None
    note: str | None = Field(None, max_length=4000)
    next_action_on: dt.date | None = None
    promise: PromiseIn | None = None
    version: int | None = None


class BorrowerContactLogIn(ContactLogIn):
    case_ids: list[int] = Field(min_length=1, max_length=200)


class ContactLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    contact_id: int | None
    channel: str
    outcome: str
    note: str | None
    next_action_on: dt.date | None
    business_date: dt.date
    actor: str
    batch_id: str | None
    at: dt.datetime


class PromiseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    loan_id: int
    contact_log_id: int | None
    amount: Decimal
    promised_on: dt.date
    due_on: dt.date
    grace_days: int
    status: str
    paid_amount: Decimal
    evaluated_on: dt.date | None
    created_by: str


class PromiseCreate(PromiseIn):
    version: int | None = None


class EvaluateOut(BaseModel):
    kept: int
    broken: int
    partially_paid: int


class HoldIn(BaseModel):
    kind: HoldKind
    starts_on: dt.date | None = Field(None, description="Defaults to today; may be backdated")
    ends_on: dt.date | None = Field(None, description="First day without the hold; null = until released")
    reason: str | None = Field(None, max_length=2000)
    version: int | None = None


class HoldRelease(BaseModel):
    reason: str | None = Field(None, max_length=2000)


class VisitIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    scheduled_on: dt.date
    address: str = Field(min_length=1, max_length=300)
    assignee_id: int | None = None
    version: int | None = None


class VisitReportIn(BaseModel):
    findings: str = Field(min_length=1, max_length=8000)
    operating_status: Literal["normal", "reduced", "suspended", "ceased", "unknown"]
    collateral_status: Literal["intact", "impaired", "missing", "not_applicable", "unknown"]
    visited_on: dt.date | None = None
    version: int


class VisitCloseIn(BaseModel):
    version: int
    cancel: bool = False


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    scheduled_on: dt.date
    address: str
    assignee_id: int | None
    status: str
    findings: str | None
    operating_status: str | None
    collateral_status: str | None
    visited_on: dt.date | None
    reported_by: str | None
    closed_on: dt.date | None
    version: int
    attachments: list[AttachmentOut]


class AssignIn(BaseModel):
    case_ids: list[int] = Field(min_length=1, max_length=1000)
    assignee_id: int | None
    team: str | None = Field(None, max_length=64)


class RuleIn(BaseModel):
    priority: int = 100
    region: str | None = Field(None, max_length=64)
    product: str | None = Field(None, max_length=32)
    min_exposure: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    max_exposure: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    team: str = Field(min_length=1, max_length=64)
    assignee_id: int | None = None


class RuleOut(RuleIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    active: bool


class TimelineItemOut(BaseModel):
    on: dt.date
    at: dt.datetime | None
    kind: str
    title: str
    actor: str | None
    data: dict[str, Any]


class LifecycleOut(BaseModel):
    mermaid: str
    stages: list[str]
    open_stages: list[str]
    closed_stages: list[str]
    triggers: list[str]


class BorrowerLoanRow(BaseModel):
    id: int
    external_id: str
    contract_no: str
    status: str
    dpd: int
    bucket: str | None
    overdue_amount: Decimal
    outstanding_principal: Decimal
    open_case_id: int | None


class BorrowerCasesOut(BaseModel):
    borrower_id: int
    borrower_name: str
    uscc: str
    loans: list[BorrowerLoanRow]
    cases: list[CaseOut]
    total_overdue: Decimal
