from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SweepRequest(BaseModel):
    as_of: dt.date | None = Field(None, description="business date to sweep; "
                                                     "default: the date that last closed")
    dry_run: bool = Field(False, description="compute and return what would change; write nothing")
    partition: str | None = Field(None, pattern=r"^\d+/\d+$", description="K/N: only loans with id % N == K")
    strategy_version: str | None = Field(None, description="preview a saved, not yet active strategy "
                                                           "(dry run only)")


class SweepRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    business_date: dt.date
    partition: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    triggered_by: str
    strategy_version: str | None
    loans_evaluated: int
    cases_opened: int
    cases_escalated: int
    cases_cured: int
    notices_queued: int
    promises_broken: int
    error_count: int
    errors: list[dict[str, Any]] | None = None


class SweepResult(BaseModel):
    business_date: dt.date
    partition: str
    dry_run: bool
    status: str
    message: str
    strategy_version: str | None
    run_id: int | None
    counts: dict[str, int]
    error_count: int
    errors: list[dict[str, Any]]
    opened: list[int]
    cured: list[int]
    escalations: list[dict[str, Any]]
    notices: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    stats: dict[str, Any]


class SweepHistory(BaseModel):
    items: list[SweepRunOut]
    total: int
    last_run: SweepRunOut | None
    next_run_at: dt.datetime | None
    pending_dates: list[dt.date]
