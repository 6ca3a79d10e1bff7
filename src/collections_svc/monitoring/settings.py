"""Settings groups of the monitoring package (kept here so config.py only gains two fields).

Every threshold of the classification rules, the early-warning rules and the review plans is a
setting, so a bank changes policy without code (RULES.md: keep every threshold configurable).
Nothing here imports the rest of the application.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator

CATEGORIES = ("normal", "special_mention", "substandard", "doubtful", "loss")
Category = Literal["normal", "special_mention", "substandard", "doubtful", "loss"]
Severity = Literal["low", "medium", "high", "severe"]
SEVERITIES = ("low", "medium", "high", "severe")


class EuDefaultSettings(BaseModel):
    """EU-DOD-01/02: obligor-level default on a material past-due amount for more than 90 days."""

    enabled: bool = False
    # Absolute threshold in the book currency; EU-DOD-02 sets EUR 500 for non-retail, so set the
    # book-currency equivalent your FX policy prescribes.
    materiality_absolute: Decimal = Decimal("500")
    # Relative threshold as a fraction of the on-balance exposure to the obligor (0-2.5%).
    materiality_relative: Decimal = Decimal("0.01")
    days: int = 90

    @field_validator("materiality_relative")
    @classmethod
    def _range(cls, v: Decimal) -> Decimal:
        if not (Decimal(0) <= v <= Decimal("0.025")):
            raise ValueError("the relative materiality threshold must be between 0 and 2.5% (EU-DOD-02)")
        return v


class ClassificationSettings(BaseModel):
    # CN-CLS-02..05: DPD floors. A loan with dpd >= special_mention_dpd is at least special_mention;
    # the other three are "more than" thresholds.
    special_mention_dpd: int = 1
    substandard_over_dpd: int = 90
    doubtful_over_dpd: int = 270
    loss_over_dpd: int = 360
    # CN-CLS-06: strictly more than this share of a debtor's outstanding balance NPL -> all NPL.
    debtor_npl_share: Decimal = Decimal("0.10")
    # CN-CLS-09: months and repayment periods of normal payment after the arrears are repaid.
    upgrade_months: int = 6
    upgrade_periods: int = 2
    # IFRS9-02/03 presumptions.
    ifrs9_stage2_over_dpd: int = 30
    ifrs9_stage3_over_dpd: int = 90
    # Early-warning floors (our rule EW-CLS-01): an open or acknowledged warning of this severity puts
    # every loan of the borrower at least at the category. Empty = warnings never move a category.
    warning_floors: dict[Severity, Category] = Field(default_factory=lambda: {"severe": "special_mention"})
    eu_default: EuDefaultSettings = Field(default_factory=EuDefaultSettings)

    @field_validator("debtor_npl_share")
    @classmethod
    def _share(cls, v: Decimal) -> Decimal:
        if not (Decimal(0) <= v < Decimal(1)):
            raise ValueError("debtor_npl_share must be a fraction between 0 and 1")
        return v


RATIOS = (
    "debt_to_asset",
    "current_ratio",
    "quick_ratio",
    "interest_coverage",
    "revenue_growth",
    "profit_growth",
    "ocf_to_current_liabilities",
)
SIGNALS = (
    "management_change",
    "litigation",
    "adverse_news",
    "industry_downturn",
    "collateral_value_drop",
    "key_customer_loss",
)


class RatioRule(BaseModel):
    """A threshold on one ratio: warn when the ratio is above (``max``) or below (``min``) it."""

    ratio: Literal[
        "debt_to_asset",
        "current_ratio",
        "quick_ratio",
        "interest_coverage",
        "revenue_growth",
        "profit_growth",
        "ocf_to_current_liabilities",
    ]
    max: Decimal | None = None
    min: Decimal | None = None
    industry: str | None = None  # set = applies to that industry only and overrides the general rule
    severity: Severity = "medium"


class DpdRule(BaseModel):
    min_dpd: int
    severity: Severity


class WarningRules(BaseModel):
    ratios: list[RatioRule] = Field(
        default_factory=lambda: [
            RatioRule(ratio="debt_to_asset", max=Decimal("0.70"), severity="high"),
            RatioRule(ratio="debt_to_asset", max=Decimal("0.85"), industry="real_estate", severity="high"),
            RatioRule(ratio="current_ratio", min=Decimal("1.0"), severity="medium"),
            RatioRule(ratio="quick_ratio", min=Decimal("0.5"), severity="medium"),
            RatioRule(ratio="interest_coverage", min=Decimal("1.5"), severity="high"),
            RatioRule(ratio="ocf_to_current_liabilities", min=Decimal("0.0"), severity="medium"),
        ]
    )
    # Deterioration between consecutive statements: warn when the growth is below -drop.
    revenue_drop: Decimal = Decimal("0.30")
    revenue_drop_severity: Severity = "high"
    profit_drop: Decimal = Decimal("0.50")
    profit_drop_severity: Severity = "medium"
    dpd: list[DpdRule] = Field(
        default_factory=lambda: [
            DpdRule(min_dpd=30, severity="medium"),
            DpdRule(min_dpd=60, severity="high"),
            DpdRule(min_dpd=90, severity="severe"),
        ]
    )
    signals: dict[str, Severity] = Field(
        default_factory=lambda: {
            "management_change": "medium",
            "litigation": "high",
            "adverse_news": "medium",
            "industry_downturn": "medium",
            "collateral_value_drop": "high",
            "key_customer_loss": "high",
        }
    )
    # What a new warning of a severity does.
    review_task_from: Severity = "high"
    watchlist_from: Severity = "high"
    review_due_days: int = 10


class ReviewPlan(BaseModel):
    """Review cadence for a product (``"*"`` = any) and a classification."""

    product: str = "*"
    first_check_days: int = 30
    # Routine check every N months per category; worse categories are checked more often.
    routine_months: dict[Category, int] = Field(
        default_factory=lambda: {
            "normal": 12,
            "special_mention": 6,
            "substandard": 3,
            "doubtful": 3,
            "loss": 3,
        }
    )
    pre_maturity_days: int = 30


class MonitoringSettings(BaseModel):
    warnings: WarningRules = Field(default_factory=WarningRules)
    review_plans: list[ReviewPlan] = Field(
        default_factory=lambda: [
            ReviewPlan(product="*"),
            ReviewPlan(
                product="fixed_asset",
                first_check_days=15,
                routine_months={
                    "normal": 6,
                    "special_mention": 3,
                    "substandard": 3,
                    "doubtful": 1,
                    "loss": 1,
                },
            ),
        ]
    )
    # A review task still open this many days after its due date is flagged overdue to a supervisor.
    overdue_grace_days: int = 0
    # Financial statements older than this produce a customer-information update task.
    statements_max_age_days: int = 450
    # Contacts not updated for this long produce a customer-information update task.
    contacts_max_age_days: int = 365
