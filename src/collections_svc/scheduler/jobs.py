"""The scheduler's jobs and triggers. Job functions take everything explicitly, so tests call them
directly with a fixed clock instead of running a scheduler (ECOSYSTEM.md: never a real scheduler
under a frozen clock)."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from collections_svc.common.clock import Clock, SystemClock, business_date
from collections_svc.config import Settings
from collections_svc.db import session_scope
from collections_svc.sweep import hooks
from collections_svc.sweep.service import SweepReport, run_pending

log = logging.getLogger("collections_svc.scheduler")


def sweep_trigger(settings: Settings) -> CronTrigger:
    """Daily at sweep_hour:sweep_minute in the bank's timezone."""
    return CronTrigger(hour=settings.scheduler.sweep_hour, minute=settings.scheduler.sweep_minute,
                       timezone=ZoneInfo(settings.bank.timezone))


def review_trigger(settings: Settings) -> CronTrigger:
    return CronTrigger(hour=settings.scheduler.review_check_hour, minute=30,
                       timezone=ZoneInfo(settings.bank.timezone))


def dispatch_trigger(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(seconds=settings.scheduler.notice_dispatch_seconds)


def promise_trigger(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(minutes=settings.scheduler.promise_check_minutes)


def next_sweep_at(settings: Settings, now: dt.datetime) -> dt.datetime | None:
    fire = sweep_trigger(settings).get_next_fire_time(None, now)
    return None if fire is None else fire.astimezone(dt.UTC)


def closed_business_date(now: dt.datetime, settings: Settings) -> dt.date:
    """The business date whose close the nightly run processes: the day before, in the bank's zone."""
    return business_date(now, settings.bank.timezone) - dt.timedelta(days=1)


def sweep_job(session_factory: sessionmaker[Session], settings: Settings, clock: Clock | None = None
              ) -> list[SweepReport]:
    """Run every pending business date up to the one that just closed (catch-up included)."""
    through = closed_business_date((clock or SystemClock()).now(), settings)
    reports = run_pending(session_factory, through, settings)
    if not reports:
        log.info("sweep: nothing pending through %s", through)
    return reports


def notice_dispatch_job(session_factory: sessionmaker[Session], settings: Settings) -> object:
    return hooks.dispatch_notices(session_factory, settings)


def promise_check_job(session_factory: sessionmaker[Session], settings: Settings, clock: Clock | None = None
                      ) -> int:
    today = business_date((clock or SystemClock()).now(), settings.bank.timezone)
    with session_scope(session_factory) as s:
        return hooks.evaluate_promises(s, today)


def monthly_report_trigger(settings: Settings) -> CronTrigger:
    rd = settings.report_documents
    return CronTrigger(hour=rd.monthly_hour, minute=rd.monthly_minute, timezone=ZoneInfo(settings.bank.timezone))


def monthly_report_job(session_factory: sessionmaker[Session], settings: Settings) -> object:
    """Last month's portfolio report, once the first business day of this month has been swept
    (stored under ``settings.report_documents.output_dir``; a repeat run writes nothing)."""
    from sqlalchemy import func, select

    from collections_svc.reports.documents import month_due, store_monthly_report
    from collections_svc.sweep.models import SweepRun, SweepStatus

    with session_scope(session_factory) as s:
        first, last = s.execute(select(func.min(SweepRun.business_date), func.max(SweepRun.business_date))
                                .where(SweepRun.status.in_(SweepStatus.DONE))).one()
        month = month_due(first, last)
        if month is None:
            return None
        stored = store_monthly_report(s, settings, month)
    log.info("monthly report %s: %d file(s) written", month, len(stored.written))
    return stored


def review_check_job(session_factory: sessionmaker[Session], settings: Settings, clock: Clock | None = None
                     ) -> object:
    today = business_date((clock or SystemClock()).now(), settings.bank.timezone)
    return hooks.review_checks(session_factory, settings, today)
