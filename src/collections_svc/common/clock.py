"""Time is explicit (DESIGN.md rule 8): a clock seam, and the business date in the bank's timezone."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock tests can set and move."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at = self.at + dt.timedelta(**kw)


def business_date(now: dt.datetime, bank_timezone: str) -> dt.date:
    return now.astimezone(ZoneInfo(bank_timezone)).date()


def request_business_date(request) -> dt.date:
    """Today's business date for an API request (the app's clock in the bank's timezone)."""
    st = request.app.state
    return business_date(st.clock.now(), st.settings.bank.timezone)
