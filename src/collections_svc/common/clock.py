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


class FileClock:
    """TEST ONLY: the time written (ISO 8601, with zone) in a file, re-read when the file changes.

    Lets a multi-process simulation move every process's clock by rewriting one file. Settings refuse
    ``test_clock_file`` unless ``env`` is ``test`` (production and development cannot enable it).
    """

    def __init__(self, path: str):
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._at = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        import os
        st = os.stat(self.path)
        if (st.st_mtime_ns, st.st_size) != self._stamp:
            with open(self.path, encoding="utf-8") as f:
                text = f.read().strip()
            if text:
                self._at = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
                self._stamp = (st.st_mtime_ns, st.st_size)
        return self._at


def clock_for(settings) -> Clock:
    """The process clock: the system clock, or (env=test only) the test clock file."""
    path = getattr(settings, "test_clock_file", "")
    if path:
        if settings.env != "test":  # belt and braces: Settings already refuses this
            raise RuntimeError("test_clock_file is only allowed with COLLECTIONS_ENV=test")
        return FileClock(path)
    return SystemClock()
