from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Amount = Field(default=None, gt=0, max_digits=16, decimal_places=2)


class ReferralIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    claim_amount: Decimal | None = Amount
    body_type: Literal["court", "arbitration"] = "court"
    body_name: str | None = Field(default=None, max_length=200)
    version: int | None = None


class WriteOffIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class LegalCaseUpdate(BaseModel):
    version: int
    body_type: Literal["court", "arbitration"] | None = None
    body_name: str | None = Field(default=None, max_length=200)
    case_number: str | None = Field(default=None, max_length=100)
    filed_on: dt.date | None = None
    status: Literal["preparing", "filed", "hearing", "judgment", "enforcement", "closed"] | None = None
    claim_amount: Decimal | None = Amount
    judgment_on: dt.date | None = None
    judgment_amount: Decimal | None = Amount
    judgment_summary: str | None = Field(default=None, max_length=4000)
    counsel: str | None = Field(default=None, max_length=200)


class LegalEventIn(BaseModel):
    kind: Literal[
        "filing", "hearing", "claim", "judgment", "enforcement_step", "recovery", "cost", "deadline", "note"
    ]
    on: dt.date
    amount: Decimal | None = Amount
    deadline_on: dt.date | None = None
    note: str | None = Field(default=None, max_length=4000)
    task_title: str | None = Field(default=None, max_length=200)
    assignee_id: int | None = None


class LegalEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    on: dt.date
    amount: Decimal | None
    deadline_on: dt.date | None
    note: str | None
    actor: str


class LegalTaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    due_on: dt.date
    status: str
    assignee_id: int | None
    event_id: int | None
    version: int


class LegalCaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    loan_id: int
    proposal_id: int | None
    body_type: str
    body_name: str | None
    case_number: str | None
    filed_on: dt.date | None
    status: str
    claim_amount: Decimal | None
    judgment_on: dt.date | None
    judgment_amount: Decimal | None
    judgment_summary: str | None
    counsel: str | None
    version: int
    events: list[LegalEventOut]
    tasks: list[LegalTaskOut]
    totals: dict[str, str] = {}


class TaskDoneIn(BaseModel):
    version: int | None = None
