from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StatusEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    status: str
    source: str
    message_sid: str | None
    error_code: str | None
    detail: str | None
    at: dt.datetime


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    worker: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str
    error_code: str | None
    error: str | None
    provider_sid: str | None


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    contact_id: int | None
    channel: str
    template: str
    locale: str
    trigger_key: str
    business_date: dt.date
    to_address: str | None
    status: str
    due_at: dt.datetime
    next_attempt_at: dt.datetime
    attempts: int
    provider_sid: str | None
    sent_at: dt.datetime | None
    final_at: dt.datetime | None
    error_code: str | None
    last_error: str | None
    defer_reason: str | None
    has_document: bool = False
    status_events: list[StatusEventOut] = []


class NoticeDetail(NoticeOut):
    body: str
    attempts_log: list[AttemptOut] = []


class PreviewIn(BaseModel):
    extra: dict[str, Any] = Field(default_factory=dict, description="Trigger variables, e.g. promise_amount")


class PreviewOut(BaseModel):
    case_id: int
    template: str
    channel: str
    locale: str
    business_date: dt.date
    contact_id: int | None
    body: str
    variables: list[str]
    sample_values_used: list[str]


class CancelIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500)


class PrintBatchOut(BaseModel):
    day: dt.date
    letters: int
    pages: int
    pdf_url: str
    manifest_url: str
