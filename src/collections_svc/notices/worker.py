"""A dispatch worker loop: ``python -m collections_svc.notices.worker [--once] [--limit N]``.

Settings come from the environment (COLLECTIONS_...). Any number of workers may run at once: claims
are atomic. The scheduler's dispatch job calls ``dispatch_batch`` directly instead.
"""

from __future__ import annotations

import argparse
import logging
import time
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
    **kw: Any,
) -> DispatchCounts:
    factory = dispatcher_sessionmaker(settings)
    sender = make_sms_sender(settings)
    clock = clock or SystemClock()
    total = DispatchCounts()
    while True:
        counts = dispatch_batch(factory, sender, clock, settings, limit=limit, **kw)
        total.add(counts)
        busy = counts.claimed or counts.reconciled_sent or counts.reconciled_requeued
        if once or (idle_exit and not busy and pending(factory) == 0):
            return total
        if not busy:
            time.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Send due notices from the outbox.")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--once", action="store_true")
    p.add_argument("--idle-exit", action="store_true", help="stop when nothing is left to send")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    print(run(get_settings(), limit=a.limit, interval=a.interval, once=a.once, idle_exit=a.idle_exit))


if __name__ == "__main__":
    main()
