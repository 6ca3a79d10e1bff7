"""A dispatch worker loop: ``collections-svc dispatch`` (or ``python -m collections_svc.notices.worker``).

Settings come from the environment (COLLECTIONS_...). Any number of workers may run at once: claims
are atomic. The scheduler's dispatch job calls ``dispatch_batch`` directly instead.

Graceful stop (SIGTERM, SIGINT): provider calls already under way finish and their outcome is
recorded; notices claimed but not yet sent are released back to the queue (``released`` event); no
row is left in 'sending'. Only SIGKILL leaves a claim behind, and reconciliation settles it after
the lease.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from collections_svc.common.clock import Clock, SystemClock
from collections_svc.config import Settings, get_settings
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.notices.channels.twilio_sms import make_sms_sender
from collections_svc.notices.dispatcher import DispatchCounts, dispatch_batch
from collections_svc.notices.models import Notice

log = logging.getLogger("collections_svc.notices.worker")


def dispatcher_sessionmaker(settings: Settings) -> sessionmaker[Session]:
    """Sessions for dispatchers. On SQLite every transaction is BEGIN IMMEDIATE: several processes then
    queue for the write lock (busy timeout) instead of failing when a read transaction upgrades."""
    engine = make_engine(
        settings.database.url,
        pool_size=settings.database.pool_size,
        statement_timeout_ms=settings.database.statement_timeout_ms,
        lock_timeout_ms=settings.database.lock_timeout_ms,
    )
    if settings.is_sqlite:

        @event.listens_for(engine, "connect")
        def _immediate(_dbapi_conn: Any, rec: Any) -> None:
            rec.info["immediate"] = True

    return make_sessionmaker(engine)


def pending(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(Notice)
                .where(Notice.status.in_(("queued", "deferred", "sending")))
            )
            or 0
        )


def run(
    settings: Settings,
    *,
    limit: int = 50,
    interval: float = 1.0,
    once: bool = False,
    idle_exit: bool = False,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    **kw: Any,
) -> DispatchCounts:
    factory = dispatcher_sessionmaker(settings)
    sender = make_sms_sender(settings)
    clock = clock or SystemClock()
    stop = stop or threading.Event()
    total = DispatchCounts()
    try:
        while not stop.is_set():
            counts = dispatch_batch(factory, sender, clock, settings, limit=limit, should_stop=stop.is_set, **kw)
            total.add(counts)
            busy = counts.claimed or counts.reconciled_sent or counts.reconciled_requeued
            if once or (idle_exit and not busy and pending(factory) == 0):
                return total
            if not busy:
                stop.wait(interval)
        return total
    finally:
        factory.kw["bind"].dispose()   # --once runs (the scheduler's job) must not leak a pool per batch


def serve_forever(settings: Settings, *, limit: int = 50, interval: float = 1.0, once: bool = False,
                  idle_exit: bool = False, concurrency: int = 8) -> DispatchCounts:
    """A worker process: JSON logs, SIGTERM/SIGINT stop it gracefully (see the module docstring)."""
    from collections_svc.logging_setup import configure_logging
    configure_logging(settings.log_level)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s received; finishing the notices being sent, releasing the rest", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    log.info("dispatch worker started (batch %s, every %.1f s)", limit, interval)
    total = run(settings, limit=limit, interval=interval, once=once, idle_exit=idle_exit, stop=stop,
                concurrency=concurrency)
    log.info("dispatch worker stopped: %s", total)
    return total


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Send due notices from the outbox.")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--once", action="store_true")
    p.add_argument("--idle-exit", action="store_true", help="stop when nothing is left to send")
    a = p.parse_args(argv)
    serve_forever(get_settings(), limit=a.limit, interval=a.interval, once=a.once, idle_exit=a.idle_exit)


if __name__ == "__main__":
    main()
