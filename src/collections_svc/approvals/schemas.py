from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    decision: str
    actor: str
    comment: str | None
    at: dt.datetime
    business_date: dt.date | None


class ProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    state: str
    title: str
    loan_id: int
    case_id: int | None
    maker: str
    amount: Decimal
    currency: str
    approvals_required: int
    approvals_received: int
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    version: int
    # Computed for the reader: hours pending, flagged when over the setting, and whether they may decide.
    age_hours: float | None = None
    overdue: bool = False
    can_decide: bool = False


class ProposalDetail(ProposalOut):
    payload: dict[str, Any]
    outcome: dict[str, Any] | None
    decisions: list[DecisionOut]


class ProposalCreate(BaseModel):
    kind: str = Field(max_length=32)
    loan_id: int
    case_id: int | None = None
    title: str = Field(min_length=1, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)
    submit: bool = True
    comment: str | None = Field(default=None, max_length=2000)


class DecisionIn(BaseModel):
    version: int | None = None
    comment: str | None = Field(default=None, max_length=2000)
