"""A seeded demo database and a real uvicorn server for the browser tests and the screenshot command.

SQLite only: the browser tests and screenshots exercise the UI, not the storage engine (the API's own
tests run on SQLite and PostgreSQL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

from collections_svc.common.clock import SystemClock, business_date
from collections_svc.config import Settings
from collections_svc.db import make_engine, make_sessionmaker, session_scope
from collections_svc.demo import seed_portfolio, seed_users, simulate_day
from collections_svc.loans.dpd import run_dpd
from collections_svc.migrate import upgrade

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - throwaway local demo database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seeded_sqlite(path: Path, *, borrowers: int = 30, password: str = DEMO_PASSWORD,
                  open_cases: bool = True, history_days: int = 0) -> str:
    """Migrate a fresh SQLite file, seed users and a portfolio as of today, run DPD (and the sweep, when
    installed, to open cases); return its URL.

    ``history_days`` > 0 first sweeps each of that many past days in order, so the daily snapshots
    behind the trend and roll-rate reports have a history (for screenshots; a demo approximation:
    the seeded payments are not replayed day by day)."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    settings = Settings(env="test", database={"url": url})
    today = business_date(SystemClock().now(), settings.bank.timezone)
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        with session_scope(factory) as s:
            seed_users(s, password)
            seed_portfolio(s, settings, today, borrowers=borrowers)
            run_dpd(s, today, settings.dpd)
        if open_cases:
            rng = random.Random(11)
            for back in range(history_days, 0, -1):
                day = today - dt.timedelta(days=back)
                simulate_day(factory, settings, day, rng)  # collectors' calls, promises, payments, notices
                _open_cases(factory, settings, day)
            _open_cases(factory, settings, today)
    finally:
        engine.dispose()
    return url


def _open_cases(factory, settings: Settings, today: dt.date) -> None:
    """Open collection cases with the close-of-business sweep, when that package is installed."""
    try:
        from collections_svc.sweep.service import run_sweep
    except ImportError:
        return
    try:
        with session_scope(factory) as s:
            run_sweep(s, today, settings)
    except Exception as exc:  # the UI demo still works without cases; say why there are none
        warnings.warn(f"demo sweep failed, the demo book has no cases: {exc!r}", stacklevel=2)


@contextlib.contextmanager
def running_server(db_url: str, *, port: int | None = None, timeout: float = 30.0) -> Iterator[str]:
    """Run ``uvicorn collections_svc.main:create_app`` in a subprocess; yield its base URL."""
    port = port or free_port()
    env = {**os.environ, "COLLECTIONS_DATABASE__URL": db_url, "COLLECTIONS_ENV": "test",
           "COLLECTIONS_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "uvicorn", "collections_svc.main:create_app", "--factory",
           "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env)  # noqa: S603 - our own interpreter and module
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as r:  # noqa: S310 - local URL
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start (exit code {proc.poll()})")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
