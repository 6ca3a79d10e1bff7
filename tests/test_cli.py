"""The `collections-svc` command against a real, migrated SQLite file."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from collections_svc.cli import app
from collections_svc.config import get_settings
from tests.imports.conftest import BORROWERS, INSTALLMENTS, LOANS, uscc


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    """A fresh SQLite file migrated to head through the CLI itself; returns (runner, db url)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("COLLECTIONS_DATABASE__URL", url)
    monkeypatch.setenv("COLLECTIONS_ENV", "test")
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    get_settings.cache_clear()
    runner = CliRunner()
    r = runner.invoke(app, ["migrate"])
    assert r.exit_code == 0, r.output
    yield runner, url
    get_settings.cache_clear()


def _scalar(url: str, sql: str):
    eng = create_engine(url)
    try:
        with eng.connect() as c:
            return c.execute(text(sql)).scalar()
    finally:
        eng.dispose()


def _write(tmp_path, name: str, content: str | bytes):
    p = tmp_path / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(p)


def test_create_user_makes_the_first_admin(cli_db):
    runner, url = cli_db
    r = runner.invoke(app, ["create-user", "boss", "--role", "admin", "--password", "a-very-long-secret"])
    assert r.exit_code == 0, r.output
    assert "User boss (admin) created." in r.output
    assert _scalar(url, "SELECT role FROM app_user WHERE username = 'boss'") == "admin"
    again = runner.invoke(app, ["create-user", "boss", "--role", "admin", "--password", "a-very-long-secret"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad_role = runner.invoke(app, ["create-user", "x", "--role", "king", "--password", "a-very-long-secret"])
    assert bad_role.exit_code == 2 and "Unknown role" in bad_role.output


def test_import_good_files_then_reimport_changes_nothing(cli_db, tmp_path):
    runner, url = cli_db
    for kind, content in (("borrowers", BORROWERS), ("loans", LOANS), ("installments", INSTALLMENTS)):
        r = runner.invoke(app, ["import", kind, _write(tmp_path, f"{kind}.csv", content)])
        assert r.exit_code == 0, r.output
    assert "5 rows: 5 created, 0 updated, 0 unchanged." in r.output
    audit = _scalar(url, "SELECT COUNT(*) FROM audit_event")
    r = runner.invoke(app, ["import", "borrowers", _write(tmp_path, "borrowers.csv", BORROWERS)])
    assert r.exit_code == 0
    assert "3 rows: 0 created, 0 updated, 3 unchanged." in r.output
    assert _scalar(url, "SELECT COUNT(*) FROM audit_event") == audit


def test_import_with_bad_rows_exits_1_prints_a_table_and_imports_nothing(cli_db, tmp_path):
    runner, url = cli_db
    bad = (
        BORROWERS + f"CB004,西安汇通置业有限公司,{uscc(4)[:-1]}0,房地产业,西北,,Asia/Shanghai,zh_CN\n"
        "CB005,,91440300000000005X,制造业,华南,,Mars/Base,xx\n"
    )
    r = runner.invoke(app, ["import", "borrowers", _write(tmp_path, "bad.csv", bad)])
    assert r.exit_code == 1
    out = r.output
    assert "nothing was imported" in out
    for header in ("row", "column", "problem"):
        assert header in out
    for expected in ("uscc", "check character", "name", "timezone", "language"):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert _scalar(url, "SELECT COUNT(*) FROM borrower") == 0


def test_import_of_a_non_utf8_file_exits_1_with_a_clear_message(cli_db, tmp_path):
    runner, url = cli_db
    r = runner.invoke(app, ["import", "borrowers", _write(tmp_path, "gbk.csv", BORROWERS.encode("gbk"))])
    assert r.exit_code == 1
    assert "not UTF-8" in r.output
    assert _scalar(url, "SELECT COUNT(*) FROM borrower") == 0


def test_dpd_prints_the_bucket_summary(cli_db, tmp_path):
    runner, url = cli_db
    for kind, content in (("borrowers", BORROWERS), ("loans", LOANS), ("installments", INSTALLMENTS)):
        assert runner.invoke(app, ["import", kind, _write(tmp_path, f"{kind}.csv", content)]).exit_code == 0
    r = runner.invoke(app, ["dpd", "--as-of", "2026-04-01"])
    assert r.exit_code == 0, r.output
    assert "DPD as of 2026-04-01" in r.output
    for code in ("M0", "M1", "M2", "M3", "M4", "M7"):
        assert code in r.output
    # CL001's January installment is the oldest unpaid: 76 days past due on 2026-04-01.
    assert _scalar(url, "SELECT dpd FROM loan WHERE external_id = 'CL001'") == 76


def test_production_with_the_placeholder_secret_refuses_to_start(cli_db, monkeypatch):
    runner, _ = cli_db
    monkeypatch.setenv("COLLECTIONS_ENV", "production")
    monkeypatch.delenv("COLLECTIONS_SECURITY__SECRET_KEY", raising=False)
    get_settings.cache_clear()
    r = runner.invoke(app, ["migrate"])  # not "serve": a regression must not hang the suite
    assert r.exit_code == 2
    assert "will not start" in r.output
    assert "COLLECTIONS_SECURITY__SECRET_KEY is a placeholder" in r.output
    assert "Traceback" not in r.output


def test_demo_seeds_a_book_with_a_history_of_swept_nights(cli_db, monkeypatch):
    """The demo's dashboard trends and roll rates need past snapshots: each past night is swept in order."""
    runner, url = cli_db
    monkeypatch.setenv("COLLECTIONS_DEMO_PASSWORD", "demo-password-for-the-test")
    r = runner.invoke(app, ["demo", "--no-serve", "--borrowers", "12", "--history-days", "3"])
    assert r.exit_code == 0, r.output
    assert "Swept 4 nights up to" in r.output and "demo-password-for-the-test" in r.output
    assert _scalar(url, "SELECT COUNT(DISTINCT business_date) FROM snapshot_day") == 4
    assert _scalar(url, "SELECT COUNT(*) FROM sweep_run") == 4
    assert _scalar(url, "SELECT COUNT(*) FROM borrower") == 12
    again = runner.invoke(app, ["demo", "--no-serve"])
    assert again.exit_code == 0 and "already seeded" in again.output
    assert _scalar(url, "SELECT COUNT(*) FROM sweep_run") == 4


def test_demo_book_shows_collectors_work_in_the_reports(cli_db, monkeypatch):
    """The dashboard's promise, right-party-contact and notice figures are not empty in the demo: between
    the past nights the assigned collectors call (CN-COL-01: the borrower's own people), take promises that
    are paid or broken, and the queued notices are sent through the console channel."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from collections_svc.reports import analytics

    runner, url = cli_db
    monkeypatch.setenv("COLLECTIONS_DEMO_PASSWORD", "demo-password-for-the-test")
    r = runner.invoke(app, ["demo", "--no-serve", "--borrowers", "40", "--history-days", "20"])
    assert r.exit_code == 0, r.output
    eng = create_engine(url)
    try:
        with Session(eng) as s:
            end = s.scalar(text("SELECT MAX(business_date) FROM sweep_run"))
            end = dt.date.fromisoformat(str(end))
            start = end - dt.timedelta(days=20)
            promises = analytics.promise_kept(s, start, end)
            assert promises["due"] > 0 and promises["kept"] > 0
            assert promises["broken"] + promises["partially_paid"] > 0
            assert analytics.rpc(s, start, end)["right_party_contacts"] > 0
            assert analytics.notices(s, start, end)["totals"]["sent"] > 0
            # Contacts are made by the case's assignee, on the borrower's own contacts only.
            assert s.scalar(text(
                "SELECT COUNT(*) FROM contact_log cl JOIN collection_case c ON c.id = cl.case_id "
                "JOIN app_user u ON u.id = c.assignee_id WHERE cl.actor <> u.username")) == 0
            assert s.scalar(text(
                "SELECT COUNT(*) FROM contact_log cl JOIN contact ct ON ct.id = cl.contact_id "
                "WHERE ct.borrower_id <> cl.borrower_id OR ct.role = 'other'")) == 0
    finally:
        eng.dispose()
