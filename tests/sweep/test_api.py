"""Sweep API: admins run it, supervisors preview it, everyone on staff sees history and the next run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from tests.factories import make_loan


def _book(session):
    make_loan(session, schedule=[("2026-03-01", "100000.00", "500.00"),
                                 ("2026-09-01", "100000.00", "500.00")])
    session.commit()


def _rows(session) -> tuple[int, int, int]:
    return tuple(session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                 for t in ("collection_case", "sweep_run", "audit_event"))


def test_supervisor_previews_and_nothing_changes(client, auth, session):
    _book(session)
    headers = auth("supervisor")
    before = _rows(session)
    r = client.post("/api/v1/sweeps", json={"as_of": "2026-03-20", "dry_run": True}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["counts"]["cases_opened"] == 1
    assert body["escalations"][0]["to"] == "letter"
    assert _rows(session) == before
    r = client.post("/api/v1/sweeps", json={"as_of": "2026-03-20"}, headers=headers)
    assert r.status_code == 403 and "dry_run" in r.json()["detail"]


def test_admin_runs_then_history_shows_it(client, auth, session, clock):
    _book(session)
    r = client.post("/api/v1/sweeps", json={"as_of": "2026-03-20"}, headers=auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "succeeded" and r.json()["run_id"]
    r = client.post("/api/v1/sweeps", json={"as_of": "2026-03-20"}, headers=auth("admin"))
    assert r.json()["status"] == "already_done" and "nothing was changed" in r.json()["message"]
    h = client.get("/api/v1/sweeps", headers=auth("collector"))
    assert h.status_code == 200, h.text
    body = h.json()
    assert body["total"] == 1 and body["last_run"]["business_date"] == "2026-03-20"
    assert body["last_run"]["cases_opened"] == 1
    # clock: 2026-04-01 10:00 Shanghai -> next sweep 2026-04-02 01:00 Shanghai = 2026-04-01 17:00 UTC
    assert dt.datetime.fromisoformat(body["next_run_at"]) == dt.datetime(2026, 4, 1, 17, 0, tzinfo=dt.UTC)
    # catch-up would run 03-21 .. 03-31 (the date that closed last is 03-31)
    assert body["pending_dates"][0] == "2026-03-21" and body["pending_dates"][-1] == "2026-03-31"


def test_preview_of_a_saved_strategy_before_it_goes_live(client, auth, session):
    _book(session)
    new = {"version": "fast-1", "rules": [{"id": "all", "when": {"dpd_min": 1}, "target": "visit"}]}
    assert client.post("/api/v1/strategies", json=new, headers=auth("admin")).status_code == 201
    r = client.post("/api/v1/sweeps", headers=auth("supervisor"),
                    json={"as_of": "2026-03-02", "dry_run": True, "strategy_version": "fast-1"})
    assert r.status_code == 200, r.text
    assert r.json()["strategy_version"] == "fast-1"
    assert [e["to"] for e in r.json()["escalations"]] == ["visit"]
    r = client.post("/api/v1/sweeps", json={"as_of": "2026-03-02", "strategy_version": "fast-1"},
                    headers=auth("admin"))
    assert r.status_code == 422


def test_bad_partition_is_a_clear_error(client, auth):
    r = client.post("/api/v1/sweeps", json={"as_of": "2026-03-02", "partition": "3/2", "dry_run": True},
                    headers=auth("admin"))
    assert r.status_code == 422 and "out of range" in r.json()["detail"]


def test_real_run_of_a_future_date_is_refused(client, auth):
    # the test clock says 2026-04-01 in Shanghai
    r = client.post("/api/v1/sweeps", json={"as_of": "2026-04-02"}, headers=auth("admin"))
    assert r.status_code == 422 and "has not begun" in r.json()["detail"]
    r = client.post("/api/v1/sweeps", json={"as_of": "2026-04-02", "dry_run": True}, headers=auth("admin"))
    assert r.status_code == 200
