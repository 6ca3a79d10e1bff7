"""Regenerate the UI screenshots under docs/screenshots/ (both languages).

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--borrowers 60] [--only monitoring,reviews]

Seeds a throwaway SQLite demo book, runs the real server on a free local port, and drives Debian's
Chromium (/usr/bin/chromium, or $COLLECTIONS_CHROMIUM) through Playwright. Queue and case pages are
captured only when the server has the cases API (GET /api/v1/cases is not 404).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from collections_svc.ui.demo_server import DEMO_PASSWORD, running_server, seeded_sqlite

ROOT = Path(__file__).resolve().parents[1]
LOCALES = {"zh-CN": "zh", "en": "en"}
ONLY: set[str] = set()  # --only: the screenshot names to take (empty: all)


def wanted(path: Path) -> bool:
    return not ONLY or path.stem.rsplit("-", 1)[0] in ONLY


class Api:
    """Bearer-token client of the public API, to give the demo some case work to show."""

    def __init__(self, base: str, username: str):
        self.base = base
        tok = self.call(
            "POST", "/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD}, auth=False
        )
        self.auth = {"Authorization": f"Bearer {tok['access_token']}"}

    def call(self, method: str, path: str, body=None, auth: bool = True):
        req = urllib.request.Request(  # noqa: S310 - our local server
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", **(self.auth if auth else {})},
        )
        with urllib.request.urlopen(req, timeout=20) as r:  # noqa: S310 - our local server
            return json.loads(r.read() or b"null")


def prepare_cases(base: str) -> None:
    """When the book has no case the collector can see, open a few (supervisor) and work one (collector)."""
    collector = Api(base, "collector")
    try:
        rows = collector.call("GET", "/api/v1/cases?size=1")["items"]
    except urllib.error.HTTPError:
        return
    if rows:
        return
    supervisor = Api(base, "supervisor")
    me = collector.call("GET", "/api/v1/auth/me")
    loans = supervisor.call("GET", "/api/v1/loans?dpd_min=1&size=6")["items"]
    ids = [supervisor.call("POST", "/api/v1/cases", {"loan_id": loan["id"]})["id"] for loan in loans]
    supervisor.call(
        "POST", "/api/v1/cases/assignments", {"case_ids": ids, "assignee_id": me["id"], "team": me["team"]}
    )
    case = collector.call("GET", f"/api/v1/cases/{ids[0]}")
    contacts = collector.call("GET", f"/api/v1/borrowers/{case['borrower_id']}")["contacts"]
    soon = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    collector.call(
        "POST",
        f"/api/v1/cases/{ids[0]}/contacts",
        {
            "channel": "phone",
            "outcome": "promised",
            "contact_id": contacts[0]["id"],
            "note": "财务负责人确认资金已到位，承诺下周付款。",
            "next_action_on": soon,
            "promise": {"amount": "100000.00", "due_on": soon, "grace_days": 3},
        },
    )
    collector.call(
        "POST",
        f"/api/v1/cases/{ids[0]}/visits",
        {"scheduled_on": soon, "address": contacts[0].get("address") or "工业园区1号"},
    )


def login(page, base: str, user: str, locale: str) -> None:
    page.goto(base + "/")
    page.evaluate("l => localStorage.setItem('cs_locale', l)", locale)
    page.reload()
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.locator("[data-testid=who]").wait_for()


def shoot(page, base: str, route: str, path: Path, *, ready: str = "main h1", full: bool = True) -> None:
    if not wanted(path):
        return
    page.goto(f"{base}/#{route}")
    page.locator(ready).first.wait_for()
    page.wait_for_load_state("networkidle")  # late reads (contract numbers on monitoring lists) have landed
    page.mouse.move(0, 0)  # no tooltip left open by where the last click was
    page.wait_for_timeout(150)
    page.screenshot(path=str(path), full_page=full)
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


DRAFT = {"version": "early-visit-1", "description": "visit from 15 days past due; remind from day 1",
         "rules": [{"id": "early_visit", "when": {"dpd_min": 15}, "target": "visit", "tasks": ["visit"]},
                   {"id": "remind", "when": {"dpd_min": 1}, "target": "phone_reminder",
                    "notices": ["sms/first_reminder"]}]}


def shoot_staff(browser, base: str, locale: str, suffix: str, out: Path) -> None:
    """Supervisor and administrator pages: dashboard with the report charts, reports, approvals inbox,
    monitoring, strategies, scheduler."""
    for user, pages in (
        ("supervisor", [("/dashboard", "dashboard-supervisor", "#stage-table, #trend-table", True),
                        ("/reports?by=region", "reports", "#roll-matrix", True),
                        ("/approvals", "approvals", "main h1", False),
                        ("/monitoring", "monitoring", "main table, main .msg", False),
                        ("/monitoring/reviews?overdue=1", "reviews", "main table, main .msg", False)]),
        ("admin", [("/admin/strategies", "strategies", "tr[data-version]", False),
                   ("/admin/scheduler", "scheduler", "tr[data-job]", True)]),
    ):
        ctx = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1, locale=locale)
        page = ctx.new_page()
        login(page, base, user, locale)
        for route, name, ready, full in pages:
            shoot(page, base, route, out / f"{name}-{suffix}.png", ready=ready, full=full)
        path = out / f"review-report-{suffix}.png"
        if user == "supervisor" and wanted(path):
            # the review report form opened on the first due task
            page.goto(f"{base}/#/monitoring/reviews")
            page.locator("button[data-action=review-report]").first.click()
            page.locator("form.review-report textarea[name=conclusion]").fill(
                "经营正常，还款来源充足" if suffix == "zh" else "Business as usual; repayment sources adequate")
            page.locator(".report-slot h2").evaluate("e => e.scrollIntoView()")
            page.mouse.move(0, 0)
            page.wait_for_timeout(150)
            page.screenshot(path=str(path), full_page=False)
            print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        if user == "admin" and wanted(out / f"strategy-preview-{suffix}.png"):
            # a dry run of a stricter draft: what the sweep would do with it on the book now
            page.goto(f"{base}/#/admin/strategies")
            page.locator("#draft-form textarea").fill(json.dumps(DRAFT, indent=2, ensure_ascii=False))
            page.locator("#draft-form button[data-act=preview]").click()
            page.locator("#preview-result").wait_for()
            page.locator("#preview-result").scroll_into_view_if_needed()
            page.wait_for_timeout(150)
            path = out / f"strategy-preview-{suffix}.png"
            page.screenshot(path=str(path), full_page=False)
            print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        ctx.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--borrowers", type=int, default=60)
    ap.add_argument("--only", default="", help="comma-separated names to take (e.g. monitoring,reviews); default all")
    args = ap.parse_args()
    ONLY.update(n.strip() for n in args.only.split(",") if n.strip())
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("COLLECTIONS_CHROMIUM", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory() as tmp:
        url = seeded_sqlite(Path(tmp) / "shots.db", borrowers=args.borrowers, history_days=62)
        with running_server(url) as base, sync_playwright() as pw:
            prepare_cases(base)
            browser = pw.chromium.launch(
                executable_path=chromium,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            try:
                for locale, suffix in LOCALES.items():
                    ctx = browser.new_context(
                        viewport={"width": 1280, "height": 860}, device_scale_factor=1, locale=locale
                    )
                    page = ctx.new_page()
                    login(page, base, "collector", locale)
                    loan = page.request.get(base + "/api/v1/loans?dpd_min=31&size=1").json()["items"][0]
                    print(f"{locale}:")
                    shoot(page, base, "/dashboard", args.out / f"dashboard-{suffix}.png", ready="svg.chart")
                    shoot(
                        page,
                        base,
                        "/borrowers",
                        args.out / f"borrowers-{suffix}.png",
                        ready="table",
                        full=False,
                    )
                    shoot(
                        page,
                        base,
                        f"/borrowers/{loan['borrower_id']}",
                        args.out / f"borrower-{suffix}.png",
                        ready="table",
                    )
                    shoot(page, base, f"/loans/{loan['id']}", args.out / f"loan-{suffix}.png", ready="table")
                    cases = page.request.get(base + "/api/v1/cases?size=1")
                    if cases.status == 404:
                        print("  (no cases API on this server: queue and case detail skipped)")
                    else:
                        body = cases.json()
                        rows = body["items"] if isinstance(body, dict) else body
                        shoot(page, base, "/queue?mine=", args.out / f"queue-{suffix}.png", full=False)
                        if rows:
                            shoot(
                                page,
                                base,
                                f"/cases/{rows[0]['id']}",
                                args.out / f"case-{suffix}.png",
                                ready="#timeline, .msg",
                            )
                        shoot(page, base, "/lifecycle", args.out / f"lifecycle-{suffix}.png")
                    ctx.close()
                    shoot_staff(browser, base, locale, suffix, args.out)
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
