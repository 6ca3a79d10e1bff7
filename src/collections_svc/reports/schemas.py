"""Query parameters of the reports API and their validation (problem+json with field errors)."""

from __future__ import annotations

import datetime as dt
import enum
import re

from collections_svc.errors import ValidationFailed


class Format(enum.StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class By(enum.StrEnum):
    product = "product"
    region = "region"
    industry = "industry"
    team = "team"


class Interval(enum.StrEnum):
    month = "month"
    day = "day"


MAX_DAY_POINTS = 93        # a daily trend reads one snapshot per day: about a quarter at most
MAX_MONTHS = 36
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def parse_month(value: str, field: str) -> dt.date:
    """'YYYY-MM' or any date 'YYYY-MM-DD' of the month -> the first day of that month.

    Roll rates compare month-ends: a date that is not a month-end is snapped to the end of its month
    (documented in reports/README.md), rather than rejected.
    """
    try:
        if _MONTH.match(value):
            return dt.date.fromisoformat(value + "-01")
        return dt.date.fromisoformat(value).replace(day=1)
    except ValueError:
        raise ValidationFailed(f"{field} must be a month (YYYY-MM) or a date (YYYY-MM-DD).",
                               errors=[{"field": field, "message": "not a month or date"}]) from None


def check_period(start: dt.date, end: dt.date, *, start_field: str = "from", end_field: str = "to") -> None:
    if start > end:
        raise ValidationFailed(f"'{start_field}' ({start}) must be on or before '{end_field}' ({end}).",
                               errors=[{"field": start_field, "message": f"must be on or before {end_field}"}])
