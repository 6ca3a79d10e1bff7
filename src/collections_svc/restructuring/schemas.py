from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

REASON_CODES = {
    # CN-RST-01 (Art.18): the debtor is in financial difficulty because ...
    "overdue": "逾期 principal or interest overdue",
    "expected_cash_shortfall": "预计现金流不足 expected cash shortfall",
    "already_npl": "已为不良 already non-performing",
    "no_market_funding": "无法以公允价格从其他银行融资 no fair-price funding elsewhere",
    "delisting_risk": "面临退市风险 delisting risk",
    "other": "其他 other (explain)",
}


class CustomLine(BaseModel):
    due_on: dt.date
    principal: Decimal = Field(ge=0, decimal_places=2)


class Terms(BaseModel):
    """The new terms. Concession types (展期, new plan, grace, rate change, capitalisation, waiver) are
    read from these fields and can be combined freely."""

    reason_code: Literal[
        "overdue", "expected_cash_shortfall", "already_npl", "no_market_funding", "delisting_risk", "other"
    ]
    reason_text: str | None = Field(default=None, max_length=2000)
    effective_on: dt.date
    method: Literal["equal_installment", "equal_principal", "bullet", "custom"] = "equal_installment"
    first_due_on: dt.date
    count: int = Field(default=12, ge=1, le=600)
    frequency_months: Literal[1, 2, 3, 6, 12] = 1
    grace_periods: int = Field(default=0, ge=0, le=120)
    annual_rate: Decimal | None = Field(default=None, ge=0, le=1, decimal_places=6)
    capitalise_arrears: bool = False
    waive_interest: Decimal = Field(default=Decimal(0), ge=0, decimal_places=2)
    waive_penalty: Decimal = Field(default=Decimal(0), ge=0, decimal_places=2)
    custom: list[CustomLine] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Terms:
        if self.reason_code == "other" and not (self.reason_text and self.reason_text.strip()):
            raise ValueError("reason_text is required when reason_code is 'other'")
        if self.first_due_on <= self.effective_on:
            raise ValueError("first_due_on must be after effective_on (the first repayment after the change)")
        if self.method == "custom" and not self.custom:
            raise ValueError("a custom schedule needs its lines in 'custom'")
        return self


class PreviewIn(BaseModel):
    loan_id: int
    terms: Terms


class ProposeIn(BaseModel):
    terms: Terms
    comment: str | None = Field(default=None, max_length=2000)
    version: int | None = None  # the case's version, if the client wants a stale-check
