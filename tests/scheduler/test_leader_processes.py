"""Two real `collections-svc scheduler` processes against one PostgreSQL database: exactly one is
active; kill -9 the active one and the standby takes over within seconds; one sweep per date."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from collections_svc.migrate import upgrade
from tests.conftest import BACKENDS, create_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only,
              pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")]

POLL = 0.3


@pytest.fixture
def pg_db(tmp_path_factory):
    url, drop = create_database("postgresql", tmp_path_factory)
    upgrade(url)
    yield url
    drop()


def _start(url: str, key: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "COLLECTIONS_DATABASE__URL": url,
           "COLLECTIONS_SCHEDULER__LEADER_POLL_SECONDS": str(POLL),
           "COLLECTIONS_SCHEDULER__ADVISORY_LOCK_KEY": str(key), "COLLECTIONS_ENV": "test"}
    exe = Path(sys.executable).with_name("collections-svc")
    return subprocess.Popen([str(exe), "scheduler"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            cwd=log.parent)


def _wait_for(log: Path, text: str, timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if log.exists() and text in log.read_text():
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _lock_holders(url: str, key: int) -> list[int]:
    with psycopg.connect(_dsn(url), autocommit=True) as c:
        return [r[0] for r in c.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            "AND ((classid::bigint << 32) | objid::bigint) = %s", (key,)).fetchall()]


def test_one_active_scheduler_and_fast_failover(pg_db, tmp_path):
    key = random.randint(1, 2**40)
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    a = _start(pg_db, key, log_a)
    procs = [a]
    try:
        assert _wait_for(log_a, "became the active scheduler", 30) is not None, log_a.read_text()
        b = _start(pg_db, key, log_b)
        procs.append(b)
        assert _wait_for(log_b, "standby", 30) is not None, log_b.read_text()
        time.sleep(3 * POLL)
        assert len(_lock_holders(pg_db, key)) == 1
        assert "became the active scheduler" not in log_b.read_text()
        # the leader's start-up catch-up swept the date that closed last; exactly once
        assert _wait_for(log_a, "Sweep ", 30) is not None, log_a.read_text()

        a.send_signal(signal.SIGKILL)
        a.wait(10)
        took = _wait_for(log_b, "became the active scheduler", 15)
        assert took is not None, log_b.read_text()
        print(f"standby took over {took:.2f} s after kill -9")
        assert took < 10     # within seconds (poll interval plus the server noticing the dead client)
        time.sleep(3 * POLL)
        assert len(_lock_holders(pg_db, key)) == 1
        assert _wait_for(log_b, "nothing pending", 15) is not None, log_b.read_text()
        with psycopg.connect(_dsn(pg_db), autocommit=True) as c:
            rows = c.execute("SELECT business_date, partition, COUNT(*) FROM sweep_run "
                             "GROUP BY business_date, partition").fetchall()
        assert len(rows) == 1 and rows[0][2] == 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


def test_graceful_stop_hands_over(pg_db, tmp_path):
    key = random.randint(1, 2**40)
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    a, b = _start(pg_db, key, log_a), None
    try:
        assert _wait_for(log_a, "became the active scheduler", 30) is not None
        b = _start(pg_db, key, log_b)
        assert _wait_for(log_b, "standby", 30) is not None
        a.send_signal(signal.SIGTERM)
        assert a.wait(10) == 0
        assert _wait_for(log_b, "became the active scheduler", 10) is not None
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
