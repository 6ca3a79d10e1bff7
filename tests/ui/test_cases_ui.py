"""Queue, case detail and lifecycle pages in a real browser.

They need the cases API (GET /api/v1/cases ...). While it is not on this branch, the tests that work a
case skip with that reason, and one test proves the pages say clearly that the service is missing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def a_case(case_id, api_as) -> dict:
    return api_as("collector").get(f"/api/v1/cases/{case_id}")


def open_case(page, ui_server, case_id: int):
    page.goto(f"{ui_server}/#/cases/{case_id}")
    expect(page.locator("h1")).to_contain_text(f"Case {case_id}")




def test_queue_lists_cases_and_opens_one(a_case, login, page, ui_server):
    login("collector", "en")
    page.goto(ui_server + "/#/queue?mine=")
    link = page.locator(f"a.row-link[href='#/cases/{a_case['id']}']")
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("h1")).to_contain_text(f"Case {a_case['id']}")


def test_case_buttons_are_exactly_the_allowed_triggers(a_case, login, page, ui_server):
    login("collector", "en")
    open_case(page, ui_server, a_case["id"])
    shown = page.locator("button[data-trigger]").evaluate_all("els => els.map(e => e.dataset.trigger)")
    assert shown == list(a_case["allowed_triggers"])
    expect(page.locator("table").filter(has_text="Due date")).to_be_visible()


def test_log_a_call_with_a_promise_and_note_rendered_as_text(a_case, login, page, ui_server):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login("collector", "en")
    open_case(page, ui_server, a_case["id"])
    note = "<script>alert(1)</script> promised on the phone"
    form = page.locator("#call-form")
    form.locator("select[name=outcome]").select_option("promised")
    form.locator("textarea[name=note]").fill(note)
    form.locator("#with-promise").check()
    form.locator("input[name=amount]").fill("10000.00")
    form.locator("input[name=due_on]").fill((dt.date.today() + dt.timedelta(days=7)).isoformat())
    form.locator("button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text(note)
    expect(page.locator("#timeline .ev-text", has_text=note).first).to_have_text(note)
    assert page.locator("#timeline script").count() == 0
    assert dialogs == []


def test_schedule_and_report_a_visit(a_case, login, page, ui_server):
    login("collector", "en")
    open_case(page, ui_server, a_case["id"])
    form = page.locator("#visit-form")
    form.locator("input[name=address]").fill("Plant 2, High-tech Zone")
    form.locator("button[type=submit]").click()
    report = page.locator("form.report-form").last
    expect(report).to_be_visible()
    report.locator("select[name=operating_status]").select_option("reduced")
    report.locator("textarea[name=findings]").fill("Factory running at half capacity; CFO met.")
    report.locator("button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("Factory running at half capacity")
    expect(page.locator("#visits")).to_contain_text("Reported")


def test_a_transition_with_reason(login, page, ui_server, api_as):
    # A case still on the lower rungs of the ladder (the top of the queue is often already at `visit`).
    collector = api_as("collector")
    rows = []
    for stage in ("phone_reminder", "letter", "classified"):
        rows = collector.get(f"/api/v1/cases?stage={stage}&size=1")["items"]
        if rows:
            break
    assert rows, "the seeded book should give the collector a case that can still be escalated"
    a_case = collector.get(f"/api/v1/cases/{rows[0]['id']}")
    assert "escalate" in a_case["allowed_triggers"]
    login("collector", "en")
    open_case(page, ui_server, a_case["id"])
    open_stages = api_as("collector").get("/api/v1/cases/lifecycle")["open_stages"]
    later = open_stages[open_stages.index(a_case["stage"]) + 1]
    page.locator("button[data-trigger=escalate]").click()
    page.locator("#transition-form select[name=target]").select_option(later)
    page.locator("#transition-form textarea[name=reason]").fill("No answer for two weeks")
    page.locator("#transition-form button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("No answer for two weeks")
    after = api_as("collector").get(f"/api/v1/cases/{a_case['id']}")
    assert after["stage"] == later


def test_lifecycle_page_shows_the_diagram_text(login, page, ui_server):
    login("collector", "en")
    page.locator("nav a[data-nav=lifecycle]").click()
    expect(page.locator("#mermaid-src")).to_contain_text("stateDiagram")
