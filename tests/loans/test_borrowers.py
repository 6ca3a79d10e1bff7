"""Borrower and contact edits: optimistic locking (a stale version is a 409 and changes nothing)."""

from __future__ import annotations

from sqlalchemy import select

from collections_svc.loans.models import Borrower, Contact
from tests.factories import make_loan


def _borrower(client, auth, session):
    loan = make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    return client.get(f"/api/v1/borrowers/{loan.borrower_id}", headers=auth("supervisor")).json()


def test_patch_with_the_current_version_changes_the_borrower_and_bumps_the_version(client, auth, session):
    b = _borrower(client, auth, session)
    r = client.patch(
        f"/api/v1/borrowers/{b['id']}",
        headers=auth("supervisor"),
        json={"version": b["version"], "industry": "批发和零售业"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["industry"] == "批发和零售业"
    assert r.json()["version"] == b["version"] + 1


def test_patch_with_a_stale_version_is_409_and_changes_nothing(client, auth, session):
    b = _borrower(client, auth, session)
    first = client.patch(
        f"/api/v1/borrowers/{b['id']}",
        headers=auth("supervisor"),
        json={"version": b["version"], "region": "华北"},
    )
    assert first.status_code == 200
    stale = client.patch(
        f"/api/v1/borrowers/{b['id']}",
        headers=auth("admin"),
        json={"version": b["version"], "region": "西南", "name": "被覆盖的名字有限公司"},
    )
    assert stale.status_code == 409
    problem = stale.json()
    assert problem["type"].endswith("/stale-version")
    assert problem["current_version"] == b["version"] + 1
    assert "Reload" in problem["detail"]
    session.expire_all()
    row = session.get(Borrower, b["id"])
    assert (row.region, row.name, row.version) == ("华北", b["name"], b["version"] + 1)


def test_contact_edit_normalises_the_phone_and_checks_the_version(client, auth, session):
    b = _borrower(client, auth, session)
    contact = b["contacts"][0]
    r = client.patch(
        f"/api/v1/contacts/{contact['id']}",
        headers=auth("collector"),
        json={"version": contact["version"], "phone": "139 1234 5678"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "+8613912345678"
    stale = client.patch(
        f"/api/v1/contacts/{contact['id']}",
        headers=auth("collector"),
        json={"version": contact["version"], "phone": "13800000000"},
    )
    assert stale.status_code == 409
    bad = client.patch(
        f"/api/v1/contacts/{contact['id']}",
        headers=auth("collector"),
        json={"version": r.json()["version"], "phone": "12345"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "phone"
    session.expire_all()
    assert session.scalar(select(Contact.phone).where(Contact.id == contact["id"])) == "+8613912345678"


def test_borrower_search_pages_in_a_stable_order(client, auth, session):
    for _ in range(3):
        make_loan(session, schedule=[("2026-03-15", "1000.00", "50.00")])
    session.commit()
    page1 = client.get("/api/v1/borrowers", headers=auth("collector"), params={"size": 2, "page": 1}).json()
    page2 = client.get("/api/v1/borrowers", headers=auth("collector"), params={"size": 2, "page": 2}).json()
    assert page1["total"] == page2["total"] >= 3
    ids = [b["id"] for b in page1["items"] + page2["items"]]
    assert len(ids) == len(set(ids))
