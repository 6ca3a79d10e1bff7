"""Schedules checked as trigger arithmetic at fixed instants (never a running scheduler under a frozen
clock), job functions called directly with a fixed clock, and the in-process leader loop on a lock file."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from collections_svc.common.clock import FixedClock
from collections_svc.config import Settings
from collections_svc.scheduler import jobs
from collections_svc.scheduler.leader import FileLock, lock_for
from collections_svc.scheduler.runner import SchedulerService, start_in_background
from collections_svc.sweep.models import SweepRun

SH = ZoneInfo("Asia/Shanghai")


def test_sweep_fires_at_one_in_the_morning_bank_time():
    trig = jobs.sweep_trigger(Settings())
    at = trig.get_next_fire_time(None, dt.datetime(2026, 4, 1, 10, 0, tzinfo=SH))
    assert at == dt.datetime(2026, 4, 2, 1, 0, tzinfo=SH)
    # just before 01:00 it is the same night
    at = trig.get_next_fire_time(None, dt.datetime(2026, 4, 2, 0, 59, tzinfo=SH))
    assert at == dt.datetime(2026, 4, 2, 1, 0, tzinfo=SH)
    # from a UTC instant: 2026-04-01 17:30 UTC is 01:30 in Shanghai -> next night
    at = trig.get_next_fire_time(None, dt.datetime(2026, 4, 1, 17, 30, tzinfo=dt.UTC))
    assert at.astimezone(dt.UTC) == dt.datetime(2026, 4, 2, 17, 0, tzinfo=dt.UTC)


def test_sweep_time_and_zone_come_from_settings():
    s = Settings(bank={"timezone": "America/New_York"}, scheduler={"sweep_hour": 2, "sweep_minute": 30})
    trig = jobs.sweep_trigger(s)
    ny = ZoneInfo("America/New_York")
    # spring-forward day: 02:30 does not exist in New York; it still fires once that morning (07:30 UTC)
    at = trig.get_next_fire_time(None, dt.datetime(2026, 3, 7, 12, 0, tzinfo=ny))
    assert at.astimezone(dt.UTC) == dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC)
    at = trig.get_next_fire_time(None, dt.datetime(2026, 6, 1, 12, 0, tzinfo=ny))
    assert (at.hour, at.minute, at.date()) == (2, 30, dt.date(2026, 6, 2))


def test_interval_jobs_follow_settings():
    s = Settings(scheduler={"notice_dispatch_seconds": 30, "promise_check_minutes": 15})
    t0 = dt.datetime(2026, 4, 1, 10, 0, tzinfo=SH)
    d = jobs.dispatch_trigger(s)
    first = d.get_next_fire_time(None, t0)
    assert d.get_next_fire_time(first, first) - first == dt.timedelta(seconds=30)
    p = jobs.promise_trigger(s)
    first = p.get_next_fire_time(None, t0)
    assert p.get_next_fire_time(first, first) - first == dt.timedelta(minutes=15)


def test_sweep_job_has_hours_of_misfire_grace_and_coalesces(tmp_path):
    svc = SchedulerService(Settings(), lock=FileLock(tmp_path / "unused.lock"))
    sched = svc.build_scheduler()
    job = sched.get_job("sweep")
    assert job.misfire_grace_time == 12 * 3600 and job.coalesce is True
    assert {j.id for j in sched.get_jobs()} >= {"sweep", "notice_dispatch", "promise_checks", "review_checks",
                                                "leader_check", "sweep_catch_up"}


def test_closed_business_date_is_the_day_before_in_bank_time():
    s = Settings()
    # 2026-04-01 17:05 UTC = 2026-04-02 01:05 Shanghai: the night of 04-01 closes
    assert jobs.closed_business_date(dt.datetime(2026, 4, 1, 17, 5, tzinfo=dt.UTC), s) == dt.date(2026, 4, 1)


def test_sweep_job_with_fixed_clock_runs_the_closed_date_once(session, session_factory, settings):
    clock = FixedClock(dt.datetime(2026, 4, 1, 17, 5, tzinfo=dt.UTC))
    reports = jobs.sweep_job(session_factory, settings, clock)
    assert [(r.business_date, r.status) for r in reports] == [(dt.date(2026, 4, 1), "succeeded")]
    assert jobs.sweep_job(session_factory, settings, clock) == []        # a second start is harmless
    clock.advance(days=3)
    reports = jobs.sweep_job(session_factory, settings, clock)            # catch-up after downtime
    assert [r.business_date.isoformat() for r in reports] == ["2026-04-02", "2026-04-03", "2026-04-04"]
    assert len(session.scalars(select(SweepRun)).all()) == 4


def test_sqlite_lock_file_admits_one_holder(tmp_path):
    a, b = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    assert a.try_acquire() and not b.try_acquire()
    a.release()
    assert b.try_acquire()
    b.release()
    s = Settings(database={"url": f"sqlite:///{tmp_path}/db.sqlite"})
    assert str(lock_for(s).path) == f"{tmp_path}/db.sqlite.scheduler.lock"


def _wait(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_in_process_standby_takes_over_when_leader_stops(tmp_path):
    s = Settings(database={"url": f"sqlite:///{tmp_path}/db.sqlite"},
                 scheduler={"leader_poll_seconds": 0.1, "catch_up_on_start": False})
    one = start_in_background(s)
    assert _wait(lambda: one.is_leader)
    two = start_in_background(s)
    time.sleep(0.5)
    assert one.is_leader and not two.is_leader
    one.stop()
    assert _wait(lambda: two.is_leader, timeout=5)
    two.stop()
    assert _wait(lambda: not two.is_leader, timeout=5)
