"""Validate and dry-run a draft strategy from the admin UI's API: nothing is saved, nothing changes."""

from __future__ import annotations

from sqlalchemy import text

from tests.factories import make_loan

DRAFT = {"version": "draft-visit-1", "description": "everything overdue goes to a visit",
         "rules": [{"id": "all", "when": {"dpd_min": 1}, "target": "visit", "tasks": ["visit"]}]}


def _rows(session) -> tuple[int, ...]:
    return tuple(session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                 for t in ("collection_case", "sweep_run", "strategy_version", "audit_event"))


def test_validate_a_draft_reports_warnings_and_saves_nothing(client, auth, session):
    overlapping = {"version": "v-2", "rules": [
        {"id": "mild", "when": {"dpd_min": 1}, "target": "phone_reminder"},
        {"id": "severe", "when": {"dpd_min": 1, "exposure_min": "1000000"}, "target": "visit"}]}
    before = _rows(session)
    r = client.post("/api/v1/strategies/validate", json=overlapping, headers=auth("supervisor"))
    # "severe" is fully covered by "mild": the draft is refused with the rule named
    assert r.status_code == 422
    assert any("can never match" in e["message"] for e in r.json()["errors"])
    r = client.post("/api/v1/strategies/validate", json=DRAFT, headers=auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json() == {"valid": True, "version": "draft-visit-1", "rules": 1, "warnings": [],
                        "version_exists": False}
    assert _rows(session) == before


def test_validate_lists_every_problem_with_its_field(client, auth):
    bad = {"version": "bad", "rules": [{"id": "a", "when": {"dpd_min": 9, "dpd_max": 3}, "target": "court",
                                        "notices": ["sms/no_such_template"]}]}
    r = client.post("/api/v1/strategies/validate", json=bad, headers=auth("admin"))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"rules[0].target", "rules[0].notices[0]", "rules[0].when.dpd_max"} <= fields


def test_preview_a_draft_against_the_book_changes_nothing(client, auth, session):
    make_loan(session, schedule=[("2026-03-01", "100000.00", "500.00"), ("2026-09-01", "100000.00", "500.00")])
    session.commit()
    before = _rows(session)
    r = client.post("/api/v1/strategies/preview", json={"document": DRAFT, "as_of": "2026-03-20"},
                    headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["strategy_version"] == "draft-visit-1"
    assert body["counts"]["cases_opened"] == 1
    assert [e["to"] for e in body["escalations"]] == ["visit"]
    assert _rows(session) == before


def test_preview_of_an_invalid_draft_is_422_and_collectors_may_not_preview(client, auth):
    r = client.post("/api/v1/strategies/preview", json={"document": {"version": "x", "rules": []}},
                    headers=auth("admin"))
    assert r.status_code == 422
    r = client.post("/api/v1/strategies/preview", json={"document": DRAFT}, headers=auth("collector"))
    assert r.status_code == 403
    r = client.post("/api/v1/strategies/validate", json=DRAFT, headers=auth("collector"))
    assert r.status_code == 403
