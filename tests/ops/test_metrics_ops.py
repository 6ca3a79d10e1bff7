"""More of /metrics (issue 10): the scrape token, sweep duration / steps / counts from the run ledger,
dispatch results by outcome and error code, scheduler leadership, statement and lock timeouts."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.config import Settings
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.main import create_app
from collections_svc.migrate import upgrade
from collections_svc.sweep.models import SweepRun
from tests.conftest import BACKENDS, PASSWORD, create_database
from tests.notices.test_dispatch import _enqueue, _run
from tests.ops.test_metrics import _value

SCRAPE = "s" * 40


@pytest.fixture
def token_app(db_url, clock, session_factory):
    settings = Settings(env="test", database={"url": db_url}, security={"metrics_token": SCRAPE})
    return TestClient(create_app(settings, clock=clock, session_factory=session_factory))


def test_scrape_token_opens_metrics_and_nothing_else(token_app, users):
    ok = token_app.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE}"})
    assert ok.status_code == 200 and "collections_outbox_notices" in ok.text
    assert token_app.get("/metrics", headers={"Authorization": "Bearer " + "t" * 40}).status_code == 401
    assert token_app.get("/metrics").status_code == 401
    # The scrape token is not a user's token: the API refuses it.
    assert token_app.get("/api/v1/cases", headers={"Authorization": f"Bearer {SCRAPE}"}).status_code == 401


def test_without_a_token_setting_a_bearer_guess_is_refused(client, users, auth):
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/metrics", headers=auth("admin")).status_code == 200


def test_production_refuses_a_short_scrape_token():
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        Settings(env="production", security={"secret_key": "k" * 40, "metrics_token": "short"})


def test_sweep_duration_steps_and_counts_per_partition(client, auth, session, clock):
    now = clock.now()
    session.add_all([
        SweepRun(business_date=dt.date(2026, 3, 31), partition="0/2", status="succeeded",
                 started_at=now - dt.timedelta(seconds=100), finished_at=now - dt.timedelta(seconds=40),
                 cases_opened=7, notices_queued=3, loans_evaluated=500,
                 stats={"seconds": {"dpd": 12.5, "strategy": 30.25}}),
        SweepRun(business_date=dt.date(2026, 3, 31), partition="1/2", status="succeeded",
                 started_at=now - dt.timedelta(seconds=90), finished_at=now - dt.timedelta(seconds=45),
                 cases_opened=2, error_count=1, stats={"seconds": {"dpd": 10.0}}),
    ])
    session.commit()
    t = client.get("/metrics", headers=auth("admin")).text
    assert _value(t, "collections_sweep_last_duration_seconds", {"partition": "0/2"}) == 60
    assert _value(t, "collections_sweep_last_duration_seconds", {"partition": "1/2"}) == 45
    assert _value(t, "collections_sweep_last_step_seconds", {"partition": "0/2", "step": "strategy"}) == 30.25
    assert _value(t, "collections_sweep_last_step_seconds", {"partition": "1/2", "step": "dpd"}) == 10
    assert _value(t, "collections_sweep_last_count", {"partition": "0/2", "figure": "cases_opened"}) == 7
    assert _value(t, "collections_sweep_last_count", {"partition": "0/2", "figure": "loans_evaluated"}) == 500
    assert _value(t, "collections_sweep_last_count", {"partition": "1/2", "figure": "error_count"}) == 1


def test_dispatch_results_by_outcome_and_error_code(client, auth, session, session_factory, twilio_settings,
                                                    fake_twilio, wed_10am):
    def counted(t: str, outcome: str, code: str) -> float:
        try:
            return _value(t, "collections_notice_dispatch_results_total", {"outcome": outcome, "error_code": code})
        except AssertionError:
            return 0.0
    before = client.get("/metrics", headers=auth("admin")).text
    _enqueue(session, twilio_settings, n=3)
    fake_twilio.script.extend(["21211", "500", "ok"])
    _run(session_factory, twilio_settings, wed_10am)
    after = client.get("/metrics", headers=auth("admin")).text
    assert counted(after, "sent", "") == counted(before, "sent", "") + 1
    assert counted(after, "failed", "21211") == counted(before, "failed", "21211") + 1
    assert counted(after, "retry", "20500") + counted(after, "retry", "500") == \
        counted(before, "retry", "20500") + counted(before, "retry", "500") + 1


def test_scheduler_leadership_is_read_from_the_lock(client, auth, db_url, settings):
    if not db_url.startswith("postgresql"):
        t = client.get("/metrics", headers=auth("admin")).text
        assert "collections_scheduler_leaders" not in t  # SQLite: a lock file, nothing to read remotely
        return
    key = settings.scheduler.advisory_lock_key
    assert _value(client.get("/metrics", headers=auth("admin")).text, "collections_scheduler_leaders") == 0
    dsn = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as leader:
        assert leader.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
        assert _value(client.get("/metrics", headers=auth("admin")).text, "collections_scheduler_leaders") == 1
        leader.execute("SELECT pg_advisory_unlock(%s)", (key,))


def test_lock_timeout_fails_fast_and_is_counted(client, auth, db_url):
    if not db_url.startswith("postgresql"):
        # SQLite has no lock_timeout (its busy timeout is fixed in db.py): the setting must not break it.
        engine = make_engine(db_url, lock_timeout_ms=100)
        with engine.connect() as c:
            assert c.execute(text("SELECT COUNT(*) FROM strategy_version")).scalar_one() >= 0
        engine.dispose()
        return
    def timeouts(kind: str) -> float:
        try:
            return _value(client.get("/metrics", headers=auth("admin")).text, "collections_db_timeouts_total",
                          {"kind": kind})
        except AssertionError:
            return 0.0
    before = timeouts("lock_timeout")
    dsn = db_url.replace("postgresql+psycopg://", "postgresql://")
    engine = make_engine(db_url, lock_timeout_ms=200, statement_timeout_ms=5000)
    with psycopg.connect(dsn) as holder:
        holder.execute("SET lock_timeout = 5000")  # never hang the suite on the test's own locks
        holder.execute("LOCK TABLE strategy_version IN ACCESS EXCLUSIVE MODE")
        with engine.connect() as c, pytest.raises(Exception, match="lock timeout"):
            c.execute(text("SELECT COUNT(*) FROM strategy_version"))
        holder.rollback()
    engine.dispose()
    assert timeouts("lock_timeout") == before + 1


@pytest.mark.postgres_only
@pytest.mark.skipif("postgresql" not in BACKENDS, reason="lock_timeout is a PostgreSQL setting")
def test_a_request_stuck_behind_a_lock_answers_503_retry_after(tmp_path_factory, clock):
    """With DATABASE__LOCK_TIMEOUT_MS the API fails fast with a retryable problem instead of a 500."""
    url, drop = create_database("postgresql", tmp_path_factory)
    try:
        upgrade(url)
        eng = make_engine(url)
        with make_sessionmaker(eng)() as s:
            create_user(s, username="busy_admin", password=PASSWORD, role=Role.admin)
            s.commit()
        eng.dispose()
        app = create_app(Settings(env="test", database={"url": url, "lock_timeout_ms": 200}), clock=clock)
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with TestClient(app, raise_server_exceptions=False) as c, psycopg.connect(dsn) as holder:
            tok = c.post("/api/v1/auth/token", json={"username": "busy_admin", "password": PASSWORD})
            h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
            holder.execute("SET lock_timeout = 5000")
            holder.execute("LOCK TABLE strategy_version IN ACCESS EXCLUSIVE MODE")
            r = c.get("/api/v1/strategies", headers=h)
            holder.rollback()
            assert r.status_code == 503, r.text
            assert r.headers["Retry-After"] == "1"
            assert r.json()["type"].endswith("/database-busy") and r.json()["request_id"]
            assert c.get("/api/v1/strategies", headers=h).status_code == 200  # the retry succeeds
        app.state.sessionmaker.kw["bind"].dispose()
    finally:
        drop()
