"""Classification endpoints, overrides with maker-checker, and role checks on every monitoring route."""

from __future__ import annotations

import re

from collections_svc.loans.dpd import run_dpd
from collections_svc.main import ROUTERS
from collections_svc.monitoring.router import router as monitoring_router
from tests.factories import make_loan

API = "/api/v1/monitoring"


def test_every_monitoring_route_needs_a_signed_in_user(client):
    assert monitoring_router in ROUTERS
    for route in monitoring_router.routes:
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods:
            r = client.request(method, path)
            assert r.status_code == 401, (method, path, r.status_code)


def test_run_classification_and_read_state_history_and_migration(client, auth, session):
    loan = make_loan(session, schedule=[("2025-12-01", "1000.00", "0.00")], disbursed_on="2025-01-01")
    session.commit()
    assert client.post(f"{API}/classification/run", json={}, headers=auth("auditor")).status_code == 403
    assert client.post(f"{API}/classification/run", json={}, headers=auth("collector")).status_code == 403
    r = client.post(
        f"{API}/classification/run", json={"business_date": "2026-02-01"}, headers=auth("risk_officer")
    )
    assert r.status_code == 200, r.text
    assert r.json()["by_category"]["special_mention"] == 1  # DPD 62
    r = client.post(f"{API}/classification/run", json={}, headers=auth("admin"))  # today 2026-04-01: DPD 121
    assert (r.json()["category_changes"], r.json()["by_category"]["substandard"]) == (1, 1)
    assert (
        client.post(
            f"{API}/classification/run", json={"business_date": "2026-05-01"}, headers=auth("admin")
        ).status_code
        == 422
    )
    got = client.get(f"{API}/classification/loans/{loan.id}", headers=auth("auditor")).json()
    assert (got["category"], got["ifrs9_stage"], got["since"]) == ("substandard", 3, "2026-04-01")
    assert got["rule_ids"] == ["CN-CLS-03", "IFRS9-03"]
    hist = client.get(f"{API}/classification/loans/{loan.id}/history", headers=auth("auditor")).json()
    assert [(h["business_date"], h["to_category"], h["evidence"]["dpd"]) for h in hist] == [
        ("2026-02-01", "special_mention", 62),
        ("2026-04-01", "substandard", 121),
    ]
    m = client.get(
        f"{API}/classification/migration",
        params={"from": "2026-02-01", "to": "2026-04-01"},
        headers=auth("auditor"),
    ).json()
    assert m["counts"]["special_mention"]["substandard"] == 1
    assert m["balances"]["special_mention"]["substandard"] == "1000.00"


def test_override_maker_checker_over_http(client, auth, session, settings, clock):
    loan = make_loan(session, schedule=[("2026-12-31", "1000.00", "0.00")], disbursed_on="2025-01-01")
    session.commit()
    r = client.get(f"{API}/classification/loans/{loan.id}", headers=auth("auditor"))
    assert r.status_code == 404 and "not been classified" in r.json()["detail"]  # a read never writes
    body = {
        "loan_id": loan.id,
        "target_category": "special_mention",
        "reason": "Main customer lost; cash flow under pressure",
    }
    assert (
        client.post(f"{API}/classification/overrides", json=body, headers=auth("collector")).status_code
        == 403
    )
    r = client.post(f"{API}/classification/overrides", json=body, headers=auth("supervisor"))
    assert r.status_code == 201, r.text
    o = r.json()
    assert (
        client.post(f"{API}/classification/overrides", json=body, headers=auth("risk_officer")).status_code
        == 409
    )  # one pending per loan
    # The maker cannot decide their own proposal.
    r = client.post(
        f"{API}/classification/overrides/{o['id']}/approve",
        json={"version": o["version"]},
        headers=auth("supervisor"),
    )
    assert r.status_code == 403
    assert "another person" in r.json()["detail"]
    r = client.post(
        f"{API}/classification/overrides/{o['id']}/approve",
        json={"version": o["version"]},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.json()["checker"] == "admin1"
    got = client.get(f"{API}/classification/loans/{loan.id}", headers=auth("auditor")).json()
    assert (got["category"], got["override_id"]) == ("special_mention", o["id"])
    hist = client.get(f"{API}/classification/loans/{loan.id}/history", headers=auth("auditor")).json()
    assert [(h["from_category"], h["to_category"], h["source"]) for h in hist] == [
        (None, "normal", "engine"),
        ("normal", "special_mention", "override"),
    ]
    assert hist[1]["evidence"]["maker"] == "supervisor1" and hist[1]["evidence"]["checker"] == "admin1"


def test_upgrade_out_of_npl_too_early_is_a_clear_409(client, auth, session, settings, clock):
    loan = make_loan(
        session,
        schedule=[("2025-12-01", "1000.00", "0.00"), ("2026-12-31", "1000.00", "0.00")],
        disbursed_on="2025-01-01",
    )
    run_dpd(session, clock.now().date(), settings.dpd)
    session.commit()
    client.post(f"{API}/classification/run", json={}, headers=auth("risk_officer"))
    r = client.post(
        f"{API}/classification/overrides",
        headers=auth("risk_officer"),
        json={"loan_id": loan.id, "target_category": "normal", "reason": "Customer says it will pay"},
    )
    assert r.status_code == 409
    assert r.json()["type"].endswith("classification-upgrade-blocked")
    assert r.json()["rule_id"] == "CN-CLS-09"


def test_migration_endpoint_validates_dates(client, auth):
    r = client.get(
        f"{API}/classification/migration",
        params={"from": "2026-03-01", "to": "2026-02-01"},
        headers=auth("auditor"),
    )
    assert r.status_code == 422
    r = client.get(
        f"{API}/classification/migration",
        params={"from": "2026-01-01", "to": "2026-03-31"},
        headers=auth("auditor"),
    )
    assert r.status_code == 200
    assert r.json()["categories"] == ["normal", "special_mention", "substandard", "doubtful", "loss"]
