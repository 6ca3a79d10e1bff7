"""Graceful stop of the scheduler: a job under way finishes before the leader lock is released, so a
standby never starts while the old leader is still writing (issue 10)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from collections_svc.config import Settings
from collections_svc.scheduler.runner import SchedulerService


class RecordingLock:
    description = "test lock"

    def __init__(self, events: list[str]):
        self.events = events

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        self.events.append("lock released")


# A scheduler thread that dies with an exception while stopping must fail the test, not just warn.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_stop_lets_the_running_job_finish_then_releases_the_lock(tmp_path):
    events: list[str] = []
    started = threading.Event()

    class SlowJobScheduler(SchedulerService):
        def build_scheduler(self) -> BlockingScheduler:
            self._executor = ThreadPoolExecutor(max_workers=2)
            sched = BlockingScheduler(executors={"default": self._executor})

            def slow_sweep() -> None:
                events.append("job started")
                started.set()
                time.sleep(1.0)
                events.append("job finished")
            sched.add_job(slow_sweep, "date", run_date=dt.datetime.now(dt.UTC))
            return sched

    settings = Settings(env="test", database={"url": f"sqlite:///{tmp_path}/s.db"})
    svc = SlowJobScheduler(settings, session_factory=object(), lock=RecordingLock(events))
    runner = threading.Thread(target=svc.run_forever)
    runner.start()
    assert started.wait(10)
    svc.stop()  # what the SIGTERM handler calls
    runner.join(10)
    assert not runner.is_alive()
    assert events == ["job started", "job finished", "lock released"]
    assert svc.is_leader is False
