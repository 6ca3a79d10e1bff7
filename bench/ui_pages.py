"""Page load times of the web UI in a real browser, on the demo book (SQLite, 300 borrowers by default).

Usage: .venv/bin/python bench/ui_pages.py [--borrowers 300] [--runs 15] [--history-days 31]

Each sample is a full navigation (new document, all modules, the page's API calls) until the page's
content is on screen. The floor is a bare navigation to a static file in the same browser and run, so
figures are printed both in ms and as a ratio to it. Target (issue 8): median under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from collections_svc.ui.demo_server import DEMO_PASSWORD, running_server, seeded_sqlite

TARGET_MS = 300.0


def timed(page, base: str, url: str, ready: str) -> tuple[float, float]:
    """(ms from navigation start to the page's content on screen, wall ms seen by the driver)."""
    page.goto(base + "/health")  # leave the app: the next load is a whole new document
    start = time.perf_counter()
    page.goto(url)
    page.locator(ready).first.wait_for()
    wall = (time.perf_counter() - start) * 1000
    if url.endswith(".css"):
        in_page = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    else:
        in_page = page.evaluate("performance.getEntriesByName('cs:ready').at(-1).startTime")
    return in_page, wall


def signed_in(browser, base: str, username: str):
    page = browser.new_context().new_page()
    page.goto(base + "/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.locator("[data-testid=who]").wait_for()
    return page


def measure(page, base: str, pages: dict[str, tuple[str, str]], runs: int) -> dict[str, tuple[float, float]]:
    results = {}
    for name, (target, ready) in pages.items():
        timed(page, base, target, ready)  # warm-up
        samples = [timed(page, base, target, ready) for _ in range(runs)]
        results[name] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))
    return results


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--borrowers", type=int, default=300)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--history-days", type=int, default=31)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        # a month of past nights first: the report pages read a month of daily snapshots
        url = seeded_sqlite(Path(tmp) / "bench.db", borrowers=args.borrowers, history_days=args.history_days)
        print(f"seeded {args.borrowers} borrowers in {time.perf_counter() - t0:.1f} s")
        with running_server(url) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("COLLECTIONS_CHROMIUM", "/usr/bin/chromium"),
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            page = signed_in(browser, base, "collector")
            loan = page.request.get(base + "/api/v1/loans?dpd_min=1&size=1").json()["items"][0]
            pages = {
                "floor (static file)": (base + "/css/app.css", "body"),
                "dashboard": (base + "/#/dashboard", "svg.chart"),
                "borrower search": (base + "/#/borrowers", "main table"),
                "borrower": (base + f"/#/borrowers/{loan['borrower_id']}", "main table"),
                "loan schedule": (base + f"/#/loans/{loan['id']}", "main tfoot"),
            }
            if page.request.get(base + "/api/v1/cases?size=1").status != 404:
                pages["my queue"] = (base + "/#/queue", "main table, main .msg")
            results = measure(page, base, pages, args.runs)
            # Supervisor and administrator pages, in the administrator's session.
            admin = signed_in(browser, base, "admin")
            results.update(measure(admin, base, {
                "dashboard + reports": (base + "/#/dashboard", "#stage-table, #trend-table"),
                "reports page": (base + "/#/reports", "#roll-matrix"),
                "approvals inbox": (base + "/#/approvals", "main table, main .msg"),
                "warnings": (base + "/#/monitoring", "main table, main .msg"),
                "reviews due": (base + "/#/monitoring/reviews", "main table, main .msg"),
                "strategies": (base + "/#/admin/strategies", "tr[data-version]"),
                "scheduler": (base + "/#/admin/scheduler", "tr[data-job]"),
            }, args.runs))
            browser.close()
    floor = results["floor (static file)"][0]
    print(f"median of {args.runs} loads; 'load' = navigation start to content on screen (Navigation Timing)")
    print(f"{'page':<22}{'load ms':>9}{'x floor':>9}{'driver ms':>11}  target {TARGET_MS:.0f} ms")
    worst = 0.0
    for name, (ms, wall) in results.items():
        is_floor = name.startswith("floor")
        worst = worst if is_floor else max(worst, ms)
        flag = "" if is_floor else ("  ok" if ms < TARGET_MS else "  SLOW")
        print(f"{name:<22}{ms:>9.1f}{ms / floor:>9.1f}{wall:>11.1f}{flag}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
