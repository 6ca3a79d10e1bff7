"""API inputs and outputs of post-loan monitoring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from collections_svc.monitoring.settings import Category

Money = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]
NonNeg = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
PeriodType = Literal["annual", "semiannual", "quarterly", "monthly"]
Signal = Literal[
    "management_change",
    "litigation",
    "adverse_news",
    "industry_downturn",
    "collateral_value_drop",
    "key_customer_loss",
]


class ORM(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ClassificationOut(ORM):
    loan_id: int
    category: Category
    since: dt.date
    ifrs9_stage: int
    ifrs9_since: dt.date
    eu_default: bool
    rule_ids: list[str] | None
    classified_on: dt.date
    override_id: int | None
    override_until: dt.date | None


class HistoryOut(ORM):
    id: int
    loan_id: int
    business_date: dt.date
    from_category: str | None
    to_category: str
    from_stage: int | None
    to_stage: int
    eu_default: bool
    rule_ids: list[str] | None
    evidence: dict | None
    source: str
    override_id: int | None
    actor: str


class RunIn(BaseModel):
    business_date: dt.date | None = None


class RunOut(BaseModel):
    business_date: dt.date
    loans_evaluated: int
    new_loans: int
    category_changes: int
    stage_changes: int
    eu_default_changes: int
    group_review_tasks: int
    by_category: dict[str, int]
    by_stage: dict[int, int]
    seconds: float


class MigrationOut(BaseModel):
    from_date: dt.date
    to_date: dt.date
    categories: list[str]
    counts: dict[str, dict[str, int]]
    balances: dict[str, dict[str, Decimal]]
    rates: dict[str, dict[str, float]]


class OverrideIn(BaseModel):
    loan_id: int
    target_category: Category | None = None
    target_stage: int | None = Field(None, ge=1, le=3)
    reason: str = Field(min_length=10, max_length=2000)
    valid_until: dt.date | None = None
    evidence: dict | None = None

    @model_validator(mode="after")
    def _something(self) -> OverrideIn:
        if self.target_category is None and self.target_stage is None:
            raise ValueError("give target_category, target_stage or both")
        return self


class StatementIn(BaseModel):
    """One period's financial statement; amounts in yuan (2 decimals); profits and cash flow may be
    negative."""

    period_end: dt.date
    period_type: PeriodType = "annual"
    total_assets: NonNeg
    total_liabilities: NonNeg
    current_assets: NonNeg
    current_liabilities: NonNeg
    inventory: NonNeg
    cash: NonNeg
    revenue: NonNeg
    operating_profit: Money
    net_profit: Money
    interest_expense: NonNeg
    operating_cash_flow: Money

    @model_validator(mode="after")
    def _consistent(self) -> StatementIn:
        if self.current_assets > self.total_assets:
            raise ValueError("current_assets cannot exceed total_assets")
        if self.inventory > self.current_assets:
            raise ValueError("inventory cannot exceed current_assets")
        return self


class StatementOut(ORM):
    id: int
    borrower_id: int
    period_end: dt.date
    period_type: str
    total_assets: Decimal
    total_liabilities: Decimal
    current_assets: Decimal
    current_liabilities: Decimal
    inventory: Decimal
    cash: Decimal
    revenue: Decimal
    operating_profit: Decimal
    net_profit: Decimal
    interest_expense: Decimal
    operating_cash_flow: Decimal
    source: str
    received_on: dt.date
    ratios: dict[str, Decimal | None] = {}


class WarningOut(ORM):
    id: int
    borrower_id: int
    loan_id: int | None
    kind: str
    code: str
    rule_id: str
    severity: str
    status: str
    evidence: dict | None
    owner_id: int | None
    raised_on: dt.date
    closed_on: dt.date | None
    note: str | None
    version: int


class StatementResult(BaseModel):
    statement: StatementOut
    warnings: list[WarningOut]


class ImportResult(BaseModel):
    statements: int
    warnings: int


class SignalIn(BaseModel):
    signal: Signal
    observed_on: dt.date
    note: str = Field(min_length=1, max_length=2000)
    severity: Literal["low", "medium", "high", "severe"] | None = None


class WarningUpdate(BaseModel):
    status: Literal["open", "acknowledged", "closed"]
    version: int
    note: str | None = Field(None, max_length=2000)


class WatchlistIn(BaseModel):
    borrower_id: int
    reason: str = Field(min_length=3, max_length=500)


class WatchlistOut(ORM):
    id: int
    borrower_id: int
    added_on: dt.date
    removed_on: dt.date | None
    reason: str
    warning_id: int | None
    added_by: str


class BorrowerWarningReport(BaseModel):
    """Risk-warning report per borrower (风险预警报告): warnings, latest ratios, watchlist, classification."""

    borrower_id: int
    borrower_name: str
    on_watchlist: bool
    watchlist: WatchlistOut | None
    latest_statement: StatementOut | None
    warnings: list[WarningOut]
    loans: list[ClassificationOut]


class ReviewTaskOut(ORM):
    id: int
    borrower_id: int
    loan_id: int | None
    kind: str
    due_on: dt.date
    status: str
    assignee_id: int | None
    rule_id: str | None
    reason: str
    evidence: dict | None
    created_on: dt.date
    completed_on: dt.date | None
    overdue_flagged_on: dt.date | None
    escalated_to_id: int | None
    version: int


class ReviewRunOut(BaseModel):
    business_date: dt.date
    first_check: int
    routine: int
    pre_maturity: int
    info_update: int
    overdue_flagged: int


class Findings(BaseModel):
    operations: str = ""
    finances: str = ""
    use_of_funds: str = ""
    collateral: str = ""
    guarantors: str = ""


class ReviewReportIn(BaseModel):
    borrower_id: int
    task_id: int | None = None
    loan_id: int | None = None
    review_type: Literal["first_check", "routine", "full", "pre_maturity", "focused", "ad_hoc"]
    review_date: dt.date
    on_site: bool
    findings: Findings
    conclusion: str = Field(min_length=1, max_length=5000)
    recommended_category: Category | None = None
    attachments: list[str] = Field(default_factory=list, max_length=20)


class ReviewReportOut(ORM):
    id: int
    task_id: int | None
    borrower_id: int
    loan_id: int | None
    review_type: str
    review_date: dt.date
    on_site: bool
    findings: dict
    conclusion: str
    recommended_category: str | None
    attachments: list | None
    override_id: int | None
    override_note: str | None
    author: str
    created_at: dt.datetime
