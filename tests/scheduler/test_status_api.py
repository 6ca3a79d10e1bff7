"""GET /api/v1/scheduler/status: leader, jobs and next runs, last sweep; administrators only."""

from __future__ import annotations

import datetime as dt

from collections_svc.scheduler.leader import lock_for
from tests.factories import make_loan


def test_status_shows_jobs_next_runs_and_last_sweep(client, auth, session):
    make_loan(session, schedule=[("2026-03-01", "100000.00", "500.00")])
    session.commit()
    assert client.post("/api/v1/sweeps", json={"as_of": "2026-03-20"}, headers=auth("admin")).status_code == 200
    r = client.get("/api/v1/scheduler/status", headers=auth("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    jobs = {j["id"]: j for j in body["jobs"]}
    # clock: 2026-04-01 10:00 Shanghai -> sweep at 01:00 Shanghai tomorrow = 17:00 UTC today
    assert dt.datetime.fromisoformat(jobs["sweep"]["next_run_at"]) == dt.datetime(2026, 4, 1, 17, 0, tzinfo=dt.UTC)
    assert jobs["sweep"]["schedule"] == "daily 01:00 Asia/Shanghai"
    assert jobs["notice_dispatch"]["next_run_at"] is None and "every" in jobs["notice_dispatch"]["schedule"]
    assert body["last_sweep"]["business_date"] == "2026-03-20"
    assert body["pending_dates"][0] == "2026-03-21"
    assert body["leader"]["held"] is False


def test_status_names_the_leader_while_a_scheduler_holds_the_lock(client, auth, settings):
    lock = lock_for(settings)   # the advisory lock on PostgreSQL, the file next to the database on SQLite
    assert lock.try_acquire()
    try:
        leader = client.get("/api/v1/scheduler/status", headers=auth("admin")).json()["leader"]
        assert leader["held"] is True and leader["holder"].startswith("pid ")
    finally:
        lock.release()
    leader = client.get("/api/v1/scheduler/status", headers=auth("admin")).json()["leader"]
    assert leader["held"] is False


def test_only_admins_see_scheduler_status(client, auth):
    for role in ("collector", "supervisor", "auditor"):
        assert client.get("/api/v1/scheduler/status", headers=auth(role)).status_code == 403
