"""One Settings object with nested groups, read from the environment and `.env`.

Variables use the prefix ``COLLECTIONS_`` and ``__`` for nesting, e.g.
``COLLECTIONS_DATABASE__URL`` or ``COLLECTIONS_DPD__MATERIALITY_ABSOLUTE``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from collections_svc.monitoring.settings import ClassificationSettings, MonitoringSettings
from collections_svc.reports.documents_settings import ReportDocumentSettings
from collections_svc.sweep.settings import SchedulerSettings, StrategySettings, SweepSettings

PLACEHOLDER_SECRET = "change-me-in-production"  # noqa: S105 - the value production refuses


class DatabaseSettings(BaseModel):
    url: str = "sqlite:///./var/collections.db"
    echo: bool = False
    pool_size: int = 10
    statement_timeout_ms: int = 30_000
    # PostgreSQL lock_timeout for the API and dispatch workers (0 = wait for ever). The scheduler's
    # sweep does not use it: it is the one long writer the others should wait for.
    lock_timeout_ms: int = 0


class BankSettings(BaseModel):
    name: str = "示范商业银行"
    name_en: str = "Demo Commercial Bank"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    country: str = "CN"
    phone: str = "95500"
    address: str = "上海市浦东新区世纪大道100号"


class Bucket(BaseModel):
    code: str
    label: str
    min_dpd: int
    max_dpd: int | None = None  # None = open-ended (the last bucket)


DEFAULT_BUCKETS = [
    Bucket(code="M0", label="current", min_dpd=0, max_dpd=0),
    Bucket(code="M1", label="1-30", min_dpd=1, max_dpd=30),
    Bucket(code="M2", label="31-60", min_dpd=31, max_dpd=60),
    Bucket(code="M3", label="61-90", min_dpd=61, max_dpd=90),
    Bucket(code="M4", label="91-180", min_dpd=91, max_dpd=180),
    Bucket(code="M7", label="181+", min_dpd=181, max_dpd=None),
]


class DpdSettings(BaseModel):
    # Materiality: an installment counts as unpaid only if its unpaid amount exceeds BOTH thresholds
    # (absolute in currency units, relative as a fraction of its scheduled amount). Default 0 = any cent.
    materiality_absolute: Decimal = Decimal("0")
    materiality_relative: Decimal = Decimal("0")
    buckets: list[Bucket] = Field(default_factory=lambda: list(DEFAULT_BUCKETS))

    @field_validator("buckets")
    @classmethod
    def _contiguous(cls, buckets: list[Bucket]) -> list[Bucket]:
        # IND-02: contiguous, non-overlapping, starting at 0, last one open-ended.
        if not buckets or buckets[0].min_dpd != 0:
            raise ValueError("the first bucket must start at DPD 0")
        for prev, nxt in zip(buckets, buckets[1:], strict=False):
            if prev.max_dpd is None or nxt.min_dpd != prev.max_dpd + 1:
                raise ValueError(f"buckets {prev.code} and {nxt.code} are not contiguous")
        if buckets[-1].max_dpd is not None:
            raise ValueError("the last bucket must be open-ended (max_dpd null)")
        return buckets


class PaymentSettings(BaseModel):
    # Order in which a payment settles the components of the oldest unpaid installment.
    allocation_order: list[Literal["penalty", "interest", "principal"]] = ["penalty", "interest", "principal"]

    @field_validator("allocation_order")
    @classmethod
    def _complete(cls, v: list[str]) -> list[str]:
        if sorted(v) != ["interest", "penalty", "principal"]:
            raise ValueError("allocation_order must name penalty, interest and principal once each")
        return v


class SecuritySettings(BaseModel):
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    token_ttl_hours: int = 12
    session_ttl_hours: int = 10
    login_max_attempts: int = 5
    login_window_seconds: int = 300
    cookie_secure: bool = False
    # Long-lived bearer token for the Prometheus scraper: opens GET /metrics only (empty = off; then
    # the scraper signs in as an integration user). At least 32 characters in production.
    metrics_token: SecretStr = SecretStr("")


class TwilioSettings(BaseModel):
    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    from_number: str = ""
    messaging_service_sid: str = ""
    # Only tests and local setups set this: it points the real SDK at a fake server.
    api_base_url: str = ""


class ApprovalSettings(BaseModel):
    # Maker-checker authority by outstanding principal (currency units). A user's own
    # ``app_user.approval_limit`` wins over the role default; a role missing here may not approve.
    role_limits: dict[str, Decimal] = Field(
        default_factory=lambda: {"supervisor": Decimal("5000000"), "admin": Decimal("50000000")})
    # Above this outstanding principal a second, different approver is needed (None = never).
    second_approval_above: Decimal | None = Decimal("20000000")
    # Submitted proposals older than this are flagged in the inbox.
    pending_alert_hours: int = 48
    # Submitted proposals older than this expire (``approvals.service.expire_stale``).
    expire_after_days: int = 30


class NoticeSettings(BaseModel):
    """Notices (SMS, letters), the outbox dispatcher and the contact-compliance gates."""

    templates_dir: str = ""  # empty = notice_templates/ at the project root
    letters_dir: str = "./var/letters"
    console_outbox: str = "./var/outbox.log"  # the console channel writes one JSON line per message here
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    # Jurisdiction profile: drives the holiday calendar and whether SMS carry an opt-out hint.
    jurisdiction: str = "CN"
    holidays_enabled: bool = True
    holiday_subdivision: str | None = None
    extra_holidays: list[str] = Field(default_factory=list)  # ISO dates closed for automated contact
    quiet_weekends: bool = False
    opt_out_hint: bool | None = None  # None = as the jurisdiction asks (US-REGF-03: US yes)
    allowed_start: str = "08:00"  # CN-COL-03 / US-REGF-02, contact's local time
    allowed_end: str = "21:00"
    max_sms_per_contact: int = 3
    max_sms_per_case: int = 3
    cap_window_days: int = 7
    allowed_roles: list[str] = Field(default_factory=lambda: ["legal_representative", "finance", "guarantor"])
    require_consent: bool = True  # US-TCPA-01
    blocked_recheck_hours: int = 24  # opted out / no consent / no contact: look again after this long
    max_attempts: int = 6
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    http_timeout_seconds: float = 10.0
    lease_seconds: float = 120.0  # a 'sending' row older than this is reconciled (> 2 x http timeout)
    reconcile_skew_seconds: float = 120.0

    @model_validator(mode="after")
    def _lease_covers_timeout(self) -> NoticeSettings:
        if self.lease_seconds <= 2 * self.http_timeout_seconds:
            raise ValueError("notices.lease_seconds must exceed twice notices.http_timeout_seconds")
        return self

    @property
    def wants_opt_out_hint(self) -> bool:
        return self.jurisdiction.upper() == "US" if self.opt_out_hint is None else self.opt_out_hint


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COLLECTIONS_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    bank: BankSettings = Field(default_factory=BankSettings)
    dpd: DpdSettings = Field(default_factory=DpdSettings)
    payments: PaymentSettings = Field(default_factory=PaymentSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    classification: ClassificationSettings = Field(default_factory=ClassificationSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings)
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    sweep: SweepSettings = Field(default_factory=SweepSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    report_documents: ReportDocumentSettings = Field(default_factory=ReportDocumentSettings)
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    attachments_dir: str = "./var/attachments"
    import_max_bytes: int = 200 * 1024 * 1024
    # TEST ONLY (multi-process simulations): every process reads "now" from this file. Refused unless
    # env is "test", so a production or development deployment cannot turn it on.
    test_clock_file: str = ""

    @model_validator(mode="after")
    def _test_clock_only_in_tests(self) -> Settings:
        if self.test_clock_file and self.env != "test":
            raise ValueError("COLLECTIONS_TEST_CLOCK_FILE is for tests only; it is refused unless "
                             "COLLECTIONS_ENV=test")
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        if self.env == "production":
            if self.security.secret_key.get_secret_value() in ("", PLACEHOLDER_SECRET):
                raise ValueError(
                    "COLLECTIONS_SECURITY__SECRET_KEY is a placeholder; set a real secret in production"
                )
            if 0 < len(self.security.metrics_token.get_secret_value()) < 32:
                raise ValueError("COLLECTIONS_SECURITY__METRICS_TOKEN must be at least 32 characters")
            if len(self.security.secret_key.get_secret_value()) < 32:
                raise ValueError("COLLECTIONS_SECURITY__SECRET_KEY must be at least 32 characters")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database.url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
