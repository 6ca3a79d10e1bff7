"""Financial statements, ratios, early warnings and the watchlist, through the API."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from collections_svc.loans.dpd import run_dpd
from collections_svc.monitoring.models import EarlyWarning, ReviewTask, WatchlistEntry
from collections_svc.monitoring.warnings import raise_dpd_warnings
from tests.factories import make_loan

API = "/api/v1/monitoring"


def statement(period_end: str, liabilities: str, revenue: str = "5000000.00", **kw) -> dict:
    body = {
        "period_end": period_end,
        "period_type": "annual",
        "total_assets": "10000000.00",
        "total_liabilities": liabilities,
        "current_assets": "4000000.00",
        "current_liabilities": "2500000.00",
        "inventory": "1000000.00",
        "cash": "800000.00",
        "revenue": revenue,
        "operating_profit": "900000.00",
        "net_profit": "600000.00",
        "interest_expense": "200000.00",
        "operating_cash_flow": "700000.00",
    }
    body.update(kw)
    return body


def borrower_with_rm(session, users, industry=None):
    loan = make_loan(session, schedule=[("2026-12-31", "1000000.00", "0.00")])
    loan.borrower.relationship_manager_id = users["collector"].id
    loan.borrower.industry = industry
    session.commit()
    return loan.borrower


def test_debt_to_asset_over_threshold_raises_warning_with_evidence_and_review_task(
    client, auth, session, users
):
    b = borrower_with_rm(session, users)
    r = client.post(
        f"{API}/borrowers/{b.id}/statements",
        json=statement("2024-12-31", "6000000.00"),
        headers=auth("risk_officer"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["warnings"] == []
    assert r.json()["statement"]["ratios"]["debt_to_asset"] == "0.6000"
    r = client.post(
        f"{API}/borrowers/{b.id}/statements",
        json=statement("2025-12-31", "7500000.00"),
        headers=auth("risk_officer"),
    )
    assert r.status_code == 201, r.text
    ws = r.json()["warnings"]
    assert [w["code"] for w in ws] == ["debt_to_asset"]
    ev = ws[0]["evidence"]
    assert (ev["ratio"], ev["value"], ev["threshold"], ev["period_end"]) == (
        "debt_to_asset",
        "0.7500",
        "0.70",
        "2025-12-31",
    )
    assert ws[0]["severity"] == "high" and ws[0]["rule_id"] == "EW-RATIO-debt_to_asset"
    assert ws[0]["owner_id"] == users["collector"].id
    task = session.scalars(select(ReviewTask).where(ReviewTask.borrower_id == b.id)).one()
    assert (task.kind, task.assignee_id, task.evidence["warning_id"]) == (
        "ad_hoc",
        users["collector"].id,
        ws[0]["id"],
    )
    assert (
        session.scalars(select(WatchlistEntry).where(WatchlistEntry.borrower_id == b.id)).one().warning_id
        == ws[0]["id"]
    )
    # Re-submitting the same period is a correction and raises nothing new.
    r = client.post(
        f"{API}/borrowers/{b.id}/statements",
        json=statement("2025-12-31", "7500000.00"),
        headers=auth("risk_officer"),
    )
    assert r.json()["warnings"] == []
    report = client.get(f"{API}/borrowers/{b.id}/warnings", headers=auth("auditor")).json()
    assert report["on_watchlist"] is True and len(report["warnings"]) == 1
    assert report["latest_statement"]["period_end"] == "2025-12-31"


def test_industry_threshold_replaces_the_general_one(client, auth, session, users):
    b = borrower_with_rm(session, users, industry="real_estate")
    r = client.post(
        f"{API}/borrowers/{b.id}/statements",
        json=statement("2025-12-31", "8000000.00"),
        headers=auth("risk_officer"),
    )
    assert r.json()["warnings"] == []  # 80% is under the 85% real-estate threshold


def test_revenue_down_more_than_30_percent_is_a_deterioration_warning(client, auth, session, users):
    b = borrower_with_rm(session, users)
    client.post(
        f"{API}/borrowers/{b.id}/statements",
        json=statement("2024-12-31", "5000000.00", "10000000.00"),
        headers=auth("risk_officer"),
    )
    r = client.post(
        f"{API}/borrowers/{b.id}/statements",
        json=statement("2025-12-31", "5000000.00", "6900000.00"),
        headers=auth("risk_officer"),
    )
    ws = {w["code"]: w for w in r.json()["warnings"]}
    assert ws["revenue_drop"]["evidence"]["value"] == "-0.3100"
    assert ws["revenue_drop"]["evidence"]["previous_period_end"] == "2024-12-31"


def test_bad_statement_is_rejected_and_changes_nothing(client, auth, session, users):
    b = borrower_with_rm(session, users)
    r = client.post(
        f"{API}/borrowers/{b.id}/statements",
        json=statement("2025-12-31", "-1.00"),
        headers=auth("risk_officer"),
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"{API}/borrowers/{b.id}/statements", headers=auth("auditor")).json() == []


def test_csv_import_is_all_or_nothing(client, auth, session, users):
    b = borrower_with_rm(session, users)
    head = (
        "borrower_external_id,period_end,period_type,total_assets,total_liabilities,current_assets,"
        "current_liabilities,inventory,cash,revenue,operating_profit,net_profit,interest_expense,operating_cash_flow\n"
    )
    good = (
        f"{b.external_id},2025-12-31,annual,100.00,90.00,40.00,20.00,10.00,5.00,50.00,5.00,3.00,1.00,2.00\n"
    )
    bad = f"{b.external_id},2024-13-31,annual,100.00,abc,40.00,20.00,10.00,5.00,50.00,5.00,3.00,1.00,2.00\n"
    r = client.post(
        f"{API}/statements/import",
        files={"file": ("s.csv", head + good + bad, "text/csv")},
        headers=auth("risk_officer"),
    )
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {
        (3, "period_end"),
        (3, "total_liabilities"),
    }
    assert client.get(f"{API}/borrowers/{b.id}/statements", headers=auth("auditor")).json() == []
    r = client.post(
        f"{API}/statements/import",
        files={"file": ("s.csv", head + good, "text/csv")},
        headers=auth("risk_officer"),
    )
    assert r.json() == {"statements": 1, "warnings": 1}  # 90% debt-to-asset
    csv_out = client.get(f"{API}/borrowers/{b.id}/statements.csv", headers=auth("auditor")).text
    assert csv_out.splitlines()[1].startswith(f"{b.external_id},2025-12-31,annual,100.00,90.00")


def test_staff_signal_and_status_workflow(client, auth, session, users):
    b = borrower_with_rm(session, users)
    r = client.post(
        f"{API}/borrowers/{b.id}/signals",
        headers=auth("risk_officer"),
        json={"signal": "litigation", "observed_on": "2026-03-30", "note": "Sued by main supplier"},
    )
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["severity"], w["rule_id"], w["evidence"]["note"]) == (
        "high",
        "EW-SIG-litigation",
        "Sued by main supplier",
    )
    assert (
        client.post(
            f"{API}/borrowers/{b.id}/signals",
            headers=auth("auditor"),
            json={"signal": "litigation", "observed_on": "2026-03-30", "note": "x"},
        ).status_code
        == 403
    )
    r = client.patch(
        f"{API}/warnings/{w['id']}",
        headers=auth("supervisor"),
        json={"status": "closed", "version": w["version"], "note": "Settled out of court"},
    )
    assert r.json()["status"] == "closed"
    r = client.patch(
        f"{API}/warnings/{w['id']}",
        headers=auth("supervisor"),
        json={"status": "open", "version": w["version"]},
    )
    assert r.status_code == 409
    listed = client.get(f"{API}/warnings", params={"status": "closed"}, headers=auth("auditor")).json()
    assert [x["id"] for x in listed] == [w["id"]]


def test_dpd_warnings_are_set_based_and_once_per_episode(session, settings):
    loan = make_loan(session, schedule=[("2026-01-01", "1000.00", "0.00")])
    run_dpd(session, dt.date(2026, 4, 1), settings.dpd)  # DPD 90
    assert raise_dpd_warnings(session, dt.date(2026, 4, 1), settings) == 3  # 30, 60 and 90
    assert raise_dpd_warnings(session, dt.date(2026, 4, 1), settings) == 0
    ws = session.scalars(
        select(EarlyWarning).where(EarlyWarning.loan_id == loan.id).order_by(EarlyWarning.id)
    ).all()
    assert [(w.code, w.severity) for w in ws] == [
        ("dpd_30", "medium"),
        ("dpd_60", "high"),
        ("dpd_90", "severe"),
    ]
    assert ws[2].evidence["dpd"] == 90
    tasks = session.scalars(select(ReviewTask).where(ReviewTask.loan_id == loan.id)).all()
    assert len(tasks) == 2  # high and severe
    assert session.scalars(select(WatchlistEntry).where(WatchlistEntry.borrower_id == loan.borrower_id)).one()


def test_xlsx_import_uses_the_same_layout_and_rules(client, auth, session, users):
    import datetime as dt
    import io

    from openpyxl import Workbook

    b = borrower_with_rm(session, users)
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "borrower_external_id",
            "period_end",
            "period_type",
            "total_assets",
            "total_liabilities",
            "current_assets",
            "current_liabilities",
            "inventory",
            "cash",
            "revenue",
            "operating_profit",
            "net_profit",
            "interest_expense",
            "operating_cash_flow",
        ]
    )
    ws.append([b.external_id, dt.datetime(2025, 12, 31), "annual", 100, 50, 40, 20, 10, 5, 50, 5, 3, 1, 2.5])
    ws.append([b.external_id, dt.datetime(2024, 12, 31), "annual", 100, 50, 140, 20, 10, 5, 50, 5, 3, 1, 2])
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post(
        f"{API}/statements/import",
        files={"file": ("s.xlsx", buf.getvalue(), "application/octet-stream")},
        headers=auth("risk_officer"),
    )
    assert r.status_code == 422  # row 3: current assets above total assets
    assert [e["row"] for e in r.json()["errors"]] == [3]
    ws.delete_rows(3)
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post(
        f"{API}/statements/import",
        files={"file": ("s.xlsx", buf.getvalue(), "application/octet-stream")},
        headers=auth("risk_officer"),
    )
    assert r.status_code == 200, r.text
    got = client.get(f"{API}/borrowers/{b.id}/statements", headers=auth("auditor")).json()
    assert [(s["period_end"], s["operating_cash_flow"], s["source"]) for s in got] == [
        ("2025-12-31", "2.50", "xlsx")
    ]
