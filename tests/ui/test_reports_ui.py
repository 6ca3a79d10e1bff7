"""Dashboard charts and the Reports page on the reports API, in a real browser: every chart's table
shows the API's numbers (both languages), the numbers are on hover too, the slice selector and
downloads work, and collectors are kept out of what the API keeps from them."""

from __future__ import annotations

import re
import urllib.request
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def yuan(v: str, prefix: str = "CN¥") -> str:
    return f"{prefix}{Decimal(v):,.2f}"


def pct(v: float | None) -> str:
    # Intl percent with at most 2 decimals, e.g. 0.180259 -> "18.03%", 0.5 -> "50%"
    if v is None:
        return "—"
    text = f"{round(v * 100, 2):,.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def test_cases_by_stage_chart_and_table_match_the_api(login, page, api_as):
    data = api_as("supervisor").get("/api/v1/reports/stages")
    assert data["stages"], "the demo sweep opens cases"
    login("supervisor", "en")
    table = page.locator("#stage-table")
    expect(table.locator("tbody tr")).to_have_count(len(data["stages"]))
    for s in data["stages"]:
        row = table.locator(f"tbody tr[data-key='{s['stage']}']")
        expect(row.locator("td").nth(0)).to_have_text(f"{s['cases']:,}")
        expect(row.locator("td").nth(1)).to_have_text(yuan(s["outstanding"]))
        expect(row.locator("td").nth(2)).to_have_text(yuan(s["overdue"]))
    expect(table.locator("tfoot td").first).to_have_text(f"{data['total_cases']:,}")
    # hover a bar: the same numbers in the tooltip
    s = max(data["stages"], key=lambda x: x["cases"])
    chart = page.locator("section", has=page.locator("#stage-table")).locator("svg.chart")
    chart.locator(f"g.bar[data-key='{s['stage']}']").hover()
    tip = page.locator("section", has=page.locator("#stage-table")).locator(".chart-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(f"Cases: {s['cases']:,}")
    expect(tip).to_contain_text(yuan(s["overdue"]))


def test_trend_chart_has_a_point_per_snapshot_with_numbers_on_hover(login, page, api_as):
    api = api_as("risk")
    month = api.get("/api/v1/reports/trend?interval=month")["series"]
    day = api.get("/api/v1/reports/trend?interval=day")["series"]
    assert len(day) > 1, "the UI test book has a month of nightly snapshots"
    login("risk", "zh-CN")
    rows = page.locator("#trend-table tbody tr")
    expect(rows).to_have_count(len(month))
    last = month[-1]
    row = page.locator(f"#trend-table tbody tr[data-key='{last['snapshot_date']}']")
    expect(row.locator("td").nth(0)).to_have_text(f"{last['loans']:,}")
    expect(row.locator("td").nth(2)).to_have_text(yuan(last["overdue"], "¥"))
    expect(row.locator("td").nth(3)).to_have_text(pct(last["par30"]))
    page.get_by_role("button", name="每日（30 天）").click()
    expect(page.locator("#trend-table tbody tr")).to_have_count(len(day))
    points = page.locator("svg.line-chart g.point")
    expect(points).to_have_count(len(day))
    # each point carries its numbers as an SVG title (hover) and in the tooltip on focus; the pointer is moved
    # off the chart first (after the click it may rest on another point, whose hover would win)
    page.mouse.move(0, 0)
    points.last.focus()
    tip = page.locator("section", has=page.locator("#trend-table")).locator(".chart-tip")
    expect(tip).to_contain_text(yuan(day[-1]["outstanding"], "¥"))
    assert yuan(day[0]["overdue"], "¥") in points.first.locator("title").text_content()


def test_promises_and_notices_match_the_api_for_a_chosen_period(login, page, api_as):
    api = api_as("supervisor")
    login("supervisor", "en")
    first = page.locator("#period-form input[name=from]")
    start = first.input_value()
    end = page.locator("#period-form input[name=to]").input_value()
    # widen the period back 40 days so the history's notices are in it
    wider = (date.fromisoformat(start) - timedelta(days=40)).isoformat()
    first.fill(wider)
    page.locator("#period-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(f"from={wider}"))
    notices = api.get(f"/api/v1/reports/notices?from={wider}&to={end}")
    rates = api.get(f"/api/v1/reports/rates?from={wider}&to={end}")
    foot = page.locator("#notice-table tfoot td")
    for i, key in enumerate(["queued", "sent", "delivered", "failed", "deferred_now", "cancelled"]):
        expect(foot.nth(i)).to_have_text(f"{notices['totals'][key]:,}")
    expect(page.locator("#notice-table tbody tr")).to_have_count(len(notices["by_template"]))
    pk = rates["promise_kept"]
    for key in ("kept", "broken", "partially_paid", "open", "cancelled"):
        expect(page.locator(f"#promise-table tbody tr[data-key={key}] td")).to_have_text(f"{pk[key]:,}")
    expect(page.locator("#kept-rate .kpi-val")).to_have_text(pct(pk["rate"]))


def test_reports_page_aging_slices_roll_matrix_rates_and_downloads(login, page, api_as, ui_server):
    api = api_as("supervisor")
    aging = api.get("/api/v1/reports/aging?by=region")
    login("supervisor", "en")
    page.locator("nav a[data-nav=reports]").click()
    expect(page.locator("h1")).to_have_text("Reports")
    page.locator("#report-form select[name=by]").select_option("region")
    page.locator("#report-form button[type=submit]").click()
    slices = page.locator("#aging-slices tbody tr")
    expect(slices).to_have_count(len(aging["groups"]))
    for g in aging["groups"]:
        row = page.locator(f"#aging-slices tbody tr[data-key='{g['key']}']")
        expect(row.locator("td").first).to_have_text(f"{g['loans']:,}")
        expect(row.locator("td").last).to_have_text(pct(g["par90"]))
    for b in aging["total"]["buckets"]:
        expect(page.locator(f"tr[data-bucket='{b['bucket']}'] td").nth(1)).to_have_text(yuan(b["outstanding"]))
    # roll-rate heat map: the months of the form, the API's rates in the cells
    rr_from = page.locator("#report-form input[name=rr_from]").input_value()
    rr_to = page.locator("#report-form input[name=rr_to]").input_value()
    roll = api.get(f"/api/v1/reports/roll-rates?from={rr_from}&to={rr_to}")
    for r in roll["rows"]:
        for col in roll["columns"]:
            cell = page.locator(f"#roll-matrix tr[data-bucket='{r['bucket']}'] td[data-col='{col}']")
            expect(cell).to_have_text(pct(r["rates_balance"][col]))
    # the rates table
    rates = api.get("/api/v1/reports/rates")
    expect(page.locator("tr[data-rate=cure] td").first).to_have_text(pct(rates["cure"]["rate_balance"]))
    # downloads are the same report as CSV and XLSX
    link = page.locator("a[data-report=aging][data-format=csv]")
    href = link.get_attribute("href")
    assert "by=region" in href and "format=csv" in href
    with page.expect_download() as dl:
        page.locator("a[data-report=roll-rates][data-format=xlsx]").click()
    assert dl.value.suggested_filename.endswith(".xlsx")
    req = urllib.request.Request(ui_server + href, headers=api.headers)  # noqa: S310 - local server
    with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - local server
        assert r.headers["content-type"].startswith("text/csv")


def test_collector_sees_the_book_but_not_the_reports(login, page, api_as, ui_server):
    login("collector", "en")
    expect(page.locator("#bucket-table")).to_be_visible()
    expect(page.locator("#stage-table")).to_have_count(0)
    expect(page.locator("nav a[data-nav=reports]")).to_have_count(0)
    page.goto(f"{ui_server}/#/reports")
    expect(page.locator("h1")).to_have_text("Not allowed")
    assert api_as("collector").status("/api/v1/reports/aging") == 403
    assert api_as("collector").status("/api/v1/reports/stages") == 403


def test_reports_page_in_chinese_with_yuan_and_category_names(login, page, api_as, ui_server):
    aging = api_as("auditor").get("/api/v1/reports/aging")
    login("auditor", "zh-CN")
    page.locator("nav a[data-nav=reports]").click()
    expect(page.locator("h1")).to_have_text("报表")
    normal = next(c for c in aging["total"]["categories"] if c["category"] == "normal")
    row = page.locator("tr[data-category=normal]")
    expect(row.locator("th")).to_have_text("正常")
    expect(row.locator("td").nth(1)).to_have_text(yuan(normal["outstanding"], "¥"))
    expect(page.locator("#roll-matrix caption")).to_have_text("按余额计的迁徙矩阵（每行合计 100%）")
    expect(page.locator("a[data-report=collectors][data-format=xlsx]")).to_have_text("Excel（XLSX）")


def test_documents_download_from_the_reports_and_borrower_pages_in_the_page_language(login, page, api_as, ui_server):
    """The PDF documents are one click away, generated in the page's language; collectors get no link."""
    login("supervisor", "zh-CN")
    page.locator("nav a[data-nav=reports]").click()
    link = page.locator("a[data-document=portfolio-pdf]")
    expect(link).to_contain_text("月度资产组合报告")
    assert "locale=zh_CN" in link.get_attribute("href")
    with page.expect_download() as dl:
        link.click()
    assert dl.value.suggested_filename.endswith(".pdf")
    assert Path(dl.value.path()).read_bytes()[:5] == b"%PDF-"
    warn = page.locator("a[data-document=warnings]").get_attribute("href")
    assert "from=" in warn and "to=" in warn
    borrower = api_as("supervisor").get("/api/v1/borrowers?size=1")["items"][0]
    page.goto(f"{ui_server}/#/borrowers/{borrower['id']}")
    post_loan = page.locator("a[data-document=post-loan]")
    expect(post_loan).to_have_text("贷后管理报告（PDF）")
    with page.expect_download() as dl:
        post_loan.click()
    assert Path(dl.value.path()).read_bytes()[:5] == b"%PDF-"


def test_collector_gets_no_document_link(login, page, api_as, ui_server):
    borrower = api_as("collector").get("/api/v1/borrowers?size=1")["items"][0]
    login("collector", "en")
    page.goto(f"{ui_server}/#/borrowers/{borrower['id']}")
    expect(page.locator("h1")).to_have_text(borrower["name"])
    expect(page.locator("a[data-document=post-loan]")).to_have_count(0)
