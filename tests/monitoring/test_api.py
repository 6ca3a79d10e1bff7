"""Classification endpoints, overrides as approvals proposals (maker-checker), and role checks on every
monitoring route."""

from __future__ import annotations

import re

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.loans.dpd import run_dpd
from collections_svc.main import ROUTERS
from collections_svc.monitoring.router import router as monitoring_router
from tests.conftest import PASSWORD, token_for
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
        "valid_until": "2026-09-30",
    }
    assert (
        client.post(f"{API}/classification/overrides", json=body, headers=auth("collector")).status_code
        == 403
    )
    r = client.post(f"{API}/classification/overrides", json=body, headers=auth("supervisor"))
    assert r.status_code == 201, r.text
    o = r.json()
    # The proposal is an approvals proposal: one inbox, one trail.
    assert (o["kind"], o["state"], o["maker"]) == ("classification_override", "submitted", "supervisor1")
    assert o["title"] == "Classification override: normal -> special mention"
    assert o["payload"]["target_category"] == "special_mention" and o["payload"]["valid_until"] == "2026-09-30"
    assert [d["decision"] for d in o["decisions"]] == ["created", "submitted"]
    inbox = client.get(
        "/api/v1/approvals", params={"kind": "classification_override"}, headers=auth("admin")
    ).json()
    assert [(p["id"], p["can_decide"]) for p in inbox] == [(o["id"], True)]
    assert (
        client.post(f"{API}/classification/overrides", json=body, headers=auth("risk_officer")).status_code
        == 409
    )  # one pending per loan
    # Not through the generic endpoint: the CN-CLS-09 checks run where the payload is built.
    r = client.post(
        "/api/v1/approvals",
        headers=auth("risk_officer"),
        json={"kind": "classification_override", "loan_id": loan.id, "title": "x", "payload": {}},
    )
    assert r.status_code == 422 and "/classification/overrides" in r.json()["detail"]
    # The maker cannot decide their own proposal (maker-checker, every role).
    r = client.post(f"/api/v1/approvals/{o['id']}/approve", json={"version": o["version"]}, headers=auth("supervisor"))
    assert r.status_code == 403 and r.json()["rule"] == "maker_checker"
    # A risk officer may propose but has no approval authority.
    r = client.post(
        f"/api/v1/approvals/{o['id']}/approve", json={"version": o["version"]}, headers=auth("risk_officer")
    )
    assert r.status_code == 403 and r.json()["rule"] == "approval_limit"
    r = client.post(
        f"/api/v1/approvals/{o['id']}/approve",
        json={"version": o["version"], "comment": "agreed after the site visit"},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.json()["outcome"]["category"] == "special_mention"
    got = client.get(f"{API}/classification/loans/{loan.id}", headers=auth("auditor")).json()
    assert (got["category"], got["override_id"], got["override_until"]) == ("special_mention", o["id"], "2026-09-30")
    hist = client.get(f"{API}/classification/loans/{loan.id}/history", headers=auth("auditor")).json()
    assert [(h["from_category"], h["to_category"], h["source"], h["override_id"]) for h in hist] == [
        (None, "normal", "engine", None),
        ("normal", "special_mention", "override", o["id"]),
    ]
    ev = hist[1]["evidence"]
    assert (ev["maker"], ev["checker"], ev["comment"]) == ("supervisor1", "admin1", "agreed after the site visit")
    # The old monitoring decision endpoints are gone: deciding is the approvals endpoints' job.
    gone = client.post(f"{API}/classification/overrides/{o['id']}/approve", json={}, headers=auth("admin"))
    assert gone.status_code in (404, 405)
    listed = client.get(
        f"{API}/classification/overrides", params={"state": "approved"}, headers=auth("auditor")
    ).json()
    assert [(p["id"], p["state"], [d["actor"] for d in p["decisions"]]) for p in listed] == [
        (o["id"], "approved", ["supervisor1", "supervisor1", "admin1"])
    ]


def test_rejected_override_changes_nothing(client, auth, session):
    loan = make_loan(session, schedule=[("2026-12-31", "1000.00", "0.00")], disbursed_on="2025-01-01")
    session.commit()
    body = {"loan_id": loan.id, "target_stage": 2, "reason": "Sector outlook turned negative"}
    o = client.post(f"{API}/classification/overrides", json=body, headers=auth("risk_officer")).json()
    assert o["title"] == "Classification override: stage 1 -> stage 2"
    before = client.get(f"{API}/classification/loans/{loan.id}", headers=auth("auditor")).json()
    r = client.post(f"/api/v1/approvals/{o['id']}/reject", json={"version": o["version"]}, headers=auth("supervisor"))
    assert r.status_code == 422  # a rejection needs a reason
    r = client.post(
        f"/api/v1/approvals/{o['id']}/reject",
        json={"version": o["version"], "comment": "no evidence of a significant increase"},
        headers=auth("supervisor"),
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    after = client.get(f"{API}/classification/loans/{loan.id}", headers=auth("auditor")).json()
    assert (after["ifrs9_stage"], after["override_id"]) == (before["ifrs9_stage"], None) == (1, None)
    hist = client.get(f"{API}/classification/loans/{loan.id}/history", headers=auth("auditor")).json()
    assert [h["source"] for h in hist] == ["engine"]
    # Closed: a new proposal for the loan may be made.
    r = client.post(f"{API}/classification/overrides", json=body, headers=auth("risk_officer"))
    assert r.status_code == 201


def test_override_above_the_threshold_needs_two_approvers_with_authority(client, auth, session, settings, users):
    # 30,000,000 outstanding: above the supervisor's limit (5m) and the second-approval threshold (20m).
    loan = make_loan(session, schedule=[("2026-12-31", "30000000.00", "0.00")], disbursed_on="2025-01-01")
    create_user(session, username="admin2", password=PASSWORD, role=Role.admin)
    session.commit()
    body = {"loan_id": loan.id, "target_category": "special_mention", "reason": "Group parent defaulted abroad"}
    o = client.post(f"{API}/classification/overrides", json=body, headers=auth("risk_officer")).json()
    assert (o["amount"], o["approvals_required"]) == ("30000000.00", 2)
    r = client.post(f"/api/v1/approvals/{o['id']}/approve", json={}, headers=auth("supervisor"))
    assert r.status_code == 403 and r.json()["rule"] == "approval_limit"
    r = client.post(f"/api/v1/approvals/{o['id']}/approve", json={}, headers=auth("admin"))
    assert r.status_code == 200 and r.json()["state"] == "submitted"  # one of two
    got = client.get(f"{API}/classification/loans/{loan.id}", headers=auth("auditor")).json()
    assert got["category"] == "normal"  # nothing applies before the final approval
    r = client.post(f"/api/v1/approvals/{o['id']}/approve", json={}, headers=auth("admin"))
    assert r.status_code == 403 and r.json()["rule"] == "second_approver"
    r = client.post(f"/api/v1/approvals/{o['id']}/approve", json={}, headers=token_for(client, "admin2"))
    assert r.status_code == 200 and r.json()["state"] == "approved"
    got = client.get(f"{API}/classification/loans/{loan.id}", headers=auth("auditor")).json()
    assert got["category"] == "special_mention"
    hist = client.get(f"{API}/classification/loans/{loan.id}/history", headers=auth("auditor")).json()
    assert hist[-1]["evidence"]["checkers"] == ["admin1", "admin2"]


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
