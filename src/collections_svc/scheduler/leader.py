"""Leader election: exactly one active scheduler process.

PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a dedicated connection opened with
psycopg directly (never from the SQLAlchemy pool, never through a transaction pooler). The lock
lives exactly as long as that connection: if the process dies, PostgreSQL drops the connection and
the lock, and a standby's next try takes it. The leader re-checks periodically that it still holds
it (pg_locks) and stops its jobs when it does not.

SQLite: an exclusive ``fcntl.flock`` on a lock file next to the database; the kernel releases it
when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

log = logging.getLogger("collections_svc.scheduler.leader")


class LeaderLock(Protocol):
    description: str

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


def libpq_dsn(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


class PgAdvisoryLock:
    def __init__(self, url: str, key: int):
        self.dsn = libpq_dsn(url)
        self.key = int(key)
        self.conn = None
        self.held = False
        self.description = f"PostgreSQL advisory lock {self.key}"

    def _connect(self):
        import psycopg
        if self.conn is None or self.conn.closed:
            # keepalives: a leader whose network vanished is noticed by the server within seconds.
            self.conn = psycopg.connect(self.dsn, autocommit=True,
                                        application_name="collections-svc scheduler", keepalives=1,
                                        keepalives_idle=5, keepalives_interval=2, keepalives_count=3,
                                        connect_timeout=5)
        return self.conn

    def try_acquire(self) -> bool:
        try:
            conn = self._connect()
            self.held = bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0])
        except Exception as exc:  # database unreachable: stay standby and retry
            log.warning("cannot reach PostgreSQL for the scheduler lock: %s", exc)
            self._drop()
            self.held = False
        return self.held

    def still_held(self) -> bool:
        if not self.held or self.conn is None:
            return False
        try:
            row = self.conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objsubid = 1 "
                "AND ((classid::bigint << 32) | objid::bigint) = %s)", (self.key,)).fetchone()
            self.held = bool(row[0])
        except Exception as exc:
            log.error("lost the scheduler lock connection: %s", exc)
            self._drop()
            self.held = False
        return self.held

    def release(self) -> None:
        if self.conn is not None and not self.conn.closed and self.held:
            try:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            except Exception as exc:  # the lock dies with the connection anyway
                log.debug("advisory unlock failed: %s", exc)
        self.held = False
        self._drop()

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception as exc:
                log.debug("closing the lock connection failed: %s", exc)
        self.conn = None


class FileLock:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.fd: int | None = None
        self.description = f"lock file {self.path}"

    def try_acquire(self) -> bool:
        if self.fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None


def lock_for(settings) -> LeaderLock:
    url = settings.database.url
    if url.startswith("sqlite"):
        path = settings.scheduler.lock_file
        if not path:
            db_path = url.split("///", 1)[-1]
            if not db_path or db_path == ":memory:":
                db_path = "./var/collections.db"
            path = db_path + ".scheduler.lock"
        return FileLock(path)
    return PgAdvisoryLock(url, settings.scheduler.advisory_lock_key)
