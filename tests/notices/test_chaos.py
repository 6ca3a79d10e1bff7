"""Exactly once with real processes: several dispatchers, SIGKILLed at random (also right after Twilio
accepted a message and before the SID was recorded), 20% injected 429/5xx, then duplicated and
reordered signed status callbacks. The fake Twilio must see every notice exactly once."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.main import create_app
from collections_svc.migrate import upgrade
from collections_svc.notices import service
from collections_svc.notices.models import Notice, NoticeAttempt
from collections_svc.notices.worker import pending
from tests.conftest import BACKENDS, create_database
from tests.fakes.twilio_fake import FakeTwilio
from tests.notices.conftest import AUTH_TOKEN, PUBLIC, make_case

N_NOTICES = 40
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_each_notice_reaches_twilio_exactly_once_despite_kills_errors_and_callbacks(
    backend, tmp_path_factory, tmp_path
):
    url, drop = create_database(backend, tmp_path_factory)
    fake = FakeTwilio(seed=7, hang_seconds=1.0)
    fake.chaos = {"429": 0.10, "500": 0.08, "hang": 0.02}
    base = fake.start()
    procs: list[subprocess.Popen] = []
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        cfg = {
            "env": "test",
            "database": {"url": url},
            "public_base_url": PUBLIC,
            "twilio": {
                "account_sid": "ACchaos",
                "auth_token": AUTH_TOKEN,
                "from_number": "+15005550006",
                "api_base_url": base,
            },
            "notices": {
                "allowed_start": "00:00",
                "allowed_end": "23:59",
                "holidays_enabled": False,
                "http_timeout_seconds": 0.5,
                "lease_seconds": 1.5,
                "backoff_base_seconds": 0.05,
                "backoff_max_seconds": 0.3,
                "max_attempts": 100,
                "reconcile_skew_seconds": 5,
                "letters_dir": str(tmp_path / "letters"),
                "console_outbox": str(tmp_path / "outbox.log"),
            },
        }
        from collections_svc.config import Settings

        settings = Settings(**cfg)
        now = dt.datetime.now(dt.UTC)
        with factory() as s:
            for _ in range(N_NOTICES):
                case = make_case(s)
                service.enqueue(
                    s,
                    case,
                    "first_reminder",
                    trigger_key="dpd:1",
                    business_date=now.date(),
                    settings=settings,
                    due_at=now,
                )
            s.commit()

        env = {**os.environ, "PYTHONPATH": str(ROOT)}

        def spawn() -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-m", "tests.notices._chaos_worker", json.dumps(cfg), "0.08"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )

        procs = [spawn() for _ in range(3)]
        rng = random.Random(11)
        kills = 0
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 0.5))
            for i, p in enumerate(procs):
                if p.poll() is not None:
                    if p.returncode not in (-signal.SIGKILL,):
                        pytest.fail(f"worker died: {p.returncode} {p.stderr.read().decode()[-2000:]}")
                    procs[i] = spawn()
            if kills < 8:
                victim = rng.choice(procs)
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                kills += 1
            elif pending(factory) == 0:
                break
        assert pending(factory) == 0, "dispatchers did not finish in time"

        with factory() as s:
            notices = s.scalars(select(Notice)).all()
            assert {n.status for n in notices} == {"sent"}
            bodies = collections.Counter(m["body"] for m in fake.messages)
            assert all(bodies[n.body] == 1 for n in notices), "a notice reached Twilio more than once"
            known = {n.body for n in notices}
            assert [m for m in fake.messages if m["body"] not in known] == []
            assert len(fake.messages) == N_NOTICES
            assert {n.provider_sid for n in notices} == {m["sid"] for m in fake.messages}
            outcomes = collections.Counter(a.outcome for a in s.scalars(select(NoticeAttempt)))
        # The run really exercised the failure paths.
        assert outcomes["retry"] > 0, outcomes
        assert outcomes["reconciled_sent"] + outcomes["reconciled_not_sent"] > 0, outcomes

        app = create_app(settings, session_factory=factory)
        client = TestClient(app)
        order = ["sent", "delivered", "delivered", "queued", "sent", "delivered"]
        for n in notices:
            seq = order[:]
            rng.shuffle(seq)
            for st in seq:
                assert fake.post_status(client, PUBLIC, AUTH_TOKEN, n.provider_sid, st).status_code == 204
        with factory() as s:
            assert {n.status for n in s.scalars(select(Notice))} == {"delivered"}
        engine.dispose()
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        fake.stop()
        drop()
