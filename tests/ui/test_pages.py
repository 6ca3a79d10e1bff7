"""The UI in a real browser: login, dashboard chart and numbers, language switch, borrower and loan pages,
role visibility, and that user text is rendered as text (no script runs)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from collections_svc.ui.demo_server import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_collector_sees_dashboard_chart_and_numbers(login, api_as):
    page = login("collector")
    expect(page.locator("h1")).to_have_text("资产组合仪表盘")
    lines = api_as("collector").get("/api/v1/book/buckets")
    bars = page.locator("svg.chart g.bar")
    expect(bars).to_have_count(len(lines))
    rows = page.locator("#bucket-table tbody tr")
    expect(rows).to_have_count(len(lines))
    for line in lines:
        row = page.locator(f"#bucket-table tbody tr[data-bucket='{line['bucket']}']")
        expect(row.locator("td").nth(1)).to_have_text(str(line["loans"]))
        # zh-CN currency format of the exact decimal, e.g. ¥1,234,567.89
        expect(row.locator("td").nth(2)).to_have_text(f"¥{Decimal(line['outstanding_principal']):,.2f}")
    total = sum(line["loans"] for line in lines)
    expect(page.locator("#bucket-table tfoot td").first).to_have_text(f"{total:,}")
    # Hover a bar: the tooltip shows that bucket's numbers.
    overdue_line = next(line for line in lines if line["loans"] and line["bucket"] != lines[0]["bucket"])
    page.locator(f"svg.chart g.bar[data-key='{overdue_line['bucket']}'] rect.hit").hover()
    tip = page.locator(".chart-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(f"¥{Decimal(overdue_line['overdue_amount']):,.2f}")


def test_language_switch_shows_english_and_persists(login, page, ui_server):
    login("collector")
    page.locator("#lang").select_option("en")
    expect(page.locator("h1")).to_have_text("Portfolio dashboard")
    expect(page.locator("nav a[data-nav=borrowers]")).to_have_text("Borrowers")
    expect(page.locator("#bucket-table thead")).to_contain_text("Outstanding principal")
    expect(page.locator("#bucket-table tbody td.num").nth(1)).to_have_text(re.compile(r"^CN¥[\d,]+\.\d\d$"))
    # Only the locale is kept in the browser, and it survives a reload.
    assert page.evaluate("Object.keys(localStorage)") == ["cs_locale"]
    page.reload()
    expect(page.locator("h1")).to_have_text("Portfolio dashboard")
    page.locator("#lang").select_option("zh-CN")
    expect(page.locator("h1")).to_have_text("资产组合仪表盘")


def test_borrower_and_loan_schedule(login, page, api_as):
    api = api_as("collector")
    overdue = api.get("/api/v1/loans?dpd_min=31&size=1")["items"][0]
    borrower = api.get(f"/api/v1/borrowers/{overdue['borrower_id']}")
    login("collector", "en")
    page.locator("nav a[data-nav=borrowers]").click()
    page.locator("input[name=q]").fill(borrower["name"])
    page.locator("form.search button").click()
    page.get_by_role("link", name=borrower["name"]).click()
    expect(page.locator("h1")).to_have_text(borrower["name"])
    expect(page.locator(".facts")).to_contain_text(borrower["uscc"])
    for contact in borrower["contacts"]:
        expect(page.locator("table").filter(has_text="Legal representative")).to_contain_text(contact["name"])
    page.get_by_role("link", name=overdue["contract_no"]).click()
    expect(page.locator("h1")).to_have_text(f"Loan {overdue['contract_no']}")
    loan = api.get(f"/api/v1/loans/{overdue['id']}")
    schedule = page.locator("table").filter(has_text="Due date")
    expect(schedule.locator("tbody tr")).to_have_count(len(loan["installments"]))
    # The overdue column adds up to the loan's overdue amount, and overdue rows are marked.
    expect(schedule.locator("tfoot td").nth(5)).to_have_text(f"CN¥{Decimal(loan['overdue_amount']):,.2f}")
    expect(schedule.locator("tbody tr.overdue").first).to_contain_text("Overdue")
    payments = api.get(f"/api/v1/loans/{overdue['id']}/payments")
    paid = sum(Decimal(p["amount"]) - Decimal(p["unapplied"]) for p in payments)
    expect(schedule.locator("tfoot td").nth(3)).to_have_text(f"CN¥{paid:,.2f}")


def test_collector_has_no_admin_page(login, page, ui_server):
    login("collector", "en")
    expect(page.locator("nav a[data-nav=dashboard]")).to_be_visible()
    expect(page.locator("nav a[data-nav=admin]")).to_have_count(0)
    page.goto(ui_server + "/#/admin")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".msg-error")).to_contain_text("Your role (Collector) is not allowed to open")


def test_admin_sees_admin_page(login, page):
    login("admin", "en")
    page.locator("nav a[data-nav=admin]").click()
    expect(page.locator("h1")).to_have_text("Administration")
    expect(page.locator("table")).to_contain_text("collector")


def test_user_text_is_rendered_as_text(login, page, api_as):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    payload = "<script>alert(1)</script>"
    img = '<img src=x onerror="alert(2)">'
    borrower = api_as("collector").get("/api/v1/borrowers?size=1")["items"][0]
    login("collector", "en")
    page.goto(page.url.split("#")[0] + f"#/borrowers/{borrower['id']}")
    form = page.locator("#add-contact")
    form.locator("select[name=role]").select_option("other")
    form.locator("input[name=name]").fill(payload)
    form.locator("input[name=address]").fill(img)
    form.locator("button[type=submit]").click()
    cell = page.locator(".contact-name", has_text=payload)
    expect(cell).to_have_text(payload)
    expect(page.locator("td", has_text=img)).to_have_text(img)
    # Saved through the API as typed, rendered as text: no script or img element was created.
    saved = api_as("collector").get(f"/api/v1/borrowers/{borrower['id']}")["contacts"]
    assert any(c["name"] == payload for c in saved)
    assert page.locator("main script").count() == 0
    assert page.locator("main img").count() == 0
    page.reload()
    expect(page.locator(".contact-name", has_text=payload)).to_have_text(payload)
    page.wait_for_timeout(200)
    assert dialogs == []


def test_pages_run_without_script_errors_or_csp_violations(login, page, ui_server, api_as):
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    loan = api_as("collector").get("/api/v1/loans?dpd_min=1&size=1")["items"][0]
    login("supervisor", "en")
    for path in ("/dashboard", "/borrowers", f"/borrowers/{loan['borrower_id']}", f"/loans/{loan['id']}",
                 "/queue", "/lifecycle", "/admin", "/nowhere"):
        page.goto(f"{ui_server}/#{path}")
        page.locator("main h1").wait_for()
    page.locator("#lang").select_option("zh-CN")
    expect(page.locator("h1")).to_have_text("页面不存在")
    assert problems == []


def test_wrong_password_is_a_clear_message(page, ui_server):
    page.goto(ui_server + "/")
    page.locator("input[name=username]").fill("collector")
    page.locator("input[name=password]").fill("not-the-password")
    page.locator("form.login button[type=submit]").click()
    expect(page.locator(".msg-error")).to_have_text("用户名或密码错误。")
    cookies = {c["name"] for c in page.context.cookies()}
    assert "cs_session" not in cookies


def test_chart_numbers_are_reachable_by_keyboard(login, page, api_as):
    login("collector", "en")
    lines = api_as("collector").get("/api/v1/book/buckets")
    page.locator("svg.chart g.bar").first.focus()
    tip = page.locator(".chart-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(f"Loans: {lines[0]['loans']:,}")
    page.keyboard.press("Tab")
    expect(tip).to_contain_text(lines[1]["bucket"])
    # Switching the metric redraws the bars with loan counts.
    page.get_by_role("button", name="Number of loans").click()
    expect(page.locator("svg.chart g.bar text.val").first).to_have_text(f"{lines[0]['loans']:,}")


def test_what_each_role_sees(login, page, ui_server, api_as):
    borrower = api_as("admin").get("/api/v1/borrowers?size=1")["items"][0]
    login("auditor", "en")
    expect(page.locator("nav a[data-nav=dashboard]")).to_be_visible()
    expect(page.locator("nav a[data-nav=queue]")).to_have_count(0)
    # auditors read strategies (the API lets them), nothing else of the admin section
    expect(page.locator("nav a[data-nav=admin]")).to_have_attribute("href", "#/admin/strategies")
    page.goto(f"{ui_server}/#/borrowers/{borrower['id']}")
    expect(page.locator("h1")).to_have_text(borrower["name"])
    expect(page.locator("#add-contact")).to_have_count(0)
    expect(page.locator("#edit-borrower")).to_have_count(0)
    page.goto(ui_server + "/#/queue")
    expect(page.locator("h1")).to_have_text("Not allowed")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    assert {c["name"] for c in page.context.cookies()} & {"cs_session", "cs_csrf"} == set()
    login("collector", "en")
    page.goto(f"{ui_server}/#/borrowers/{borrower['id']}")
    expect(page.locator("#add-contact")).to_be_visible()
    expect(page.locator("#edit-borrower")).to_have_count(0)
    expect(page.locator("nav a[data-nav=queue]")).to_be_visible()


def test_admin_renames_a_borrower_to_markup_and_it_stays_text(login, page, ui_server, api_as):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    borrower = api_as("admin").get("/api/v1/borrowers?size=100")["items"][-1]
    payload = "<script>alert(1)</script>"
    login("admin", "en")
    page.goto(f"{ui_server}/#/borrowers/{borrower['id']}")
    form = page.locator("#edit-borrower")
    form.locator("input[name=name]").fill(payload)
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(payload)
    assert api_as("admin").get(f"/api/v1/borrowers/{borrower['id']}")["name"] == payload
    page.goto(f"{ui_server}/#/borrowers?q=script")
    expect(page.get_by_role("link", name=payload)).to_be_visible()
    assert page.locator("main script").count() == 0
    # Put the name back (the edit form carries the new version).
    page.goto(f"{ui_server}/#/borrowers/{borrower['id']}")
    page.locator("#edit-borrower input[name=name]").fill(borrower["name"])
    page.locator("#edit-borrower button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(borrower["name"])
    assert dialogs == []


def test_session_end_brings_back_the_login_and_returns_to_the_page(login, page, ui_server, api_as):
    loan = api_as("collector").get("/api/v1/loans?size=1")["items"][0]
    login("collector", "en")
    page.goto(f"{ui_server}/#/loans/{loan['id']}")
    expect(page.locator("h1")).to_have_text(f"Loan {loan['contract_no']}")
    page.context.clear_cookies()
    page.locator("nav a[data-nav=borrowers]").click()
    expect(page.locator(".login .msg-info")).to_have_text("Your session has ended. Sign in again.")
    page.locator("input[name=username]").fill("collector")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form.login button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Borrowers")


def test_skip_link_moves_focus_without_leaving_the_page(login, page, ui_server, api_as):
    loan = api_as("collector").get("/api/v1/loans?size=1")["items"][0]
    login("collector", "en")
    page.goto(f"{ui_server}/#/loans/{loan['id']}")
    expect(page.locator("h1")).to_have_text(f"Loan {loan['contract_no']}")
    page.reload()
    expect(page.locator("h1")).to_have_text(f"Loan {loan['contract_no']}")
    page.keyboard.press("Tab")
    skip = page.locator("#skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert page.url.endswith(f"#/loans/{loan['id']}")
