"""Queue and case detail against the agreed cases API contract, before that API is on this branch.

The browser's requests to /api/v1/cases* are answered by a small in-test stand-in that follows the
contract (shapes only, no rules); borrowers and loans come from the real server. These tests check
the UI's side of the contract: what it renders and exactly what it sends. Once the real cases API is
merged, tests/ui/test_cases_ui.py covers the same flows end to end.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MERMAID = """stateDiagram-v2
    [*] --> classified
    classified --> phone_reminder : escalate
    phone_reminder --> letter : escalate
    letter --> restructuring : open_negotiation
    restructuring --> restructured : restructure [needs approval]
    phone_reminder --> resolved : cure
    resolved --> [*]
"""


class FakeCases:
    def __init__(self, loan: dict, borrower: dict):
        self.case = {
            "id": 7,
            "loan_id": loan["id"],
            "borrower_id": borrower["id"],
            "borrower_name": borrower["name"],
            "stage": "phone_reminder",
            "dpd": loan["dpd"],
            "overdue_amount": loan["overdue_amount"],
            "next_action_on": "2026-04-03",
            "on_hold": False,
            "version": 3,
            "assignee_id": 4,
            "promise_status": None,
            "allowed_triggers": ["escalate", "cure", "open_negotiation"],
        }
        self.timeline = [
            {
                "kind": "stage_change",
                "at": "2026-03-30T02:00:00Z",
                "from_stage": "classified",
                "to_stage": "phone_reminder",
                "trigger": "escalate",
                "actor": "system",
                "reason": None,
            }
        ]
        self.posts: list[tuple[str, dict]] = []
        self.queries: list[dict] = []

    def handle(self, route):
        req = route.request
        path = urlparse(req.url).path
        if req.method == "GET" and path == "/api/v1/cases":
            self.queries.append({k: v[0] for k, v in parse_qs(urlparse(req.url).query).items()})
            return self._json(route, {"items": [self.case], "total": 1, "page": 1, "size": 50})
        if req.method == "GET" and path == "/api/v1/cases/lifecycle":
            return route.fulfill(status=200, content_type="text/plain; charset=utf-8", body=MERMAID)
        if req.method == "GET" and path == "/api/v1/cases/7":
            return self._json(route, self.case)
        if req.method == "GET" and path == "/api/v1/cases/7/timeline":
            return self._json(route, self.timeline)
        if req.method == "POST" and path.startswith("/api/v1/cases/7/"):
            body = req.post_data_json
            self.posts.append(
                (path.rsplit("/", 1)[1], {"body": body, "csrf": req.headers.get("x-csrf-token")})
            )
            kind = path.rsplit("/", 1)[1]
            if kind == "transitions":
                if body.get("version") != self.case["version"]:
                    return self._json(
                        route,
                        {
                            "title": "Someone else changed this record first",
                            "status": 409,
                            "detail": "The case was changed by someone else.",
                        },
                        409,
                    )
                self.case.update(stage="letter", version=self.case["version"] + 1, allowed_triggers=["cure"])
                self.timeline.append(
                    {
                        "kind": "stage_change",
                        "at": "2026-04-01T02:00:00Z",
                        "actor": "collector",
                        "from_stage": "phone_reminder",
                        "to_stage": "letter",
                        "trigger": body["trigger"],
                        "reason": body.get("reason"),
                    }
                )
            elif kind == "contacts":
                self.timeline.append(
                    {
                        "kind": "contact",
                        "at": "2026-04-01T02:05:00Z",
                        "actor": "collector",
                        "channel": body["channel"],
                        "outcome": body["outcome"],
                        "note": body["note"],
                    }
                )
            elif kind == "visits":
                self.timeline.append(
                    {
                        "kind": "visit",
                        "at": "2026-04-01T03:00:00Z",
                        "actor": "collector",
                        "report": body.get("report"),
                    }
                )
            return self._json(route, {"id": len(self.posts)}, 201)
        return self._json(route, {"title": "Not Found", "status": 404, "detail": "Not Found"}, 404)

    @staticmethod
    def _json(route, body, status=200):
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


@pytest.fixture
def fake_cases(page, api_as):
    api = api_as("collector")
    loan = api.get("/api/v1/loans?dpd_min=1&size=1")["items"][0]
    borrower = api.get(f"/api/v1/borrowers/{loan['borrower_id']}")
    fake = FakeCases(loan, borrower)
    page.route("**/api/v1/cases**", fake.handle)
    return fake


def test_queue_sends_filters_and_opens_the_case(fake_cases, login, page, ui_server):
    login("collector", "en")
    page.locator("nav a[data-nav=queue]").click()
    row_link = page.locator("a.row-link[href='#/cases/7']")
    expect(row_link).to_have_text(fake_cases.case["borrower_name"])
    # The collector's queue defaults to their own cases, most overdue first.
    me = page.request.get(ui_server + "/api/v1/auth/me").json()
    assert fake_cases.queries[-1]["assignee_id"] == str(me["id"])
    assert fake_cases.queries[-1]["sort"] == "-dpd"
    form = page.locator("#queue-filters")
    form.locator("select[name=stage]").select_option("letter")
    form.locator("input[name=dpd_min]").fill("30")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{ui_server}/#/queue?stage=letter&dpd_min=30&sort=-dpd&mine=1")
    assert fake_cases.queries[-1]["stage"] == "letter" and fake_cases.queries[-1]["dpd_min"] == "30"
    page.locator("a.row-link").click()
    expect(page.locator("h1")).to_have_text(f"Case 7 · {fake_cases.case['borrower_name']}")


def test_case_detail_buttons_forms_and_timeline(fake_cases, login, page, ui_server):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login("collector", "en")
    page.goto(ui_server + "/#/cases/7")
    expect(page.locator("[data-testid=stage]")).to_have_text("Phone reminder")
    buttons = page.locator("button[data-trigger]")
    assert buttons.evaluate_all("els => els.map(e => e.dataset.trigger)") == [
        "escalate",
        "cure",
        "open_negotiation",
    ]
    expect(page.locator("table").filter(has_text="Due date")).to_be_visible()

    # Log a call with a promise; the note is hostile text and must come back as text.
    note = "<script>alert(1)</script>"
    call = page.locator("#call-form")
    call.locator("select[name=outcome]").select_option("promise_to_pay")
    call.locator("textarea[name=note]").fill(note)
    call.locator("input[name=next_action_on]").fill("2026-04-08")
    call.locator("#with-promise").check()
    call.locator("input[name=amount]").fill("12000.50")
    call.locator("input[name=due_on]").fill("2026-04-10")
    call.locator("button[type=submit]").click()
    expect(page.locator("#timeline .ev-text")).to_have_text(note)
    kind, sent = fake_cases.posts[-1]
    contact_ids = [
        c["id"]
        for c in page.request.get(f"{ui_server}/api/v1/borrowers/{fake_cases.case['borrower_id']}").json()[
            "contacts"
        ]
    ]
    assert kind == "contacts"
    assert sent["body"] == {
        "channel": "phone",
        "contact_id": contact_ids[0],
        "outcome": "promise_to_pay",
        "note": note,
        "next_action_on": "2026-04-08",
        "promise": {"amount": "12000.50", "due_on": "2026-04-10", "grace_days": 3},
    }
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "cs_csrf")
    assert sent["csrf"] == csrf

    # A transition with a reason carries the case version.
    page.locator("button[data-trigger=escalate]").click()
    page.locator("#transition-form textarea[name=reason]").fill("Three calls unanswered")
    page.locator("#transition-form button[type=submit]").click()
    expect(page.locator("[data-testid=stage]")).to_have_text("Letter")
    assert fake_cases.posts[-1] == (
        "transitions",
        {"body": {"trigger": "escalate", "version": 3, "reason": "Three calls unanswered"}, "csrf": csrf},
    )
    expect(page.locator("#timeline")).to_contain_text("Three calls unanswered")
    assert page.locator("button[data-trigger]").evaluate_all("els => els.map(e => e.dataset.trigger)") == [
        "cure"
    ]

    # A visit report.
    visit = page.locator("#visit-form")
    visit.locator("input[name=visited_on]").fill("2026-04-01")
    visit.locator("textarea[name=report]").fill("Plant idle; CFO promises a plan by Friday.")
    visit.locator("button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("Plant idle; CFO promises a plan by Friday.")
    assert fake_cases.posts[-1][1]["body"]["visited_on"] == "2026-04-01"
    assert page.locator("main script").count() == 0
    assert dialogs == []


def test_stale_version_is_explained(fake_cases, login, page, ui_server):
    login("collector", "en")
    page.goto(ui_server + "/#/cases/7")
    page.locator("button[data-trigger=cure]").click()
    fake_cases.case["version"] = 4  # someone else changed the case meanwhile
    page.locator("#transition-form button[type=submit]").click()
    expect(page.locator("#transition-form .msg-error")).to_contain_text("Someone else changed this first")
    expect(page.locator("#transition-form .msg-error")).to_contain_text(
        "The case was changed by someone else."
    )


def test_lifecycle_lists_the_transitions(fake_cases, login, page):
    login("collector", "zh-CN")
    page.locator("nav a[data-nav=lifecycle]").click()
    expect(page.locator("#mermaid-src")).to_contain_text("stateDiagram-v2")
    table = page.locator("table")
    expect(table.locator("tbody tr")).to_have_count(7)
    expect(table.locator("tbody tr").nth(1)).to_contain_text("已分类")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("升级")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("电话提醒")
