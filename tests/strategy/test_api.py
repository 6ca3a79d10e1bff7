"""Admin API for strategy versions: list, save (validated), activate; the sweep then uses it."""

from __future__ import annotations

from sqlalchemy import text

from collections_svc.strategy import service

NEW = {"version": "big-exposure-1", "description": "large exposures go straight to a visit",
       "rules": [{"id": "big", "when": {"dpd_min": 1, "exposure_min": "1000000"}, "target": "visit",
                  "tasks": ["visit"]},
                 {"id": "rest", "when": {"dpd_min": 1}, "target": "phone_reminder",
                  "notices": ["sms/first_reminder"]}]}


def test_list_shows_shipped_default_as_active(client, auth):
    r = client.get("/api/v1/strategies", headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["active_version"] == "default-1"
    assert body["items"][0]["shipped"] is True and body["items"][0]["rules"] == 6
    r = client.get("/api/v1/strategies/active", headers=auth("supervisor"))
    assert r.json()["version"] == "default-1" and r.json()["shipped"] is True


def test_save_and_activate_a_version(client, auth, session, settings):
    r = client.post("/api/v1/strategies", json=NEW, headers=auth("admin"))
    assert r.status_code == 201, r.text
    assert r.json()["is_active"] is False
    assert service.active_strategy(session, settings).version == "default-1"   # not live yet
    r = client.post("/api/v1/strategies/big-exposure-1/activate", headers=auth("admin"))
    assert r.status_code == 200 and r.json()["is_active"] is True
    session.expire_all()
    assert service.active_strategy(session, settings).version == "big-exposure-1"
    listing = client.get("/api/v1/strategies", headers=auth("admin")).json()
    assert listing["active_version"] == "big-exposure-1"
    actions = session.execute(text("SELECT action FROM audit_event WHERE entity = 'strategy_version' "
                                   "ORDER BY id")).scalars().all()
    assert actions == ["strategy.create", "strategy.activate"]
    # the same version name twice is refused: versions never change
    r = client.post("/api/v1/strategies", json=NEW, headers=auth("admin"))
    assert r.status_code == 409 and "already exists" in r.json()["detail"]


def test_invalid_strategy_is_rejected_with_field_errors(client, auth, session):
    bad = {"version": "bad-1", "rules": [
        {"id": "a", "when": {"dpd_min": 1}, "target": "phone_reminder", "notices": ["sms/unknown_thing"]},
        {"id": "b", "when": {"dpd_min": 5}, "target": "court"}]}
    r = client.post("/api/v1/strategies", json=bad, headers=auth("admin"))
    assert r.status_code == 422
    body = r.json()
    assert body["type"].endswith("/strategy-invalid")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert "unknown template 'sms/unknown_thing'" in messages["rules[0].notices[0]"]
    assert "unknown stage 'court'" in messages["rules[1].target"]
    assert session.execute(text("SELECT COUNT(*) FROM strategy_version")).scalar_one() == 0


def test_only_admins_change_strategies(client, auth):
    assert client.post("/api/v1/strategies", json=NEW, headers=auth("supervisor")).status_code == 403
    assert client.get("/api/v1/strategies", headers=auth("collector")).status_code == 403
    r = client.post("/api/v1/strategies/default-1/activate", headers=auth("risk_officer"))
    assert r.status_code == 403


def test_activate_unknown_version_is_404(client, auth):
    r = client.post("/api/v1/strategies/nope/activate", headers=auth("admin"))
    assert r.status_code == 404 and "nope" in r.json()["detail"]
