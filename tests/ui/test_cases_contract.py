"""Queue and case detail against the cases API contract, before that API is on this branch.

The browser's requests to /api/v1/cases* and /api/v1/visits* are answered by a small in-test stand-in
that follows the cases API's shapes (CaseDetail, QueueRow page, TimelineItemOut, VisitOut, PromiseOut,
HoldOut, LifecycleOut) without its rules; borrowers and loans come from the real server. These tests
check the UI's side of the contract: what it renders and exactly what it sends. Once the real cases
API is merged, tests/ui/test_cases_ui.py covers the same flows end to end.
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
AT = "2026-04-01T02:00:00Z"


class FakeCases:
    def __init__(self, loan: dict, borrower: dict):
        self.case = {
            "id": 7,
            "loan_id": loan["id"],
            "borrower_id": borrower["id"],
            "borrower_name": borrower["name"],
            "stage": "phone_reminder",
            "is_open": True,
            "opened_on": "2026-03-20",
            "closed_on": None,
            "stage_entered_on": "2026-03-30",
            "assignee_id": 4,
            "team": "华东一组",
            "next_action_on": "2026-04-03",
            "broken_promises": 0,
            "version": 3,
            "on_hold": False,
            "holds": [],
            "allowed_triggers": ["escalate", "cure", "open_negotiation"],
            "loan_external_id": loan["external_id"],
            "contract_no": loan["contract_no"],
            "dpd": loan["dpd"],
            "bucket": loan["bucket"],
            "overdue_amount": loan["overdue_amount"],
            "outstanding_principal": loan["outstanding_principal"],
        }
        self.timeline = [
            self._item("opened", "case opened in classified", {"to_stage": "classified"}),
            self._item(
                "stage_change",
                "escalate: classified → phone_reminder",
                {
                    "from_stage": "classified",
                    "to_stage": "phone_reminder",
                    "trigger": "escalate",
                    "reason": None,
                },
                actor="system",
            ),
        ]
        self.visits: list[dict] = []
        self.promises: list[dict] = []
        self.posts: list[tuple[str, dict]] = []
        self.queries: list[dict] = []

    @staticmethod
    def _item(kind, title, data, actor="collector"):
        return {"on": "2026-04-01", "at": AT, "kind": kind, "title": title, "actor": actor, "data": data}

    def handle(self, route):
        req = route.request
        url = urlparse(req.url)
        path = url.path
        if req.method == "GET":
            if path == "/api/v1/cases":
                self.queries.append({k: v[0] for k, v in parse_qs(url.query).items()})
                row = {
                    k: self.case[k]
                    for k in (
                        "id",
                        "loan_id",
                        "loan_external_id",
                        "contract_no",
                        "borrower_id",
                        "borrower_name",
                        "stage",
                        "is_open",
                        "assignee_id",
                        "team",
                        "next_action_on",
                        "dpd",
                        "bucket",
                        "overdue_amount",
                        "broken_promises",
                        "on_hold",
                        "version",
                    )
                }
                return self._json(
                    route, {"items": [{**row, "priority": 120}], "total": 1, "page": 1, "size": 50}
                )
            found = {
                "/api/v1/cases/lifecycle": {
                    "mermaid": MERMAID,
                    "stages": [],
                    "open_stages": [],
                    "closed_stages": [],
                    "triggers": [],
                },
                "/api/v1/cases/7": self.case,
                "/api/v1/cases/7/timeline": self.timeline,
                "/api/v1/cases/7/visits": self.visits,
                "/api/v1/cases/7/promises": self.promises,
            }
            if path in found:
                return self._json(route, found[path])
            return self._json(route, {"title": "Not Found", "status": 404, "detail": "Not Found"}, 404)
        body = req.post_data_json
        self.posts.append((path, {"body": body, "csrf": req.headers.get("x-csrf-token")}))
        if path == "/api/v1/cases/7/transitions":
            if body.get("version") != self.case["version"]:
                return self._json(
                    route,
                    {
                        "type": "https://collections-svc.dev/problems/stale-version",
                        "title": "Someone else changed this record first",
                        "status": 409,
                        "detail": "The case was changed by someone else.",
                    },
                    409,
                )
            self.case.update(stage="letter", version=self.case["version"] + 1, allowed_triggers=["cure"])
            self.timeline.append(
                self._item(
                    "stage_change",
                    "escalate: phone_reminder → letter",
                    {
                        "from_stage": "phone_reminder",
                        "to_stage": "letter",
                        "trigger": body["trigger"],
                        "reason": body.get("reason"),
                    },
                )
            )
            return self._json(route, {"case": self.case, "event": {}})
        if path == "/api/v1/cases/7/contacts":
            self.timeline.append(
                self._item(
                    "contact",
                    f"{body['channel']}: {body['outcome']}",
                    {
                        "contact_id": body["contact_id"],
                        "note": body["note"],
                        "next_action_on": body["next_action_on"],
                    },
                )
            )
            if body.get("promise"):
                p = body["promise"]
                self.promises.append(
                    {
                        "id": 1,
                        "case_id": 7,
                        "amount": p["amount"],
                        "due_on": p["due_on"],
                        "grace_days": p["grace_days"],
                        "status": "open",
                        "paid_amount": "0.00",
                        "created_by": "collector",
                    }
                )
            return self._json(route, {"id": 1}, 201)
        if path == "/api/v1/cases/7/visits":
            self.visits.append(
                {
                    "id": 1,
                    "case_id": 7,
                    "scheduled_on": body["scheduled_on"],
                    "address": body["address"],
                    "status": "scheduled",
                    "findings": None,
                    "operating_status": None,
                    "collateral_status": None,
                    "version": 1,
                    "attachments": [],
                }
            )
            return self._json(route, self.visits[-1], 201)
        if path == "/api/v1/visits/1/report":
            self.visits[0].update(
                status="reported",
                findings=body["findings"],
                version=2,
                operating_status=body["operating_status"],
                collateral_status=body["collateral_status"],
            )
            self.timeline.append(
                self._item(
                    "visit",
                    "visit reported",
                    {
                        "status": "reported",
                        "findings": body["findings"],
                        "operating_status": body["operating_status"],
                    },
                )
            )
            return self._json(route, self.visits[0])
        if path == "/api/v1/cases/7/holds":
            hold = {
                "id": 1,
                "kind": body["kind"],
                "starts_on": body.get("starts_on", "2026-04-01"),
                "ends_on": body.get("ends_on"),
                "reason": body.get("reason"),
                "created_by": "collector",
                "released_by": None,
            }
            self.case["holds"].append(hold)
            self.case.update(on_hold=True, version=self.case["version"] + 1)
            return self._json(route, hold, 201)
        return self._json(
            route, {"title": "Method Not Allowed", "status": 405, "detail": "Method Not Allowed"}, 405
        )

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
    page.route("**/api/v1/visits/**", fake.handle)
    return fake


def triggers_on(page) -> list[str]:
    return page.locator("button[data-trigger]").evaluate_all("els => els.map(e => e.dataset.trigger)")


def test_queue_sends_filters_and_opens_the_case(fake_cases, login, page, ui_server):
    login("collector", "en")
    page.locator("nav a[data-nav=queue]").click()
    row_link = page.locator("a.row-link[href='#/cases/7']")
    expect(row_link).to_have_text(fake_cases.case["borrower_name"])
    expect(page.locator("main table tbody tr")).to_contain_text(fake_cases.case["contract_no"])
    # The collector's queue defaults to their own cases, by priority.
    me = page.request.get(ui_server + "/api/v1/auth/me").json()
    assert fake_cases.queries[-1]["assignee_id"] == str(me["id"])
    assert fake_cases.queries[-1]["sort"] == "-priority"
    form = page.locator("#queue-filters")
    form.locator("select[name=stage]").select_option("letter")
    form.locator("input[name=dpd_min]").fill("30")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{ui_server}/#/queue?stage=letter&dpd_min=30&status=open&sort=-priority&mine=1")
    assert fake_cases.queries[-1]["stage"] == "letter" and fake_cases.queries[-1]["dpd_min"] == "30"
    page.locator("a.row-link").click()
    expect(page.locator("h1")).to_have_text(f"Case 7 · {fake_cases.case['borrower_name']}")


def test_case_detail_buttons_call_with_promise_and_transition(fake_cases, login, page, ui_server):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login("collector", "en")
    page.goto(ui_server + "/#/cases/7")
    expect(page.locator("[data-testid=stage]")).to_have_text("Phone reminder")
    assert triggers_on(page) == ["escalate", "cure", "open_negotiation"]
    expect(page.locator("table").filter(has_text="Due date")).to_be_visible()
    expect(page.locator("#timeline li[data-kind=stage_change]")).to_contain_text(
        "Escalate: Classified → Phone reminder"
    )

    # Log a call with a promise; the note is hostile text and must come back as text.
    note = "<script>alert(1)</script>"
    call = page.locator("#call-form")
    call.locator("select[name=outcome]").select_option("promised")
    call.locator("textarea[name=note]").fill(note)
    call.locator("input[name=next_action_on]").fill("2026-04-08")
    call.locator("#with-promise").check()
    call.locator("input[name=amount]").fill("12000.50")
    call.locator("input[name=due_on]").fill("2026-04-10")
    call.locator("button[type=submit]").click()
    expect(page.locator("#timeline .ev-text")).to_have_text(note)
    path, sent = fake_cases.posts[-1]
    contacts = page.request.get(f"{ui_server}/api/v1/borrowers/{fake_cases.case['borrower_id']}").json()[
        "contacts"
    ]
    assert path == "/api/v1/cases/7/contacts"
    assert sent["body"] == {
        "channel": "phone",
        "contact_id": contacts[0]["id"],
        "outcome": "promised",
        "note": note,
        "next_action_on": "2026-04-08",
        "promise": {"amount": "12000.50", "due_on": "2026-04-10", "grace_days": 3},
    }
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "cs_csrf")
    assert sent["csrf"] == csrf
    contact_entry = page.locator("#timeline li[data-kind=contact]")
    expect(contact_entry).to_contain_text(f"Phone · Promised to pay · {contacts[0]['name']}")
    expect(page.locator("table").filter(has_text="Taken by")).to_contain_text("CN¥12,000.50")

    # A transition with a reason carries the case version; the buttons follow the new allowed_triggers.
    page.locator("button[data-trigger=escalate]").click()
    page.locator("#transition-form textarea[name=reason]").fill("Three calls unanswered")
    page.locator("#transition-form button[type=submit]").click()
    assert len(fake_cases.posts) == 1  # escalate needs a target stage: the browser asks for it first
    page.locator("#transition-form select[name=target]").select_option("letter")
    page.locator("#transition-form button[type=submit]").click()
    expect(page.locator("[data-testid=stage]")).to_have_text("Letter")
    assert fake_cases.posts[-1] == (
        "/api/v1/cases/7/transitions",
        {
            "body": {
                "trigger": "escalate",
                "version": 3,
                "reason": "Three calls unanswered",
                "target": "letter",
            },
            "csrf": csrf,
        },
    )
    expect(page.locator("#timeline")).to_contain_text("Three calls unanswered")
    assert triggers_on(page) == ["cure"]
    assert page.locator("main script").count() == 0
    assert dialogs == []


def test_schedule_and_report_a_visit_and_add_a_hold(fake_cases, login, page, ui_server):
    login("collector", "zh-CN")
    page.goto(ui_server + "/#/cases/7")
    schedule = page.locator("#visit-form")
    schedule.locator("input[name=scheduled_on]").fill("2026-04-02")
    schedule.locator("input[name=address]").fill("无锡市工业园区75号")
    schedule.locator("button[type=submit]").click()
    expect(page.locator("#visits li[data-visit='1']")).to_contain_text("已安排")
    assert fake_cases.posts[-1][1]["body"] == {"scheduled_on": "2026-04-02", "address": "无锡市工业园区75号"}
    report = page.locator("form.report-form[data-visit='1']")
    report.locator("input[name=visited_on]").fill("2026-04-02")
    report.locator("select[name=operating_status]").select_option("reduced")
    report.locator("textarea[name=findings]").fill("工厂半数产线停工，财务总监承诺周五前提交还款计划。")
    report.locator("button[type=submit]").click()
    expect(page.locator("#visits li[data-visit='1']")).to_contain_text("已报告")
    assert fake_cases.posts[-1] == (
        "/api/v1/visits/1/report",
        {
            "body": {
                "findings": "工厂半数产线停工，财务总监承诺周五前提交还款计划。",
                "operating_status": "reduced",
                "collateral_status": "intact",
                "visited_on": "2026-04-02",
                "version": 1,
            },
            "csrf": fake_cases.posts[-1][1]["csrf"],
        },
    )
    expect(page.locator("#timeline li[data-kind=visit]")).to_contain_text("减产")
    expect(page.locator("form.report-form")).to_have_count(0)

    hold = page.locator("#hold-form")
    hold.locator("select[name=kind]").select_option("dispute")
    hold.locator("textarea[name=reason]").fill("借款人对罚息金额有异议")
    hold.locator("button[type=submit]").click()
    expect(page.locator("table").filter(has_text="设置人")).to_contain_text("争议")
    assert fake_cases.posts[-1][1]["body"] == {
        "kind": "dispute",
        "reason": "借款人对罚息金额有异议",
        "version": 3,
    }
    expect(page.locator("button[data-release='1']")).to_be_visible()


def test_stale_version_is_explained(fake_cases, login, page, ui_server):
    login("collector", "en")
    page.goto(ui_server + "/#/cases/7")
    page.locator("button[data-trigger=cure]").click()
    fake_cases.case["version"] = 4  # someone else changed the case meanwhile
    page.locator("#transition-form button[type=submit]").click()
    expect(page.locator("#transition-form .msg-error")).to_contain_text(
        "Someone else changed this record first"
    )
    expect(page.locator("#transition-form .msg-error")).to_contain_text(
        "The case was changed by someone else."
    )


def test_lifecycle_shows_the_machine_as_a_matrix(fake_cases, login, page):
    login("collector", "zh-CN")
    page.locator("nav a[data-nav=lifecycle]").click()
    expect(page.locator("#mermaid-src")).to_contain_text("stateDiagram-v2")
    matrix = page.locator("#lifecycle-matrix")
    expect(matrix.locator("tr[data-from=classified] th")).to_have_text("已分类")
    expect(matrix.locator("tr[data-from=classified] td[data-to=phone_reminder]")).to_have_text("升级")
    expect(matrix.locator("tr[data-from=classified] td[data-to=letter]")).to_have_text("")
    expect(matrix.locator("tr[data-from=restructuring] td[data-to=restructured]")).to_have_text(
        "重组 [needs approval]"
    )
    expect(matrix.locator("tbody tr")).to_have_count(5)  # the start and every stage an action can leave
