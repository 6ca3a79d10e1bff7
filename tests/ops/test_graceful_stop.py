"""Graceful stop on SIGTERM with real processes (issue 10):

* `collections-svc dispatch`: the provider calls under way finish and are recorded, the notices it
  claimed but had not sent go back to the queue, nothing stays 'sending'; the fake Twilio's log shows
  every message it accepted recorded against exactly one notice, and a second worker then sends the
  rest exactly once.
* `collections-svc serve`: a request in flight when SIGTERM arrives still gets its answer; new
  connections are refused; the process exits 0.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import select

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.config import Settings
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.migrate import upgrade
from collections_svc.notices import service
from collections_svc.notices.models import Notice, NoticeAttempt, NoticeStatusEvent
from tests.conftest import BACKENDS, PASSWORD, create_database
from tests.fakes.twilio_fake import FakeTwilio
from tests.notices.conftest import AUTH_TOKEN, PUBLIC, make_case

EXE = str(Path(sys.executable).with_name("collections-svc"))
N = 16


def dispatch_env(url: str, base: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "COLLECTIONS_ENV": "test",
        "COLLECTIONS_DATABASE__URL": url,
        "COLLECTIONS_PUBLIC_BASE_URL": PUBLIC,
        "COLLECTIONS_TWILIO__ACCOUNT_SID": "ACgraceful",
        "COLLECTIONS_TWILIO__AUTH_TOKEN": AUTH_TOKEN,
        "COLLECTIONS_TWILIO__FROM_NUMBER": "+15005550006",
        "COLLECTIONS_TWILIO__API_BASE_URL": base,
        "COLLECTIONS_NOTICES__ALLOWED_START": "00:00",
        "COLLECTIONS_NOTICES__ALLOWED_END": "23:59",
        "COLLECTIONS_NOTICES__HOLIDAYS_ENABLED": "false",
        "COLLECTIONS_NOTICES__MAX_SMS_PER_CONTACT": "100",
        "COLLECTIONS_NOTICES__MAX_SMS_PER_CASE": "100",
        "COLLECTIONS_NOTICES__LETTERS_DIR": str(tmp / "letters"),
        "COLLECTIONS_NOTICES__CONSOLE_OUTBOX": str(tmp / "outbox.log"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sigterm_dispatch_finishes_sends_under_way_and_releases_the_rest(backend, tmp_path_factory, tmp_path):
    url, drop = create_database(backend, tmp_path_factory)
    fake = FakeTwilio(seed=3)
    fake.delay_seconds = 0.4  # slow enough that SIGTERM lands while calls are under way
    base = fake.start()
    proc = None
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        env = dispatch_env(url, base, tmp_path)
        settings = Settings(env="test", database={"url": url}, public_base_url=PUBLIC)
        now = dt.datetime.now(dt.UTC)
        with factory() as s:
            for _ in range(N):
                service.enqueue(s, make_case(s), "first_reminder", trigger_key="dpd:1", business_date=now.date(),
                                settings=settings, due_at=now)
            s.commit()

        log = tmp_path / "dispatch.log"
        proc = subprocess.Popen([EXE, "dispatch", "--limit", "8", "--concurrency", "2", "--interval", "0.2"],
                                env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=tmp_path)
        deadline = time.monotonic() + 60
        while not fake.requests and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.02)
        assert fake.requests, "the worker never called Twilio"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
        assert "dispatch worker stopped" in log.read_text()

        with factory() as s:
            notices = s.scalars(select(Notice)).all()
            by_status = collections.Counter(n.status for n in notices)
            assert by_status["sending"] == 0, by_status
            assert set(by_status) <= {"sent", "queued"}, by_status
            # Every message Twilio accepted is recorded, against exactly one notice.
            assert sorted(n.provider_sid for n in notices if n.status == "sent") == sorted(
                m["sid"] for m in fake.messages)
            assert 1 <= len(fake.messages) < N, "SIGTERM should stop the worker before the outbox is empty"
            released = s.scalars(select(NoticeStatusEvent).where(NoticeStatusEvent.status == "released")).all()
            assert released, "claimed notices that were not sent must be released"
            assert {e.notice_id for e in released} <= {n.id for n in notices if n.status == "queued"}
            assert all(n.claim_token is None for n in notices)
            outcomes = collections.Counter(a.outcome for a in s.scalars(select(NoticeAttempt)))
            assert outcomes["started"] == 0, outcomes

        # A new worker sends the rest; each notice reached Twilio exactly once.
        fake.delay_seconds = 0.0
        done = subprocess.run([EXE, "dispatch", "--idle-exit", "--interval", "0.1"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        with factory() as s:
            notices = s.scalars(select(Notice)).all()
            assert {n.status for n in notices} == {"sent"}
        bodies = collections.Counter(m["body"] for m in fake.messages)
        assert len(fake.messages) == N and all(bodies[n.body] == 1 for n in notices)
        engine.dispose()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        fake.stop()
        drop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.postgres_only
@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL (a table lock holds the request)")
def test_sigterm_serve_answers_the_request_in_flight(tmp_path_factory, tmp_path):
    url, drop = create_database("postgresql", tmp_path_factory)
    port = _free_port()
    proc = None
    try:
        upgrade(url)
        engine = make_engine(url)
        with make_sessionmaker(engine)() as s:
            create_user(s, username="ops1", password=PASSWORD, role=Role.admin)
            s.commit()
        engine.dispose()
        env = {**os.environ, "COLLECTIONS_ENV": "test", "COLLECTIONS_DATABASE__URL": url}
        log = tmp_path / "serve.log"
        proc = subprocess.Popen([EXE, "serve", "--port", str(port)], env=env, stdout=log.open("w"),
                                stderr=subprocess.STDOUT, cwd=tmp_path)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        token = httpx.post(base + "/api/v1/auth/token", json={"username": "ops1", "password": PASSWORD}
                           ).json()["access_token"]

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        blocker = psycopg.connect(dsn)
        blocker.execute("LOCK TABLE loan IN ACCESS EXCLUSIVE MODE")  # the request below waits on it
        answer: dict[str, object] = {}

        def slow_request() -> None:
            try:
                r = httpx.get(base + "/api/v1/loans", headers={"Authorization": f"Bearer {token}"}, timeout=60)
                answer["status"] = r.status_code
            except Exception as exc:  # reported by the assertion below
                answer["error"] = repr(exc)
        t = threading.Thread(target=slow_request)
        t.start()
        with psycopg.connect(dsn, autocommit=True) as watch:
            while not watch.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND datname = current_database()").fetchone()[0]:
                assert time.monotonic() < deadline and t.is_alive(), answer
                time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert proc.poll() is None, "serve exited while a request was still in flight"
        with pytest.raises(httpx.HTTPError):  # draining: the listening socket is closed
            httpx.get(base + "/health", timeout=2)
        blocker.commit()  # release the lock: the request in flight completes
        blocker.close()
        t.join(30)
        assert answer == {"status": 200}
        # uvicorn drains, then ends by re-raising the signal it caught: a clean SIGTERM exit.
        assert proc.wait(30) in (0, -signal.SIGTERM), log.read_text()
        assert "Application shutdown complete" in log.read_text()
        line = next(x for x in log.read_text().splitlines() if '"/api/v1/loans"' in x and "collections_svc.http" in x)
        assert '"actor": "ops1"' in line and '"request_id": null' not in line
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        drop()
