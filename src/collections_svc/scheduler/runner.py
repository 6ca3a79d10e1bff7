"""The scheduler process: APScheduler 3.x ``BlockingScheduler`` behind a leader lock.

Loop: try the leader lock; as standby, retry every ``leader_poll_seconds``; as leader, run the
scheduler (sweep cron in the bank's timezone, notice dispatch, promise and review checks, plus a
lock check every poll interval). When the lock is lost the scheduler stops and the process goes back
to standby. APScheduler's job store is in memory and per process (it cannot be shared): the lock
keeps a single runner, and the sweep's run ledger makes an accidental second run harmless anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from collections_svc.common.clock import Clock, clock_for
from collections_svc.config import Settings
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.ops.instruments import SCHEDULER_LEADER
from collections_svc.scheduler import jobs
from collections_svc.scheduler.leader import LeaderLock, lock_for

log = logging.getLogger("collections_svc.scheduler")


class SchedulerService:
    def __init__(self, settings: Settings, *, session_factory: sessionmaker[Session] | None = None,
                 clock: Clock | None = None, lock: LeaderLock | None = None):
        self.settings = settings
        self.clock = clock or clock_for(settings)
        self.session_factory = session_factory or make_sessionmaker(make_engine(
            settings.database.url, pool_size=4, statement_timeout_ms=0))
        self.lock = lock or lock_for(settings)
        self._stop = threading.Event()
        self._scheduler: BlockingScheduler | None = None
        self.is_leader = False
        self._executor: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------ jobs

    def build_scheduler(self) -> BlockingScheduler:
        s, f = self.settings, self.session_factory
        self._executor = ThreadPoolExecutor(max_workers=6)
        sched = BlockingScheduler(timezone=s.bank.timezone, executors={"default": self._executor},
                                  job_defaults={"coalesce": True, "max_instances": 1})
        grace = s.scheduler.sweep_misfire_grace_hours * 3600
        sched.add_job(jobs.sweep_job, jobs.sweep_trigger(s), args=[f, s, self.clock], id="sweep",
                      name="close-of-business sweep", misfire_grace_time=grace, coalesce=True)
        sched.add_job(jobs.notice_dispatch_job, jobs.dispatch_trigger(s), args=[f, s],
                      id="notice_dispatch", name="notice dispatch", misfire_grace_time=60)
        sched.add_job(jobs.promise_check_job, jobs.promise_trigger(s), args=[f, s, self.clock],
                      id="promise_checks", name="promise checks", misfire_grace_time=600)
        sched.add_job(jobs.review_check_job, jobs.review_trigger(s), args=[f, s, self.clock],
                      id="review_checks", name="review due-date checks", misfire_grace_time=grace)
        if s.report_documents.monthly_enabled:
            sched.add_job(jobs.monthly_report_job, jobs.monthly_report_trigger(s), args=[f, s],
                          id="monthly_report", name="monthly portfolio report", misfire_grace_time=grace)
        sched.add_job(self._check_lock, "interval", seconds=s.scheduler.leader_poll_seconds,
                      id="leader_check", name="leader lock check", misfire_grace_time=None)
        if s.scheduler.catch_up_every_seconds:
            # Re-check for closed, unswept dates every so often (after an outage, a clock jump in tests).
            sched.add_job(jobs.sweep_job, "interval", seconds=s.scheduler.catch_up_every_seconds,
                          args=[f, s, self.clock], id="sweep_catch_up_poll", name="sweep catch-up check",
                          misfire_grace_time=None)
        if s.scheduler.catch_up_on_start:
            # Missed nights (downtime, failover) are swept in order as soon as this process leads.
            sched.add_job(jobs.sweep_job, "date", run_date=dt.datetime.now(dt.UTC), args=[f, s, self.clock],
                          id="sweep_catch_up", name="sweep catch-up", misfire_grace_time=None)
        return sched

    def _check_lock(self) -> None:
        if not self.lock.still_held():
            log.error("scheduler lock lost (%s); stopping all jobs", self.lock.description)
            self.is_leader = False
            sched = self._scheduler
            if sched is not None:
                sched.shutdown(wait=False)

    # ------------------------------------------------------------ leader loop

    def run_forever(self) -> None:
        poll = self.settings.scheduler.leader_poll_seconds
        SCHEDULER_LEADER.set(0)
        announced_standby = False
        while not self._stop.is_set():
            if not self.lock.try_acquire():
                if not announced_standby:
                    log.info("standby: another scheduler is active (%s); retrying every %.1f s",
                             self.lock.description, poll)
                    announced_standby = True
                self._stop.wait(poll)
                continue
            announced_standby = False
            self.is_leader = True
            SCHEDULER_LEADER.set(1)
            log.info("became the active scheduler (%s)", self.lock.description)
            self._scheduler = self.build_scheduler()
            try:
                if not self._stop.is_set():
                    self._scheduler.start()   # blocks until shutdown (stop() or lock lost)
            except JobLookupError as exc:
                # APScheduler's loop may still try to remove a finished one-off job that a shutdown from
                # another thread (SIGTERM, lock lost) already dropped; that is the stop we asked for.
                log.info("scheduler loop ended during shutdown: %s", exc)
            finally:
                self._wait_for_running_jobs()
                self.is_leader = False
                SCHEDULER_LEADER.set(0)
                self._scheduler = None
                self.lock.release()
                log.info("no longer the active scheduler")

    def _wait_for_running_jobs(self) -> None:
        # Graceful stop: a job under way (a sweep, a dispatch batch) runs to its end before the lock is
        # released, so the standby never starts while this process is still writing.
        ex = self._executor
        pool = getattr(ex, "_pool", None)
        if pool is not None:
            log.info("waiting for running jobs to finish before releasing the lock")
            pool.shutdown(wait=True)
        self._executor = None

    def stop(self) -> None:
        self._stop.set()
        sched = self._scheduler
        if sched is not None and sched.running:
            sched.shutdown(wait=False)


def start_in_background(settings: Settings, **kw: Any) -> SchedulerService:
    """Run the scheduler loop in a daemon thread (for ``collections-svc demo``); returns the service."""
    service = SchedulerService(settings, **kw)
    threading.Thread(target=service.run_forever, name="collections-scheduler", daemon=True).start()
    return service


def main(settings: Settings) -> None:
    from collections_svc.logging_setup import configure_logging
    configure_logging(settings.log_level)
    # APScheduler logs every run of every job at INFO (the lock check runs every few seconds).
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    service = SchedulerService(settings)

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s received; stopping the scheduler", signum)
        service.stop()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    service.run_forever()
