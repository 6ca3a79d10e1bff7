"""API conventions: problem+json errors (RFC 9457) with field details, request ids, probes, OpenAPI."""

from __future__ import annotations

import uuid

from tests.factories import make_loan

PROBLEM = "application/problem+json"


def _is_problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == f"https://collections-svc.dev/problems/{code}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["instance"] == r.request.url.path
    assert body["request_id"] == r.headers["x-request-id"]
    return body


def test_validation_error_lists_every_bad_field(client, auth):
    r = client.post(
        "/api/v1/payments",
        headers=auth("integration"),
        json={"external_id": "bad id with spaces", "paid_on": "31/03/2026", "amount": "-1"},
    )
    body = _is_problem(r, 422, "validation")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"external_id", "loan_external_id", "paid_on", "amount"}
    assert all(e["message"] for e in body["errors"])
    assert "nothing was changed" in body["detail"]


def test_bad_query_parameter_names_the_parameter(client, auth):
    body = _is_problem(
        client.get("/api/v1/loans", headers=auth("collector"), params={"size": 10_000}), 422, "validation"
    )
    assert [e["field"] for e in body["errors"]] == ["size"]


def test_unknown_record_is_404_problem(client, auth):
    body = _is_problem(client.get("/api/v1/loans/999999", headers=auth("collector")), 404, "not-found")
    assert "999999" in body["detail"]


def test_unknown_api_path_is_404_problem(client, auth):
    r = client.get("/api/v1/no-such-thing", headers=auth("collector"))
    assert r.status_code == 404


def test_conflict_is_409_problem(client, auth, session):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    r = client.patch(f"/api/v1/borrowers/{loan.borrower_id}", headers=auth("admin"), json={"version": 42})
    _is_problem(r, 409, "stale-version")


def test_request_id_is_echoed_or_generated(client, auth):
    r = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    generated = client.get("/health").headers["x-request-id"]
    assert uuid.UUID(generated)
    err = client.get("/api/v1/loans/999999", headers={**auth("collector"), "X-Request-ID": "trace-77"})
    assert err.headers["x-request-id"] == "trace-77" and err.json()["request_id"] == "trace-77"


def test_health_and_ready(client):
    h = client.get("/health")
    assert h.status_code == 200 and h.json()["status"] == "ok"
    r = client.get("/ready")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


def test_list_endpoints_paginate_with_totals(client, auth, session):
    for _ in range(3):
        make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    r = client.get("/api/v1/loans", headers=auth("collector"), params={"size": 2})
    body = r.json()
    assert body["page"] == 1 and body["size"] == 2 and body["total"] >= 3 and len(body["items"]) == 2
    rest = client.get("/api/v1/loans", headers=auth("collector"), params={"size": 2, "page": 2}).json()[
        "items"
    ]
    assert not {x["id"] for x in body["items"]} & {x["id"] for x in rest}


def test_openapi_documents_every_operation_with_a_summary(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "collections_svc API"
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method.upper()} {path} has no summary"
