"""The reports API: roles, formats (CSV / XLSX parse back to the JSON figures) and bad parameters."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

ENDPOINTS = ["aging?as_of=2026-02-28", "roll-rates?from=2026-01&to=2026-02", "roll-rates/trend?to=2026-02&months=2",
             "migration?from=2026-01-31&to=2026-02-28", "rates?from=2026-02-01&to=2026-02-28",
             "collectors?from=2026-02-01&to=2026-02-28", "notices?from=2026-02-01&to=2026-02-28",
             "stages?as_of=2026-02-28", "trend?from=2026-01-01&to=2026-02-28"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_report_in_three_formats_for_readers(client, auth, book, path):
    for role in ("supervisor", "risk_officer", "admin", "auditor"):
        assert client.get(f"/api/v1/reports/{path}", headers=auth(role)).status_code == 200, role
    sep = "&" if "?" in path else "?"
    r = client.get(f"/api/v1/reports/{path}{sep}format=csv", headers=auth("supervisor"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and ".csv" in r.headers["content-disposition"]
    x = client.get(f"/api/v1/reports/{path}{sep}format=xlsx", headers=auth("supervisor"))
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert client.get(f"/api/v1/reports/{path}").status_code == 401


def test_collector_sees_only_their_own_row_and_no_portfolio_reports(client, auth, book, users):
    r = client.get("/api/v1/reports/collectors?from=2026-02-01&to=2026-02-28", headers=auth("collector"))
    assert r.status_code == 200
    body = r.json()
    assert [c["username"] for c in body["collectors"]] == ["collector1"] and body["teams"] == []
    for path in ("aging", "roll-rates?from=2026-01&to=2026-02", "trend", "notices"):
        resp = client.get(f"/api/v1/reports/{path}", headers=auth("collector"))
        assert resp.status_code == 403 and resp.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/reports/aging", headers=auth("integration")).status_code == 403


def test_roll_rates_csv_and_xlsx_parse_back_to_the_json_figures(client, auth, book):
    q = "/api/v1/reports/roll-rates?from=2026-01-31&to=2026-02-15"     # dates snap to their month-ends
    js = client.get(q, headers=auth("risk_officer")).json()
    assert js["from"]["snapshot_date"] == "2026-01-30" and js["to"]["snapshot_date"] == "2026-02-27"
    m1 = next(r for r in js["rows"] if r["bucket"] == "M1")
    assert m1["balance"] == "750000.00" and m1["balances"]["M2"] == "400000.00"
    text = client.get(q + "&format=csv", headers=auth("risk_officer")).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    cell = next(r for r in rows if r["from_bucket"] == "M1" and r["to"] == "M2")
    assert Decimal(cell["opening_balance"]) == Decimal("400000.00")
    assert float(cell["rate_balance"]) == pytest.approx(m1["rates_balance"]["M2"])
    wb = load_workbook(io.BytesIO(client.get(q + "&format=xlsx", headers=auth("risk_officer")).content))
    ws = wb["roll-rates"]
    head = [c.value for c in ws[1]]
    xrows = [dict(zip(head, [c.value for c in row], strict=True)) for row in ws.iter_rows(min_row=2)]
    xcell = next(r for r in xrows if r["from_bucket"] == "M1" and r["to"] == "M2")
    assert xcell["opening_balance"] == 400000 and xcell["rate_balance"] == pytest.approx(400 / 750, abs=1e-6)
    assert "parameters" in wb.sheetnames


def test_aging_csv_matches_json(client, auth, book):
    js = client.get("/api/v1/reports/aging?as_of=2026-02-28&by=product", headers=auth("auditor")).json()
    assert js["total"]["outstanding"] == "1720000.00" and js["total"]["par90"] == pytest.approx(500 / 1720, abs=1e-6)
    text = client.get("/api/v1/reports/aging?as_of=2026-02-28&by=product&format=csv",
                      headers=auth("auditor")).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    total = next(r for r in rows if r["group"] == "total" and r["kind"] == "total")
    assert Decimal(total["outstanding"]) == Decimal("1720000.00") and int(total["loans"]) == 6
    par90 = next(r for r in rows if r["group"] == "total" and r["kind"] == "par90")
    assert float(par90["share"]) == pytest.approx(500 / 1720, abs=1e-6)
    assert {r["group"] for r in rows} >= {"total", "working_capital", "fixed_asset"}


@pytest.mark.parametrize("path, field", [
    ("aging?by=colour", "by"),
    ("aging?format=pdf", "format"),
    ("roll-rates?from=2026-02&to=2026-01", "from"),
    ("roll-rates?from=2026-02-03&to=2026-02-27", "from"),      # same month: no period
    ("roll-rates?from=last-month&to=2026-02", "from"),
    ("rates?from=2026-03-01&to=2026-02-01", "from"),
    ("trend?interval=day&from=2026-01-01&to=2026-12-31", "from"),
])
def test_bad_parameters_are_problem_json_with_the_field(client, auth, path, field):
    r = client.get(f"/api/v1/reports/{path}", headers=auth("supervisor"))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]
