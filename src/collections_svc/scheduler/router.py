"""Read-only scheduler status for administrators: who holds the leader lock, the jobs and their next
run times, the last sweep and the dates a catch-up would run.

The web process does not run the scheduler (it is its own process), so the leader is found from
the outside: on PostgreSQL from ``pg_locks`` (the advisory lock and the session holding it), on
SQLite by testing the lock file with a shared, non-blocking ``flock`` that is released at once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from collections_svc.auth.deps import DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.config import Settings
from collections_svc.scheduler import jobs
from collections_svc.scheduler.leader import FileLock, lock_for
from collections_svc.sweep import service as sweep_service
from collections_svc.sweep.schemas import SweepRunOut

router = APIRouter(prefix="/api/v1/scheduler", tags=["scheduler"])
Admin = Annotated[User, Depends(allow(Role.admin))]


class LeaderOut(BaseModel):
    lock: str                       # what the lock is (advisory lock key or lock file)
    held: bool                      # a scheduler process holds it now
    holder: str | None = None       # pid / application / client address when known
    since: dt.datetime | None = None


class JobOut(BaseModel):
    id: str
    name: str
    schedule: str                   # human-readable trigger
    next_run_at: dt.datetime | None  # None for interval jobs: they count from the leader's start


class SchedulerStatus(BaseModel):
    now: dt.datetime
    timezone: str
    leader: LeaderOut
    jobs: list[JobOut]
    last_sweep: SweepRunOut | None
    pending_dates: list[dt.date]


def _pg_leader(session: Session, key: int, description: str) -> LeaderOut:
    row = session.execute(text(
        "SELECT a.pid, a.application_name, host(a.client_addr), a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = :key LIMIT 1"),
        {"key": key}).first()
    if row is None:
        return LeaderOut(lock=description, held=False)
    pid, app_name, addr, started = row
    holder = f"pid {pid}" + (f" · {app_name}" if app_name else "") + (f" · {addr}" if addr else "")
    return LeaderOut(lock=description, held=True, holder=holder, since=started)


def _file_leader(lock: FileLock) -> LeaderOut:
    if not lock.path.exists():
        return LeaderOut(lock=lock.description, held=False)
    fd = os.open(lock.path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            # The leader writes its pid into the file when it takes the lock.
            pid = os.read(fd, 32).decode(errors="replace").strip()
            since = dt.datetime.fromtimestamp(os.fstat(fd).st_mtime, dt.UTC)
            return LeaderOut(lock=lock.description, held=True, holder=f"pid {pid}" if pid else None, since=since)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return LeaderOut(lock=lock.description, held=False)
    finally:
        os.close(fd)


def leader_status(session: Session, settings: Settings) -> LeaderOut:
    lock = lock_for(settings)
    if isinstance(lock, FileLock):
        return _file_leader(lock)
    return _pg_leader(session, settings.scheduler.advisory_lock_key, lock.description)


def job_list(settings: Settings, now: dt.datetime) -> list[JobOut]:
    sc = settings.scheduler

    def at(trigger) -> dt.datetime | None:
        fire = trigger.get_next_fire_time(None, now)
        return None if fire is None else fire.astimezone(dt.UTC)

    return [
        JobOut(id="sweep", name="close-of-business sweep",
               schedule=f"daily {sc.sweep_hour:02d}:{sc.sweep_minute:02d} {settings.bank.timezone}",
               next_run_at=at(jobs.sweep_trigger(settings))),
        JobOut(id="review_checks", name="review due-date checks",
               schedule=f"daily {sc.review_check_hour:02d}:30 {settings.bank.timezone}",
               next_run_at=at(jobs.review_trigger(settings))),
        JobOut(id="notice_dispatch", name="notice dispatch",
               schedule=f"every {sc.notice_dispatch_seconds} s", next_run_at=None),
        JobOut(id="promise_checks", name="promise checks",
               schedule=f"every {sc.promise_check_minutes} min", next_run_at=None),
    ]


@router.get("/status", response_model=SchedulerStatus,
            summary="Scheduler leader, jobs with next run times, last sweep and pending catch-up dates")
def scheduler_status(request: Request, session: DbSession, _: Admin):
    st = request.app.state
    now = st.clock.now()
    rows, _total = sweep_service.history(session, 1, 0)
    return SchedulerStatus(
        now=now.astimezone(dt.UTC), timezone=st.settings.bank.timezone,
        leader=leader_status(session, st.settings), jobs=job_list(st.settings, now),
        last_sweep=SweepRunOut.model_validate(rows[0]) if rows else None,
        pending_dates=sweep_service.pending_dates(session, jobs.closed_business_date(now, st.settings),
                                                  st.settings))
