"""Browser tests: a real uvicorn server on a seeded SQLite file, driven by Debian's Chromium.

SQLite only: these tests exercise the UI; the API underneath is tested on SQLite and PostgreSQL
elsewhere. The server runs in a subprocess (collections_svc.ui.demo_server) for the whole session.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from collections_svc.ui.demo_server import DEMO_PASSWORD, running_server, seeded_sqlite

CHROMIUM = os.environ.get("COLLECTIONS_CHROMIUM", "/usr/bin/chromium")
# Generous waits: the suite shares the machine with other work; a slow page is not a wrong page.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(config, items):
    if not shutil.which(CHROMIUM):
        skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("ui") / "ui.db"
    # 35 past nights swept first: the trend and roll-rate reports have more than one snapshot
    url = seeded_sqlite(path, borrowers=30, history_days=35)
    with running_server(url) as base:
        yield base


@pytest.fixture(scope="session")
def base_url(ui_server) -> str:
    # pytest-base-url's fixture: page.goto("/") is relative to our server.
    return ui_server


class Api:
    """A plain HTTP client of the same server (bearer token) to read what the UI should show."""

    def __init__(self, base: str, username: str):
        self.base = base
        body = self._call("POST", "/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD})
        self.headers = {"Authorization": f"Bearer {body['access_token']}"}

    def _call(self, method: str, path: str, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,  # noqa: S310 - local URL
                                     headers={"Content-Type": "application/json", **(headers or {})})
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - local URL
            return json.loads(r.read() or b"null")

    def get(self, path: str):
        return self._call("GET", path, headers=self.headers)

    def post(self, path: str, body: dict):
        return self._call("POST", path, body, headers=self.headers)

    def status(self, path: str) -> int:
        try:
            self.get(path)
            return 200
        except urllib.error.HTTPError as exc:
            return exc.code


@pytest.fixture(scope="session")
def api_as(ui_server):
    cache: dict[str, Api] = {}

    def get(username: str) -> Api:
        if username not in cache:
            cache[username] = Api(ui_server, username)
        return cache[username]
    return get


@pytest.fixture
def login(page, ui_server):
    """login('collector') signs in through the login form and waits for the dashboard."""

    def do(username: str, locale: str = "zh-CN"):
        page.goto(ui_server + "/")
        page.evaluate("l => localStorage.setItem('cs_locale', l)", locale)
        page.goto(ui_server + "/#/dashboard")
        page.reload()  # a hash-only navigation keeps the loaded page; reload to apply the locale
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(DEMO_PASSWORD)
        page.locator("form.login button[type=submit]").click()
        page.locator("[data-testid=who]").wait_for()
        return page
    return do


@pytest.fixture(scope="session")
def case_id(api_as) -> int:
    """An open case the collector can see: from the seed's sweep, or opened and assigned by a supervisor."""
    data = api_as("collector").get("/api/v1/cases?size=20")
    rows = data["items"] if isinstance(data, dict) else data
    if rows:
        return rows[0]["id"]
    supervisor = api_as("supervisor")
    loan = supervisor.get("/api/v1/loans?dpd_min=31&size=1")["items"][0]
    case = supervisor.post("/api/v1/cases", {"loan_id": loan["id"]})
    me = api_as("collector").get("/api/v1/auth/me")
    supervisor.post("/api/v1/cases/assignments", {"case_ids": [case["id"]], "assignee_id": me["id"],
                                                  "team": me["team"]})
    return case["id"]
