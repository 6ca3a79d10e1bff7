"""Approvals inbox against the approvals API's shapes (ProposalOut, ProposalDetail, DecisionIn).

The approvals API is built on another branch: the browser's /api/v1/approvals* requests are answered
here by a stand-in with those shapes, to check what the page shows and exactly what it sends.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="alert(1)">'


class FakeApprovals:
    def __init__(self, loan_id: int):
        self.proposal = {
            "id": 5,
            "kind": "restructuring",
            "state": "submitted",
            "title": "Restructure HT2026000101 over 24 months",
            "loan_id": loan_id,
            "case_id": 7,
            "maker": "collector",
            "amount": "4475607.64",
            "currency": "CNY",
            "approvals_required": 1,
            "approvals_received": 0,
            "submitted_at": "2026-04-01T02:00:00Z",
            "decided_at": None,
            "version": 2,
            "age_hours": 30.4,
            "overdue": True,
            "can_decide": True,
            "payload": {"months": 24, "annual_rate": "0.0385", "reason": "Orders recovering from May"},
            "outcome": None,
            "decisions": [
                {
                    "id": 1,
                    "decision": "submitted",
                    "actor": "collector",
                    "comment": HOSTILE,
                    "at": "2026-04-01T02:00:00Z",
                    "business_date": "2026-04-01",
                }
            ],
        }
        self.posts: list[tuple[str, dict]] = []

    def handle(self, route):
        req = route.request
        path = urlparse(req.url).path
        if req.method == "GET" and path == "/api/v1/approvals":
            row = {k: v for k, v in self.proposal.items() if k not in ("payload", "outcome", "decisions")}
            return self._json(route, [row] if self.proposal["state"] == "submitted" else [])
        if req.method == "GET" and path == "/api/v1/approvals/5":
            return self._json(route, self.proposal)
        if req.method == "POST" and path in ("/api/v1/approvals/5/approve", "/api/v1/approvals/5/reject"):
            body = req.post_data_json
            self.posts.append((path, {"body": body, "csrf": req.headers.get("x-csrf-token")}))
            verb = path.rsplit("/", 1)[1]
            self.proposal.update(
                state="approved" if verb == "approve" else "rejected",
                can_decide=False,
                version=self.proposal["version"] + 1,
                approvals_received=1,
            )
            self.proposal["decisions"].append(
                {
                    "id": 2,
                    "decision": verb + "d" if verb == "approve" else "rejected",
                    "actor": "supervisor",
                    "comment": body.get("comment"),
                    "at": "2026-04-02T02:00:00Z",
                    "business_date": "2026-04-02",
                }
            )
            return self._json(route, self.proposal)
        return self._json(route, {"title": "Not Found", "status": 404, "detail": "Not Found"}, 404)

    @staticmethod
    def _json(route, body, status=200):
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


@pytest.fixture
def fake_approvals(page, api_as):
    loan = api_as("supervisor").get("/api/v1/loans?dpd_min=1&size=1")["items"][0]
    fake = FakeApprovals(loan["id"])
    page.route("**/api/v1/approvals**", fake.handle)
    return fake




def test_only_supervisors_and_admins_get_the_inbox_link(login, page):
    login("collector", "en")
    expect(page.locator("nav a[data-nav=queue]")).to_be_visible()
    expect(page.locator("nav a[data-nav=approvals]")).to_have_count(0)


def test_supervisor_approves_with_a_comment(fake_approvals, login, page, ui_server):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login("supervisor", "en")
    page.locator("nav a[data-nav=approvals]").click()
    row = page.locator("main table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Restructuring")
    expect(row).to_contain_text("CN¥4,475,607.64")
    expect(row).to_contain_text("overdue")
    row.locator("a.row-link").click()
    expect(page.locator("h1")).to_have_text(fake_approvals.proposal["title"])
    expect(page.locator(".facts").first).to_contain_text("Submitted")
    expect(page.locator("main")).to_contain_text("Orders recovering from May")
    # The maker's comment is shown as text.
    expect(page.locator("td .ev-text", has_text=HOSTILE)).to_have_text(HOSTILE)
    assert page.locator("main img").count() == 0

    # Rejecting needs a comment; nothing is sent without one.
    page.locator("button[data-decide=reject]").click()
    expect(page.locator("#decision-form .msg-error")).to_have_text(
        "Say why you reject it: the comment is required."
    )
    assert fake_approvals.posts == []

    page.locator("#decision-form textarea[name=comment]").fill("Cash flow plan is credible; approve.")
    page.locator("button[data-decide=approve]").click()
    expect(page.locator(".facts").first).to_contain_text("Approved")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "cs_csrf")
    assert fake_approvals.posts == [
        (
            "/api/v1/approvals/5/approve",
            {"body": {"version": 2, "comment": "Cash flow plan is credible; approve."}, "csrf": csrf},
        )
    ]
    expect(page.locator("main")).to_contain_text("You cannot decide this proposal")
    expect(page.locator("main table").last).to_contain_text("Cash flow plan is credible; approve.")
    page.locator(".crumbs a").click()
    expect(page.locator(".msg-info")).to_have_text("Nothing is waiting for a decision.")
    assert dialogs == []
