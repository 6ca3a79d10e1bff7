"""Monitoring pages that write (issue 8): loans shown by contract number, the review report form (API field
errors beside the fields, the report stored, user text rendered as text), watchlist add and remove, and the
role rule (a role the API refuses sees no button, and the API really answers 403)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

XSS = "<script>alert(1)</script>"


def _status(api, method: str, path: str, body=None) -> int:
    try:
        api._call(method, path, body, headers=api.headers)
        return 200
    except urllib.error.HTTPError as exc:
        return exc.code


def _open_task(api, with_loan: bool = True) -> dict:
    rows = api.get("/api/v1/monitoring/reviews/due")
    for r in rows[:50]:  # the first page of the list
        if r["loan_id"] is not None or not with_loan:
            return r
    raise AssertionError("the demo book has open review tasks with a loan on the first page")


def test_loans_are_shown_by_contract_number_on_warnings_and_reviews(login, page, api_as, ui_server):
    api = api_as("risk")
    w = next(x for x in api.get("/api/v1/monitoring/warnings?limit=50") if x["loan_id"])
    loan = api.get(f"/api/v1/loans/{w['loan_id']}")
    login("risk", "en")
    page.goto(f"{ui_server}/#/monitoring")
    cell = page.locator(f"tr[data-warning='{w['id']}'] a[data-loan='{w['loan_id']}']")
    expect(cell).to_have_text(loan["contract_no"])
    expect(page.locator("tr[data-warning] a[data-loan]", has_text="Loan #")).to_have_count(0)
    task = _open_task(api)
    loan = api.get(f"/api/v1/loans/{task['loan_id']}")
    page.goto(f"{ui_server}/#/monitoring/reviews")
    expect(page.locator(f"tr[data-review='{task['id']}'] a[data-loan]")).to_have_text(loan["contract_no"])
    expect(page.locator("tr[data-review] a[data-loan]", has_text="Loan #")).to_have_count(0)


@pytest.mark.parametrize(("locale", "button", "conclusion_label", "done"),
                         [("zh-CN", "填写报告", "检查结论", "检查报告 #{id} 已提交。"),
                          ("en", "File report", "Conclusion", "Review report #{id} filed.")])
def test_collector_files_a_review_report_and_the_api_stores_it(login, page, api_as, ui_server,
                                                               locale, button, conclusion_label, done):
    api = api_as("collector")
    # each language takes its own task: the first one the earlier run did not complete
    task = _open_task(api)
    login("collector", locale)
    page.goto(f"{ui_server}/#/monitoring/reviews")
    row = page.locator(f"tr[data-review='{task['id']}']")
    row.get_by_role("button", name=button).click()
    form = page.locator(f"form.review-report[data-task='{task['id']}']")
    expect(form).to_be_visible()
    # the API is the judge: an empty conclusion comes back as a field error shown next to the field
    form.locator("button[type=submit]").click()
    err = form.locator("[data-field=conclusion] .field-error")
    expect(err).to_be_visible()
    expect(form.get_by_label(conclusion_label)).to_have_attribute("aria-invalid", "true")
    assert any(r["id"] == task["id"] for r in api.get("/api/v1/monitoring/reviews/due")), "bad input changed nothing"
    form.locator("select[name=on_site]").select_option("true")
    form.locator("textarea[name='findings.operations']").fill(f"Plant running two shifts {XSS}")
    form.locator("textarea[name='findings.collateral']").fill("Warehouse inspected, stock as declared")
    form.get_by_label(conclusion_label).fill(f"Repayment capacity adequate {locale}")
    form.locator("select[name=recommended_category]").select_option("special_mention")
    form.locator("button[type=submit]").click()
    expect(page.locator(".msg-ok")).to_be_visible()
    # the list is read again: the completed task has left it
    expect(page.locator(f"tr[data-review='{task['id']}']")).to_have_count(0)
    reports = api.get(f"/api/v1/monitoring/borrowers/{task['borrower_id']}/reviews")
    rep = next(r for r in reports if r["task_id"] == task["id"])
    expect(page.locator(".msg-ok")).to_contain_text(done.format(id=rep["id"]))
    assert rep["on_site"] is True
    assert rep["findings"]["operations"] == f"Plant running two shifts {XSS}"
    assert rep["findings"]["collateral"] == "Warehouse inspected, stock as declared"
    assert rep["conclusion"] == f"Repayment capacity adequate {locale}"
    assert rep["recommended_category"] == "special_mention"
    assert rep["review_type"] in {"first_check", "routine", "pre_maturity", "ad_hoc", "focused"}
    assert rep["loan_id"] == task["loan_id"]
    assert rep["author"] == "collector"
    # a collector may only recommend: the API says a risk officer must propose the change
    assert rep["override_id"] is None and rep["override_note"]
    expect(page.locator(".msg-ok")).to_contain_text(rep["override_note"])


def test_review_date_in_the_future_is_refused_beside_the_field(login, page, api_as, ui_server):
    task = _open_task(api_as("risk"))
    login("risk", "en")
    page.goto(f"{ui_server}/#/monitoring/reviews")
    page.locator(f"tr[data-review='{task['id']}'] button[data-action=review-report]").click()
    form = page.locator(f"form.review-report[data-task='{task['id']}']")
    form.locator("input[name=review_date]").fill("2099-01-01")
    form.get_by_label("Conclusion").fill("Looked fine")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-field=review_date] .field-error")).to_contain_text("after")
    expect(form.locator("input[name=review_date]")).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".form-msg .msg-error")).to_contain_text("future")
    # nothing was stored and the task is still due
    assert all(r["task_id"] != task["id"]
               for r in api_as("risk").get(f"/api/v1/monitoring/borrowers/{task['borrower_id']}/reviews"))
    assert any(r["id"] == task["id"] for r in api_as("risk").get("/api/v1/monitoring/reviews/due"))


def test_script_in_findings_renders_as_text(login, page, api_as, ui_server):
    api = api_as("risk")
    task = _open_task(api, with_loan=False)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login("risk", "en")
    page.goto(f"{ui_server}/#/borrowers/{task['borrower_id']}")
    page.locator(".borrower-monitoring button[data-action=review-report]").click()
    form = page.locator("form.review-report")
    form.locator("textarea[name='findings.finances']").fill(XSS)
    form.get_by_label("Conclusion").fill(XSS)
    form.locator("button[type=submit]").click()
    expect(page.locator(".msg-ok")).to_contain_text("filed")
    rep = api.get(f"/api/v1/monitoring/borrowers/{task['borrower_id']}/reviews")[0]
    assert rep["findings"]["finances"] == XSS and rep["conclusion"] == XSS and rep["task_id"] is None
    # the stored text comes back on a page as text: the watchlist reason is user text shown the same way
    api.post("/api/v1/monitoring/watchlist", {"borrower_id": task["borrower_id"], "reason": XSS})
    try:
        page.goto(f"{ui_server}/#/monitoring/watchlist")
        cell = page.locator(f"tr[data-watch='{task['borrower_id']}'] .ev-text")
        expect(cell).to_have_text(XSS)
        assert page.locator("main script").count() == 0
        page.goto(f"{ui_server}/#/borrowers/{task['borrower_id']}")
        expect(page.locator("[data-testid=watch-status] .ev-text")).to_have_text(XSS)
    finally:
        api._call("DELETE", f"/api/v1/monitoring/watchlist/{task['borrower_id']}?reason=cleanup",
                  headers=api.headers)
    assert dialogs == []


def test_watchlist_add_then_remove_round_trips(login, page, api_as, ui_server):
    api = api_as("supervisor")
    listed = {w["borrower_id"] for w in api.get("/api/v1/monitoring/watchlist")}
    borrower = next(b for b in api.get("/api/v1/borrowers?size=50")["items"] if b["id"] not in listed)
    login("supervisor", "zh-CN")
    page.goto(f"{ui_server}/#/monitoring/watchlist")
    form = page.locator("#watch-add")
    # no reason: the API's field error is shown beside the reason field, nothing is added
    form.locator("select[name=borrower_id]").select_option(str(borrower["id"]))
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-field=reason] .field-error")).to_be_visible()
    assert borrower["id"] not in {w["borrower_id"] for w in api.get("/api/v1/monitoring/watchlist")}
    form.locator("input[name=reason]").fill("年报延迟披露，需重点关注")
    form.locator("button[type=submit]").click()
    expect(page.locator(".msg-ok")).to_have_text(f"{borrower['name']} 已加入关注名单。")
    row = page.locator(f"tr[data-watch='{borrower['id']}']")
    expect(row.locator(".ev-text")).to_have_text("年报延迟披露，需重点关注")
    entry = next(w for w in api.get("/api/v1/monitoring/watchlist") if w["borrower_id"] == borrower["id"])
    assert entry["reason"] == "年报延迟披露，需重点关注" and entry["added_by"] == "supervisor"
    # the borrower page says so, and takes it off again with a reason
    page.locator("#lang").select_option("en")
    page.goto(f"{ui_server}/#/borrowers/{borrower['id']}")
    expect(page.locator("[data-testid=watch-status]")).to_have_attribute("data-watched", "true")
    page.locator("button[data-action=unwatch]").click()
    page.get_by_label("Reason for taking off").fill("Annual report filed")
    page.locator("button[data-action=confirm-unwatch]").click()
    expect(page.locator(".msg-ok")).to_have_text(f"{borrower['name']} is off the watchlist.")
    expect(page.locator("[data-testid=watch-status]")).to_have_attribute("data-watched", "false")
    assert borrower["id"] not in {w["borrower_id"] for w in api.get("/api/v1/monitoring/watchlist")}
    report = api.get(f"/api/v1/monitoring/borrowers/{borrower['id']}/warnings")
    assert report["on_watchlist"] is False
    # and back on from the borrower page, off from the watchlist page
    page.get_by_label("Reason for watching").fill("Second look")
    page.locator("button[data-action=watch]").click()
    expect(page.locator("[data-testid=watch-status]")).to_have_attribute("data-watched", "true")
    page.goto(f"{ui_server}/#/monitoring/watchlist")
    row = page.locator(f"tr[data-watch='{borrower['id']}']")
    # each row's button names its borrower for screen readers
    row.get_by_role("button", name=f"Take {borrower['name']} off the watchlist").click()
    row.locator("input[name=reason]").fill("Done watching")
    row.locator("button[data-action=confirm-unwatch]").click()
    expect(page.locator(f"tr[data-watch='{borrower['id']}']")).to_have_count(0)
    assert borrower["id"] not in {w["borrower_id"] for w in api.get("/api/v1/monitoring/watchlist")}


def test_collector_may_report_but_sees_no_watchlist_buttons_and_the_api_refuses(login, page, api_as, ui_server):
    collector = api_as("collector")
    borrower_id = collector.get("/api/v1/borrowers?size=1")["items"][0]["id"]
    login("collector", "en")
    page.goto(f"{ui_server}/#/monitoring/watchlist")
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text("Watchlist")
    expect(page.locator("#watch-add")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("null")
    expect(page.locator("button[data-action=unwatch]")).to_have_count(0)
    page.goto(f"{ui_server}/#/borrowers/{borrower_id}")
    expect(page.locator("[data-testid=watch-status]")).to_be_visible()
    expect(page.locator("button[data-action=watch], button[data-action=unwatch]")).to_have_count(0)
    expect(page.locator(".borrower-monitoring button[data-action=review-report]")).to_be_visible()
    expect(page.locator(".borrower-monitoring")).not_to_contain_text("null")
    assert _status(collector, "POST", "/api/v1/monitoring/watchlist",
                   {"borrower_id": borrower_id, "reason": "not mine to decide"}) == 403
    reason = urllib.parse.quote("not mine")
    assert _status(collector, "DELETE", f"/api/v1/monitoring/watchlist/{borrower_id}?reason={reason}") == 403


def test_auditor_sees_no_report_or_watchlist_buttons_and_the_api_refuses(login, page, api_as, ui_server):
    auditor = api_as("auditor")
    task = _open_task(auditor)
    login("auditor", "en")
    page.goto(f"{ui_server}/#/monitoring/reviews")
    expect(page.locator(f"tr[data-review='{task['id']}']")).to_be_visible()
    expect(page.locator("button[data-action=review-report]")).to_have_count(0)
    page.goto(f"{ui_server}/#/borrowers/{task['borrower_id']}")
    expect(page.locator("[data-testid=watch-status]")).to_be_visible()
    expect(page.locator(".borrower-monitoring button")).to_have_count(0)
    body = {"borrower_id": task["borrower_id"], "task_id": task["id"], "review_type": "routine",
            "review_date": "2026-01-01", "on_site": False, "findings": {}, "conclusion": "x"}
    assert _status(auditor, "POST", "/api/v1/monitoring/reviews/reports", body) == 403
    assert _status(auditor, "POST", "/api/v1/monitoring/watchlist",
                   {"borrower_id": task["borrower_id"], "reason": "auditors only read"}) == 403
    assert any(r["id"] == task["id"] for r in auditor.get("/api/v1/monitoring/reviews/due")), json.dumps(task)
