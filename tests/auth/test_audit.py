"""The audit log: every write leaves a row (who, what, before/after, request id); only auditors and admins
read it; the database itself refuses to change or delete a row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from collections_svc.audit.models import AuditEvent
from collections_svc.audit.service import record
from collections_svc.auth.service import SYSTEM
from tests.factories import make_loan


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent))


def test_an_api_write_appends_who_what_and_the_request_id(client, auth, session):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    borrower_id = loan.borrower_id
    version = client.get(f"/api/v1/borrowers/{borrower_id}", headers=auth("admin")).json()["version"]
    r = client.patch(
        f"/api/v1/borrowers/{borrower_id}",
        headers={**auth("admin"), "X-Request-ID": "req-audit-1"},
        json={"version": version, "region": "华南"},
    )
    assert r.status_code == 200, r.text
    ev = session.scalars(select(AuditEvent).where(AuditEvent.action == "borrower.update")).one()
    assert (ev.actor, ev.entity, ev.entity_id, ev.request_id) == (
        "admin1",
        "borrower",
        str(borrower_id),
        "req-audit-1",
    )
    assert ev.actor_id is not None and ev.at is not None
    assert ev.after["region"][1] == "华南"


def test_the_audit_log_is_readable_by_auditor_and_admin_only(client, auth, session):
    record(session, SYSTEM, "test.event", "book", None, after={"note": "x"})
    session.commit()
    for role in ("auditor", "admin"):
        r = client.get("/api/v1/audit", headers=auth(role), params={"action": "test.event"})
        assert r.status_code == 200
        assert [e["action"] for e in r.json()["items"]] == ["test.event"]
    for role in ("collector", "supervisor", "risk_officer", "integration"):
        assert client.get("/api/v1/audit", headers=auth(role)).status_code == 403


def test_a_failed_write_leaves_no_audit_row(client, auth, session):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    before = _count(session)
    r = client.patch(
        f"/api/v1/borrowers/{loan.borrower_id}",
        headers=auth("admin"),
        json={"version": 999, "region": "华南"},
    )
    assert r.status_code == 409
    assert _count(session) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'mallory'",
        "DELETE FROM audit_event",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(session, statement):
    record(session, SYSTEM, "test.event", "book", None)
    session.flush()
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement))
    assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "test.event")) == "system"
