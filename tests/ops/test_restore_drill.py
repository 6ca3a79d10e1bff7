"""Restore drill (PostgreSQL only: it runs the real pg_dump and pg_restore).

A populated database (loans, a nightly sweep that opened cases and queued notices, a collector's
contact with a promise) is dumped with ``pg_dump --format=custom`` and restored with ``pg_restore``
into an empty database; the service started on the restored copy is ready (schema at head) and
answers the same work queue and the same case timeline as the original. docs/operations.md section 6
describes the same procedure for operators.
"""

from __future__ import annotations

import datetime as dt
import subprocess

import psycopg
import pytest
from fastapi.testclient import TestClient

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.common.clock import FixedClock
from collections_svc.config import Settings
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.main import create_app
from collections_svc.migrate import upgrade
from collections_svc.sweep.service import run_sweep_job
from tests.conftest import BACKENDS, PASSWORD, create_database
from tests.factories import make_loan

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only,
              pytest.mark.skipif("postgresql" not in BACKENDS, reason="the drill uses pg_dump and pg_restore")]

CLOCK = FixedClock(dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC))  # 2026-04-01 10:00 Shanghai


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _snapshot(url: str) -> tuple[dict, list, dict]:
    app = create_app(Settings(env="test", database={"url": url}), clock=CLOCK)
    with TestClient(app) as client:
        assert client.get("/ready").json() == {"status": "ready"}
        tok = client.post("/api/v1/auth/token", json={"username": "drill_admin", "password": PASSWORD})
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        queue = client.get("/api/v1/cases", params={"limit": 200}, headers=h).json()
        first = queue["items"][0]["id"]
        timeline = client.get(f"/api/v1/cases/{first}/timeline", headers=h).json()
        detail = client.get(f"/api/v1/cases/{first}", headers=h).json()
    app.state.sessionmaker.kw["bind"].dispose()
    return queue, timeline, detail


def test_pg_dump_and_restore_give_the_same_queue_and_timeline(tmp_path_factory, tmp_path):
    src, drop_src = create_database("postgresql", tmp_path_factory)
    dst, drop_dst = create_database("postgresql", tmp_path_factory)
    try:
        upgrade(src)
        engine = make_engine(src)
        factory = make_sessionmaker(engine)
        settings = Settings(env="test", database={"url": src})
        with factory() as s:
            create_user(s, username="drill_admin", password=PASSWORD, role=Role.admin)
            for i in range(6):
                make_loan(s, schedule=[("2026-02-15", f"{50000 + 1000 * i}.00", "2000.00"),
                                       ("2026-09-15", "500000.00", "2000.00")])
            s.commit()
        for day in ("2026-03-30", "2026-03-31"):
            rep = run_sweep_job(factory, dt.date.fromisoformat(day), settings)
            assert rep.status == "succeeded", rep.errors[:3]
        engine.dispose()
        queue, timeline, detail = _snapshot(src)
        assert queue["total"] == 6 and len(timeline) >= 2  # a populated book: cases with history

        dump = tmp_path / "collections.dump"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", _libpq(src)], check=True, timeout=120)
        restore = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(dst)}",
                                  str(dump)], capture_output=True, text=True, timeout=120)
        assert restore.returncode == 0, restore.stderr[-2000:]

        assert _snapshot(dst) == (queue, timeline, detail)
        # The restored copy is independent: a change there does not reach the original.
        with psycopg.connect(_libpq(dst), autocommit=True) as c:
            c.execute("DELETE FROM case_event WHERE case_id = %s", (queue["items"][0]["id"],))
        assert _snapshot(src)[1] == timeline
    finally:
        drop_dst()
        drop_src()
