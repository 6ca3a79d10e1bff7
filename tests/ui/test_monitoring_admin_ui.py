"""Monitoring and admin pages in a real browser: both languages, what each role may open (the page says
so and the API refuses the same), acknowledging a warning, validating and dry-running a strategy,
previewing a notice template, the scheduler status and sweep history."""

from __future__ import annotations

import json
import urllib.error

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _open_warning(api, min_rows: int = 1):
    rows = api.get("/api/v1/monitoring/warnings?status=open&limit=1000")
    assert len(rows) >= min_rows, "the demo sweep raises DPD warnings on overdue loans"
    return rows


@pytest.mark.parametrize(("locale", "title", "tab"),
                         [("zh-CN", "贷后监控", "风险预警"), ("en", "Monitoring", "Early warnings")])
def test_warning_list_in_both_languages_with_borrower_links(login, page, api_as, locale, title, tab):
    rows = api_as("risk").get("/api/v1/monitoring/warnings?limit=50")
    login("risk", locale)
    page.locator("nav a[data-nav=monitoring]").click()
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text(tab)
    expect(page.locator("tr[data-warning]")).to_have_count(len(rows))
    first = rows[0]
    row = page.locator(f"tr[data-warning='{first['id']}']")
    expect(row.locator("code").first).to_have_text(first["code"])
    # the evidence the rule recorded is shown with its values (amounts in cents shown as money)
    ev = first["evidence"] or {}
    if "dpd" in ev:
        expect(row.locator("dl.evidence")).to_contain_text(str(ev["dpd"]))
    if "overdue_cents" in ev:
        yuan = f"{ev['overdue_cents'] // 100:,}.{ev['overdue_cents'] % 100:02d}"
        expect(row.locator("dl.evidence")).to_contain_text(yuan)
    borrower = api_as("risk").get(f"/api/v1/borrowers/{first['borrower_id']}")
    row.locator(f"a[data-borrower='{first['borrower_id']}']").click()
    expect(page.locator("h1")).to_have_text(borrower["name"])


def test_filters_by_severity_and_status_match_the_api(login, page, api_as):
    api = api_as("risk")
    severity = _open_warning(api)[0]["severity"]
    expected = api.get(f"/api/v1/monitoring/warnings?status=open&severity={severity}&limit=200")
    login("risk", "en")
    page.goto(page.url.split("#")[0] + "#/monitoring")
    page.locator("#warning-filters select[name=severity]").select_option(severity)
    page.locator("#warning-filters select[name=status]").select_option("open")
    page.locator("#warning-filters button[type=submit]").click()
    expect(page.locator("[data-testid=count]")).to_have_text(f"{len(expected)} warnings (newest first)")
    expect(page.locator("tr[data-warning][data-status=open]")).to_have_count(len(expected))
    assert f"severity={severity}" in page.url


def test_supervisor_acknowledges_a_warning_and_the_api_shows_it(login, page, api_as):
    api = api_as("supervisor")
    w = _open_warning(api)[0]
    login("supervisor", "en")
    page.goto(page.url.split("#")[0] + "#/monitoring?status=open")
    row = page.locator(f"tr[data-warning='{w['id']}']")
    row.locator("button[data-action=acknowledged]").click()
    # the list reloads: the warning left the "open" filter
    expect(page.locator(f"tr[data-warning='{w['id']}']")).to_have_count(0)
    after = api.get(f"/api/v1/monitoring/warnings?borrower_id={w['borrower_id']}&limit=1000")
    assert next(x for x in after if x["id"] == w["id"])["status"] == "acknowledged"
    page.goto(page.url.split("#")[0] + "#/monitoring?status=acknowledged")
    row = page.locator(f"tr[data-warning='{w['id']}']")
    expect(row.locator(".warn-status")).to_have_text("Acknowledged")
    expect(row.locator("button[data-action=closed]")).to_be_visible()


def test_collector_reads_warnings_but_cannot_act_and_the_api_agrees(login, page, api_as, ui_server):
    w = _open_warning(api_as("collector"))[0]
    login("collector", "en")
    page.goto(f"{ui_server}/#/monitoring")
    expect(page.locator("tr[data-warning]").first).to_be_visible()
    expect(page.locator("button[data-action]")).to_have_count(0)
    expect(page.locator(".msg-info")).to_contain_text("may read warnings")
    with pytest.raises(urllib.error.HTTPError) as exc:
        api_as("collector")._call("PATCH", f"/api/v1/monitoring/warnings/{w['id']}",
                                  {"status": "closed", "version": w["version"]}, headers=api_as("collector").headers)
    assert exc.value.code == 403


def test_watchlist_and_reviews_due(login, page, api_as, ui_server):
    api = api_as("risk")
    due = api.get("/api/v1/monitoring/reviews/due")
    overdue = api.get("/api/v1/monitoring/reviews/due?overdue=true")
    watch = api.get("/api/v1/monitoring/watchlist")
    login("risk", "zh-CN")
    page.goto(f"{ui_server}/#/monitoring/watchlist")
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text("关注名单")
    if watch:
        expect(page.locator("main tbody tr")).to_have_count(len(watch))
    else:
        expect(page.locator(".msg-info")).to_have_text("关注名单为空。")
    page.goto(f"{ui_server}/#/monitoring/reviews")
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text("待办检查")
    assert len(due) > 50, "the demo book has more open reviews than one page"
    late = {r["id"] for r in overdue}
    expect(page.locator("[data-testid=count]")).to_have_text(f"共 {len(due)} 项待办检查，其中 {len(overdue)} 项逾期")
    # 50 rows a page, in the API's order; the overdue ones (by the API's judgement) are marked
    expect(page.locator("tr[data-review]")).to_have_count(50)
    expect(page.locator("tr[data-review].overdue")).to_have_count(sum(r["id"] in late for r in due[:50]))
    page.get_by_role("button", name="下一页").click()
    expect(page.locator("tr[data-review]")).to_have_count(min(50, len(due) - 50))
    expect(page.locator(f"tr[data-review='{due[50]['id']}']")).to_be_visible()
    page.locator("#lang").select_option("en")
    page.get_by_role("button", name="Overdue only").click()
    if overdue:
        expect(page.locator("tr[data-review]")).to_have_count(min(50, len(overdue)))
        expect(page.locator("tr[data-review]:not(.overdue)")).to_have_count(0)
    else:
        expect(page.locator(".msg-info")).to_have_text("No review is overdue.")


@pytest.mark.parametrize("path", ["/admin/strategies", "/admin/templates", "/admin/scheduler"])
def test_collector_cannot_open_admin_pages_and_the_api_refuses_too(login, page, api_as, ui_server, path):
    login("collector", "en")
    expect(page.locator("nav a[data-nav=admin]")).to_have_count(0)
    page.goto(f"{ui_server}/#{path}")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".msg-error")).to_contain_text("Your role (Collector) is not allowed to open this page")
    api = {"/admin/strategies": "/api/v1/strategies", "/admin/scheduler": "/api/v1/scheduler/status"}
    if path in api:
        assert api_as("collector").status(api[path]) == 403


def test_supervisor_sees_strategies_and_templates_but_not_the_scheduler(login, page, api_as, ui_server):
    login("supervisor", "zh-CN")
    page.locator("nav a[data-nav=admin]").click()
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text("催收策略")
    expect(page.locator(".tabs a")).to_have_count(2)
    page.goto(f"{ui_server}/#/admin/scheduler")
    expect(page.locator("h1")).to_have_text("无权访问")
    assert api_as("supervisor").status("/api/v1/scheduler/status") == 403


def test_strategy_versions_validate_and_dry_run(login, page, api_as, ui_server):
    api = api_as("admin")
    listing = api.get("/api/v1/strategies")
    active = api.get("/api/v1/strategies/active")
    login("admin", "en")
    page.goto(f"{ui_server}/#/admin/strategies")
    expect(page.locator("tr[data-version]")).to_have_count(len(listing["items"]))
    expect(page.locator(f"tr[data-version='{listing['active_version']}']")).to_contain_text("Live")
    # Validate the draft (a copy of the live strategy under a new name)
    page.locator("#draft-form button[data-act=validate]").click()
    expect(page.locator("#validation-ok")).to_contain_text(
        f"Valid: {active['version']}-draft with {len(active['document']['rules'])} rules.")
    # A broken draft: the API's field errors are listed
    doc = page.locator("#draft-form textarea").input_value()
    broken = doc.replace('"rules": [', '"rules": [{"id": "bad", "target": "court"},', 1)
    page.locator("#draft-form textarea").fill(broken)
    page.locator("#draft-form button[data-act=validate]").click()
    expect(page.locator("#draft-result .msg-error")).to_contain_text("unknown stage 'court'")
    # Dry run: everything overdue goes to a visit; the page shows what the API computes for the same draft
    draft = {"version": "all-visit-1", "rules": [{"id": "all", "when": {"dpd_min": 1}, "target": "visit"}]}
    page.locator("#draft-form textarea").fill(json.dumps(draft))
    page.locator("#draft-form button[data-act=preview]").click()
    result = page.locator("#preview-result")
    expect(result).to_contain_text("Dry run of all-visit-1")
    expected = api.post("/api/v1/strategies/preview", {"document": draft})
    for name, value in expected["counts"].items():
        expect(result.locator(f"[data-count={name}] .kpi-val")).to_have_text(f"{value:,}")
    if expected["escalations"]:
        expect(result.locator("table").first.locator("tbody tr")).to_have_count(len(expected["escalations"]))
    # nothing was saved
    assert api.get("/api/v1/strategies")["items"] == listing["items"]
    # one version's rules
    page.goto(f"{ui_server}/#/admin/strategies/{listing['active_version']}")
    expect(page.locator("main tbody tr")).to_have_count(len(active["document"]["rules"]))
    page.locator("button[data-act=preview]").click()
    expect(page.locator("#preview-result")).to_contain_text(f"Dry run of {active['version']}")


def test_template_preview_shows_the_rendered_notice_as_text(login, page, api_as, ui_server):
    api = api_as("admin")
    case = api.get("/api/v1/cases?size=1")["items"][0]
    expected = api.get(f"/api/v1/cases/{case['id']}/notices/preview?template=first_reminder&locale=en")
    login("admin", "en")
    page.goto(f"{ui_server}/#/admin/templates")
    expect(page.locator("main table tbody tr")).to_have_count(len(api.get("/api/v1/notice-templates")))
    form = page.locator("#template-form")
    form.locator("select[name=template]").select_option("first_reminder")
    form.locator("input[name=case_id]").fill(str(case["id"]))
    form.locator("select[name=locale]").select_option("en")
    form.locator("button[type=submit]").click()
    expect(page.locator("pre.notice-body")).to_have_text(expected["body"])
    # a letter is HTML: shown as its text, no element of it enters the page
    form.locator("select[name=template]").select_option("first_demand")
    form.locator("button[type=submit]").click()
    expect(page.locator("pre.notice-body[data-channel=letter]")).to_contain_text(case["contract_no"])
    assert page.locator("pre.notice-body *").count() == 0


def test_scheduler_status_and_sweep_history(login, page, api_as, ui_server):
    api = api_as("admin")
    status = api.get("/api/v1/scheduler/status")
    history = api.get("/api/v1/sweeps?limit=30")   # the page shows the latest 30 runs
    login("admin", "zh-CN")
    page.goto(f"{ui_server}/#/admin/scheduler")
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text("调度与日终批处理")
    leader = "有调度进程在运行" if status["leader"]["held"] else "没有调度进程持有锁"
    expect(page.locator("#leader-state")).to_have_text(leader)
    expect(page.locator("tr[data-job]")).to_have_count(len(status["jobs"]))
    expect(page.locator("tr[data-run]")).to_have_count(len(history["items"]))
    expect(page.locator("caption", has_text="次运行")).to_have_text(f"共 {history['total']} 次运行，最新在前")
    expect(page.locator(f"tr[data-run='{history['items'][0]['id']}']")).to_contain_text(history["items"][0]["triggered_by"])
    page.locator("#lang").select_option("en")
    expect(page.locator("tr[data-job=sweep]")).to_contain_text("Close-of-business sweep")
