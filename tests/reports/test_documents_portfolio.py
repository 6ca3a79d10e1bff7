"""The monthly portfolio report (PDF with charts, XLSX) on the analytics' fixture book (conftest.py:
two month-ends of known movements driven through the real sweep): every figure it prints is the one
the /api/v1/reports API returns for the same month."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from collections_svc.reports import documents as docs
from collections_svc.reports.documents_render import fmt_money, fmt_pct

API = "/api/v1/reports"


def flat_text(pdf: bytes) -> str:
    return "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def api(client, auth, path: str, **params) -> dict:
    r = client.get(f"{API}/{path}", params=params, headers=auth("risk_officer"))
    assert r.status_code == 200, r.text
    return r.json()


def test_portfolio_pdf_prints_the_figures_of_the_reports_api(client, auth, book, session, settings):
    r = client.get(f"{API}/documents/portfolio/2026-02.pdf", headers=auth("risk_officer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = flat_text(r.content)
    assert "月度资产组合报告2026-02" in text and "2026-02-27" in text  # the month-end snapshot (a Friday)
    aging = api(client, auth, "aging", as_of="2026-02-28")["total"]
    # conftest: at 02-27 L1 M0 100k, L2 M1 200k, L3 M0 200k, L4 M2 400k, L5 M4 500k, L8 M2 320k.
    assert aging["loans"] == 6 and Decimal(aging["outstanding"]) == Decimal("1720000.00")
    # The charts are drawn, not printed as text: no SVG markup leaks into the PDF text.
    assert "<svg" not in text and "<rect" not in text
    assert fmt_money(Decimal(aging["outstanding"]), "zh_CN").replace(" ", "") in text
    for b in aging["buckets"]:
        if b["loans"]:
            assert fmt_money(Decimal(b["outstanding"]), "zh_CN") in text
            assert fmt_pct(b["share"], "zh_CN") in text
    assert "PAR30" + fmt_pct(aging["par30"], "zh_CN") in text
    assert "PAR90" + fmt_pct(aging["par90"], "zh_CN") in text
    # Roll rates (IND-03): M1's row at January's end, by balance, as the API gives it.
    roll = api(client, auth, "roll-rates", **{"from": "2026-01", "to": "2026-02"})
    m1 = next(row for row in roll["rows"] if row["bucket"] == "M1")
    assert "".join(fmt_pct(m1["rates_balance"][c], "zh_CN") for c in roll["columns"]) in text
    # IND-08 migration and the period rates.
    mig = api(client, auth, "migration", **{"from": "2026-01-31", "to": "2026-02-28"})
    for m in mig["rates"]:
        assert fmt_money(Decimal(m["opening_balance"]), "zh_CN") in text
    rates = api(client, auth, "rates", **{"from": "2026-02-01", "to": "2026-02-28"})
    kept = rates["promise_kept"]["rate"]
    assert kept is not None and fmt_pct(kept, "zh_CN") in text
    # Collector performance (CN-COL-01 note printed) and notice statistics.
    coll = api(client, auth, "collectors", **{"from": "2026-02-01", "to": "2026-02-28"})["collectors"]
    assert coll and all((c["name"] or c["username"]).replace(" ", "") in text for c in coll)
    assert "CN-COL-01" in text and "通知统计" in text


def test_portfolio_xlsx_parses_back_to_the_figures_of_the_api(client, auth, book):
    r = client.get(f"{API}/documents/portfolio/2026-02.xlsx", headers=auth("auditor"))
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    assert {"aging", "by_category", "par", "roll_rates", "migration_rates", "migration_matrix", "rates",
            "collectors", "notices", "notice_failures", "notice_deferrals"} <= set(wb.sheetnames)
    aging = api(client, auth, "aging", as_of="2026-02-28")["total"]
    rows = list(wb["aging"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2], Decimal(str(r[3])).quantize(Decimal("0.01"))) for r in rows] == [
        (b["bucket"], b["loans"], Decimal(b["outstanding"])) for b in aging["buckets"]]
    par = {r[0]: r[1] for r in wb["par"].iter_rows(min_row=2, values_only=True)}
    assert par["par30"] == aging["par30"] and par["par90"] == aging["par90"]
    assert par["total_count"] == aging["loans"]
    roll = api(client, auth, "roll-rates", **{"from": "2026-01", "to": "2026-02"})
    xs = {r[0]: r[1:] for r in wb["roll_rates"].iter_rows(min_row=2, values_only=True)}
    for row in roll["rows"]:
        assert list(xs[row["bucket"]]) == [row["rates_balance"][c] for c in roll["columns"]]
        if row["loans"]:  # every row with loans sums to 100%
            assert abs(sum(v for v in xs[row["bucket"]] if v is not None) - 1) < 1e-6
    mig = api(client, auth, "migration", **{"from": "2026-01-31", "to": "2026-02-28"})
    xm = {r[0]: r for r in wb["migration_rates"].iter_rows(min_row=2, values_only=True)}
    for m in mig["rates"]:
        assert xm[m["category"]][4] == m["rate"]
        assert Decimal(str(xm[m["category"]][1])).quantize(Decimal("0.01")) == Decimal(m["opening_balance"])
    rates = api(client, auth, "rates", **{"from": "2026-02-01", "to": "2026-02-28"})
    xr = {r[0]: r[1] for r in wb["rates"].iter_rows(min_row=2, values_only=True)}
    assert xr["ptp_kept_rate"] == rates["promise_kept"]["rate"]
    assert xr["cure_rate"] == rates["cure"]["rate_balance"]
    assert xr["rpc_rate"] == rates["right_party_contact"]["rate"]
    coll = api(client, auth, "collectors", **{"from": "2026-02-01", "to": "2026-02-28"})["collectors"]
    xc = list(wb["collectors"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[4], r[5]) for r in xc] == [(c["name"] or c["username"], c["contacts"], c["promises_taken"])
                                                for c in coll]


def test_portfolio_figures_are_the_analytics_results(book, session, settings):
    from collections_svc.reports import analytics
    f = docs.portfolio_figures(session, settings, "2026-02")
    a = analytics.aging(session, settings, f.as_of)["total"]
    assert f.total_balance == a["outstanding"] and f.total_count == a["loans"]
    assert [x["balance"] for x in f.aging] == [b["outstanding"] for b in a["buckets"]]


def test_portfolio_report_in_english_and_for_a_month_without_snapshot(client, auth, book):
    r = client.get(f"{API}/documents/portfolio/2026-02.pdf", params={"locale": "en"}, headers=auth("admin"))
    assert r.status_code == 200
    text = flat_text(r.content)
    assert "MonthlyPortfolioReport2026-02" in text and "CN¥" in text and "Roll-ratematrix" in text
    r = client.get(f"{API}/documents/portfolio/2025-06.pdf", params={"locale": "en"}, headers=auth("admin"))
    assert r.status_code == 200
    assert "Nodailysnapshotexistsforthismonth-end" in flat_text(r.content)
