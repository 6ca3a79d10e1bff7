"""The JSON rows endpoint: the same all-or-nothing upserts as CSV, rows numbered from 1."""

from __future__ import annotations

from sqlalchemy import func, select

from collections_svc.audit.models import AuditEvent
from collections_svc.loans.models import Payment
from tests.imports.conftest import uscc


def _post(client, auth, kind, rows):
    return client.post(f"/api/v1/imports/{kind}", headers=auth("integration"), json={"rows": rows})


def test_json_rows_import_and_reimport_changes_nothing(client, auth, session, imported_book):
    rows = [
        {"external_id": "CP201", "loan_external_id": "CL001", "paid_on": "2026-03-15", "amount": "202900.00"},
        {"external_id": "CP202", "loan_external_id": "CL002", "paid_on": "2026-03-10", "amount": "1604.17"},
    ]
    r = _post(client, auth, "payments", rows)
    assert r.status_code == 200, r.text
    assert (r.json()["rows"], r.json()["created"]) == (2, 2)
    audit = session.scalar(select(func.count()).select_from(AuditEvent))
    again = _post(client, auth, "payments", rows)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 2)
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit


def test_json_rows_with_bad_values_report_row_column_and_message_and_import_nothing(
    client, auth, session, imported_book
):
    before = session.scalar(select(func.count()).select_from(Payment))
    rows = [
        {"external_id": "CP301", "loan_external_id": "CL001", "paid_on": "2026-03-15", "amount": "10.00"},
        {"external_id": "CP302", "loan_external_id": "CL001", "paid_on": "15/03/2026", "amount": "10.00"},
        {"external_id": "CP303", "loan_external_id": "CL001", "paid_on": "2026-03-15", "amount": "-10.00"},
        {"external_id": "CP304", "loan_external_id": "NOPE", "paid_on": "2026-03-15", "amount": "10.00"},
        {"external_id": "CP305", "loan_external_id": "CL001", "paid_on": "2026-04-30", "amount": "10.00"},
    ]
    r = _post(client, auth, "payments", rows)
    assert r.status_code == 422
    errors = {e["row"]: (e["column"], e["message"]) for e in r.json()["errors"]}
    assert sorted(errors) == [2, 3, 4, 5]
    assert errors[2][0] == "paid_on" and errors[3][0] == "amount"
    assert errors[4][0] == "loan_external_id" and errors[5][0] == "paid_on"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Payment)) == before


def test_json_borrower_rows_validate_uscc(client, auth, session):
    good = uscc(50)
    rows = [
        {"external_id": "JB1", "name": "成都远航物流有限公司", "uscc": good},
        {"external_id": "JB2", "name": "重庆天成化工有限公司", "uscc": good[:-1] + "Z"},
    ]
    r = _post(client, auth, "borrowers", rows)
    assert r.status_code == 422
    [err] = r.json()["errors"]
    assert (err["row"], err["column"]) == (2, "uscc")
    assert "not allowed" in err["message"]


def test_unknown_kind_in_json_is_refused(client, auth):
    r = _post(client, auth, "cases", [{}])
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "kind"
