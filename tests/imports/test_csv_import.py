"""CSV imports are all or nothing: one bad row and nothing is imported, every bad row is reported."""

from __future__ import annotations

from sqlalchemy import func, select

from collections_svc.audit.models import AuditEvent
from collections_svc.loans.models import Borrower, Contact, Installment, Loan, Payment
from tests.imports.conftest import BORROWERS, FILES, PAYMENTS, post_csv, uscc


def _counts(session) -> dict[str, int]:
    return {
        m.__tablename__: session.scalar(select(func.count()).select_from(m))
        for m in (Borrower, Contact, Loan, Installment, Payment, AuditEvent)
    }


def _versions(session) -> dict[str, list[int]]:
    return {
        m.__tablename__: session.scalars(select(m.version).order_by(m.id)).all()
        for m in (Borrower, Contact, Loan)
    }


def test_good_files_import_in_order(client, auth, session, imported_book):
    assert {k: v["created"] for k, v in imported_book.items()} == {
        "borrowers": 3,
        "contacts": 3,
        "loans": 3,
        "installments": 5,
        "payments": 3,
    }
    c = _counts(session)
    assert (c["borrower"], c["contact"], c["loan"], c["installment"], c["payment"]) == (3, 3, 3, 5, 3)
    phones = set(session.scalars(select(Contact.phone)))
    assert phones == {"+8613800138000", "+8613912345678", "+862162345678"}
    cl001 = session.scalar(select(Loan).where(Loan.external_id == "CL001"))
    assert str(cl001.principal_paid) == "400000.00"
    assert cl001.scheduled_principal == 600000  # the rest of the principal falls due at maturity


def test_reimporting_the_same_good_files_changes_nothing(client, auth, session, imported_book):
    before_counts, before_versions = _counts(session), _versions(session)
    for kind, content in FILES.items():
        r = post_csv(client, auth("integration"), kind, content)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["created"], body["updated"]) == (0, 0), f"{kind}: {body}"
        assert body["unchanged"] == body["rows"]
    session.expire_all()
    assert _counts(session) == before_counts  # no new rows, no new audit events
    assert _versions(session) == before_versions


def test_a_changed_row_updates_only_that_record_and_audits_the_difference(
    client, auth, session, imported_book
):
    changed = BORROWERS.replace("CB002,广州鼎盛商贸有限公司", "CB002,广州鼎盛国际贸易有限公司")
    r = post_csv(client, auth("integration"), "borrowers", changed)
    assert (r.json()["updated"], r.json()["unchanged"]) == (1, 2)
    ev = session.scalars(select(AuditEvent).where(AuditEvent.action == "borrower.update")).one()
    assert ev.after == {"name": ["广州鼎盛商贸有限公司", "广州鼎盛国际贸易有限公司"]}


def _rejected(r) -> list[tuple[int, str, str]]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["type"].endswith("/import-rejected")
    assert "nothing was imported" in body["detail"]
    return [(e["row"], e["column"], e["message"]) for e in body["errors"]]


def test_borrowers_file_with_a_bad_uscc_imports_nothing(client, auth, session):
    bad = BORROWERS.replace(uscc(2), uscc(2)[:-1] + ("0" if uscc(2)[-1] != "0" else "1"))
    before = _counts(session)
    errors = _rejected(post_csv(client, auth("integration"), "borrowers", bad))
    assert len(errors) == 1
    row, column, message = errors[0]
    assert (row, column) == (3, "uscc")  # row 1 is the header
    assert "check character" in message
    assert _counts(session) == before


def test_payments_file_reports_every_bad_row_and_imports_nothing(client, auth, session, imported_book):
    before = _counts(session)
    bad = PAYMENTS + (
        "CP004,CL001,2026/03/15,100.00\n"  # row 5: unparseable date
        "CP005,CL001,2026-03-15,-100.00\n"  # row 6: negative amount
        "CP006,CL999,2026-03-15,100.00\n"  # row 7: unknown loan
        "CP007,CL002,2026-03-10,1604.17\n"  # row 8: good
    )
    r = post_csv(
        client,
        auth("integration"),
        "payments",
        bad.replace("CP001", "CP101").replace("CP002", "CP102").replace("CP003", "CP103"),
    )
    errors = _rejected(r)
    by_row = {row: (col, msg) for row, col, msg in errors}
    assert sorted(by_row) == [5, 6, 7]
    assert by_row[5][0] == "paid_on" and "date" in by_row[5][1]
    assert by_row[6][0] == "amount" and "greater than 0" in by_row[6][1]
    assert by_row[7][0] == "loan_external_id" and "CL999" in by_row[7][1]
    session.expire_all()
    assert _counts(session) == before


def test_installments_file_with_bad_date_and_unknown_loan_imports_nothing(
    client, auth, session, imported_book
):
    before = _counts(session)
    bad = (
        "loan_external_id,seq,due_on,principal_due,interest_due\n"
        "CL003,1,2026-01-01,100000.00,11875.00\n"
        "CL003,2,31.02.2026,100000.00,11875.00\n"
        "CL404,1,2026-03-01,100000.00,100.00\n"
        "CL003,3,2026-03-01,-5.00,100.00\n"
    )
    errors = _rejected(post_csv(client, auth("integration"), "installments", bad))
    assert [(row, col) for row, col, _ in errors] == [
        (3, "due_on"),
        (4, "loan_external_id"),
        (5, "principal_due"),
    ]
    session.expire_all()
    assert _counts(session) == before


def test_a_file_without_a_required_column_is_rejected_before_any_row(client, auth, session):
    no_uscc = "external_id,name,industry\nCB001,深圳华信电子科技有限公司,制造业\n"
    errors = _rejected(post_csv(client, auth("integration"), "borrowers", no_uscc))
    assert errors == [(1, "uscc", "required column is missing")]


def test_a_file_that_is_not_utf8_gets_a_clear_error(client, auth, session):
    gbk = BORROWERS.encode("gbk")
    before = _counts(session)
    r = post_csv(client, auth("integration"), "borrowers", gbk)
    assert r.status_code == 422
    assert "not UTF-8" in r.json()["detail"]
    assert _counts(session) == before


def test_a_utf8_bom_from_excel_is_accepted(client, auth, session):
    r = post_csv(client, auth("integration"), "borrowers", "\ufeff" + BORROWERS)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3


def test_the_same_key_twice_in_one_file_is_reported(client, auth, session):
    dup = BORROWERS + BORROWERS.splitlines()[1].replace(uscc(1), uscc(9)) + "\n"
    errors = _rejected(post_csv(client, auth("integration"), "borrowers", dup))
    assert (5, "external_id", "appears twice in this file") in errors


def test_unknown_kind_is_refused(client, auth):
    r = post_csv(client, auth("integration"), "cases", BORROWERS)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "kind"
