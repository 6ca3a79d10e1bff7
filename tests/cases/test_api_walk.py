"""A collector's day through the API alone, and the cure-on-payment rule."""

from __future__ import annotations

from collections_svc.loans.models import Contact
from tests.cases.helpers import overdue_loan

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _contact_id(session, loan) -> int:
    return session.query(Contact).filter(Contact.borrower_id == loan.borrower_id).first().id


def test_collector_walk(session, settings, client, auth, clock, users, tmp_path):
    settings.attachments_dir = str(tmp_path / "att")
    sup, col = auth("supervisor"), auth("collector")
    r = client.post("/api/v1/assignment-rules", json={"team": "east", "priority": 10}, headers=sup)
    assert r.status_code == 201, r.text
    loan = overdue_loan(session, settings)
    contact_id = _contact_id(session, loan)
    session.commit()

    # the queue is empty, then the collector opens a case: the rule gives it to them (team east)
    assert client.get("/api/v1/cases", headers=col).json()["total"] == 0
    r = client.post("/api/v1/cases", json={"loan_id": loan.id}, headers=col)
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["stage"], case["team"], case["assignee_id"], case["dpd"]) == (
        "classified",
        "east",
        users["collector"].id,
        45,
    )
    assert "escalate" in case["allowed_triggers"] and "de_escalate" not in case["allowed_triggers"]
    again = client.post("/api/v1/cases", json={"loan_id": loan.id}, headers=col)
    assert again.status_code == 200 and again.json()["id"] == case["id"]
    q = client.get("/api/v1/cases", headers=col).json()
    assert [row["id"] for row in q["items"]] == [case["id"]] and q["items"][0][
        "priority"
    ] == 45 + 10  # DPD 45 + 102,000 overdue = 10 units

    # a call with a promise to pay 50,000 by 04-10 with 2 grace days
    r = client.post(
        f"/api/v1/cases/{case['id']}/contacts",
        headers=col,
        json={
            "channel": "phone",
            "outcome": "promised",
            "contact_id": contact_id,
            "note": "CFO promises part payment",
            "promise": {"amount": "50000.00", "due_on": "2026-04-10", "grace_days": 2},
        },
    )
    assert r.status_code == 201, r.text
    promises = client.get(f"/api/v1/cases/{case['id']}/promises", headers=col).json()
    assert [(p["status"], p["amount"]) for p in promises] == [("open", "50000.00")]
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=col).json()
    assert detail["next_action_on"] == "2026-04-13"

    # within grace nothing happens; the day after grace, with no payment, it is broken
    clock.advance(days=11)  # 2026-04-12
    assert client.post(f"/api/v1/cases/{case['id']}/promises/evaluate", headers=col).json()["broken"] == 0
    clock.advance(days=1)  # 2026-04-13
    assert client.post(f"/api/v1/cases/{case['id']}/promises/evaluate", headers=col).json() == {
        "kept": 0,
        "broken": 1,
        "partially_paid": 0,
    }
    assert client.get(f"/api/v1/cases/{case['id']}/promises", headers=col).json()[0]["status"] == "broken"
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=col).json()
    assert detail["broken_promises"] == 1

    # escalate straight to a visit, schedule it, file the report with a photo, close it
    r = client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        headers=col,
        json={"trigger": "escalate", "target": "visit", "version": detail["version"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["case"]["stage"] == "visit"
    r = client.post(
        f"/api/v1/cases/{case['id']}/visits",
        headers=col,
        json={"scheduled_on": "2026-04-15", "address": "上海市浦东新区张江路1号"},
    )
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["status"] == "scheduled" and visit["assignee_id"] == users["collector"].id
    clock.advance(days=2)
    r = client.post(
        f"/api/v1/visits/{visit['id']}/report",
        headers=col,
        json={
            "findings": "Plant running one shift of three; inventory pledged is on site.",
            "operating_status": "reduced",
            "collateral_status": "intact",
            "version": visit["version"],
        },
    )
    assert r.status_code == 200, r.text
    visit = r.json()
    r = client.post(
        f"/api/v1/visits/{visit['id']}/attachments",
        headers=col,
        files={"file": ("gate.png", PNG, "image/png")},
    )
    assert r.status_code == 201, r.text
    att = r.json()
    got = client.get(f"/api/v1/visits/{visit['id']}/attachments/{att['id']}", headers=col)
    assert got.status_code == 200 and got.content == PNG
    bad = client.post(
        f"/api/v1/visits/{visit['id']}/attachments",
        headers=col,
        files={"file": ("x.exe", b"MZ\x90\x00", "image/png")},
    )
    assert bad.status_code == 422
    r = client.post(f"/api/v1/visits/{visit['id']}/close", headers=col, json={"version": visit["version"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"

    kinds = [i["kind"] for i in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=col).json()]
    for k in ("opened", "contact", "promise", "promise_broken", "stage_change", "visit"):
        assert k in kinds, kinds
    # the feed is chronological
    days = [i["on"] for i in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=col).json()]
    assert days == sorted(days)


def test_payment_clearing_arrears_cures_the_case_at_once(session, settings, client, auth):
    loan = overdue_loan(session, settings)
    session.commit()
    col = auth("supervisor")
    case = client.post("/api/v1/cases", json={"loan_id": loan.id}, headers=col).json()
    overdue = case["overdue_amount"]
    # a partial payment does not cure
    r = client.post(
        "/api/v1/payments",
        headers=auth("integration"),
        json={
            "external_id": "P-PART-1",
            "loan_external_id": loan.external_id,
            "paid_on": "2026-04-01",
            "amount": "1000.00",
        },
    )
    assert r.status_code == 201, r.text
    assert client.get(f"/api/v1/cases/{case['id']}", headers=col).json()["stage"] == "classified"
    rest = f"{float(overdue) - 1000:.2f}"
    r = client.post(
        "/api/v1/payments",
        headers=auth("integration"),
        json={
            "external_id": "P-REST-1",
            "loan_external_id": loan.external_id,
            "paid_on": "2026-04-01",
            "amount": rest,
        },
    )
    assert r.status_code == 201, r.text
    after = client.get(f"/api/v1/cases/{case['id']}", headers=col).json()
    assert (after["stage"], after["is_open"], after["closed_on"], after["dpd"]) == (
        "resolved",
        False,
        "2026-04-01",
        0,
    )
    cure = [
        i
        for i in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=col).json()
        if i["kind"] == "stage_change"
    ]
    assert [(c["data"]["trigger"], c["actor"]) for c in cure] == [("cure", "integration1")]
    payments = [
        i
        for i in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=col).json()
        if i["kind"] == "payment"
    ]
    assert len(payments) == 2


def test_promise_kept_and_partially_paid(session, settings, client, auth, clock):
    from tests.factories import pay

    sup = auth("supervisor")
    loans = [overdue_loan(session, settings) for _ in range(2)]
    session.commit()
    ids = [client.post("/api/v1/cases", json={"loan_id": ln.id}, headers=sup).json()["id"] for ln in loans]
    for cid in ids:
        r = client.post(
            f"/api/v1/cases/{cid}/promises",
            headers=sup,
            json={"amount": "10000.00", "due_on": "2026-04-05", "grace_days": 2},
        )
        assert r.status_code == 201, r.text
    pay(session, settings, loans[0], "10000.00", "2026-04-03")
    pay(session, settings, loans[1], "9000.00", "2026-04-03")
    session.commit()
    statuses = [client.get(f"/api/v1/cases/{cid}/promises", headers=sup).json()[0]["status"] for cid in ids]
    assert statuses == ["kept", "open"]  # kept as soon as it is paid in full
    clock.advance(days=7)  # 2026-04-08: after 04-05 + 2 grace days
    assert client.post("/api/v1/promises/evaluate", headers=sup).json()["partially_paid"] == 1
    p = client.get(f"/api/v1/cases/{ids[1]}/promises", headers=sup).json()[0]
    assert (p["status"], p["paid_amount"]) == ("partially_paid", "9000.00")
    assert client.get(f"/api/v1/cases/{ids[1]}", headers=sup).json()["broken_promises"] == 1
    assert client.get(f"/api/v1/cases/{ids[0]}", headers=sup).json()["broken_promises"] == 0


def test_stale_version_gets_409_with_the_current_state(session, settings, client, auth):
    loan = overdue_loan(session, settings)
    session.commit()
    sup = auth("supervisor")
    case = client.post("/api/v1/cases", json={"loan_id": loan.id}, headers=sup).json()
    first = client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        headers=sup,
        json={"trigger": "escalate", "target": "letter", "version": case["version"]},
    )
    second = client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        headers=auth("admin"),
        json={"trigger": "escalate", "target": "phone_reminder", "version": case["version"]},
    )
    assert first.status_code == 200
    assert second.status_code == 409
    body = second.json()
    assert body["type"].endswith("/stale-version")
    assert (
        body["current"]["stage"] == "letter" and body["current"]["version"] == first.json()["case"]["version"]
    )
    events = [
        i
        for i in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=sup).json()
        if i["kind"] == "stage_change"
    ]
    assert len(events) == 1
