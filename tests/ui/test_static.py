"""The UI's static files: strict CSP on every UI response, no inline code, no HTML built from strings."""

from __future__ import annotations

import re
from pathlib import Path

import collections_svc.ui as ui_pkg

STATIC = Path(ui_pkg.__file__).parent / "static"


def test_ui_responses_carry_a_strict_csp(client):
    for path in ("/", "/js/app.js", "/css/app.css", "/i18n/zh-CN.js"):
        r = client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
    assert client.get("/").headers["cache-control"] == "no-cache"
    js_type = client.get("/js/app.js").headers["content-type"]
    assert js_type.startswith(("text/javascript", "application/javascript"))


def test_api_is_not_shadowed_by_the_ui(client):
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/health").json()["status"] == "ok"


def test_index_has_no_inline_script_or_style():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag
    assert all(not body.strip() for body in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S))
    assert "<style" not in html and "style=" not in html


def test_scripts_never_build_html_from_strings():
    banned = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
                        r"setAttribute\(\s*['\"](style|on\w+)")
    files = list(STATIC.rglob("*.js"))
    assert files
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert not banned.search(text), f"{f.name}: {banned.search(text).group(0)}"
        assert "localStorage.setItem(" not in text or f.name == "i18n.js", f.name


def test_both_locales_define_the_same_keys():
    def keys(name: str) -> set[str]:
        return set(re.findall(r"'([\w.\-]+)':", (STATIC / "i18n" / name).read_text(encoding="utf-8")))
    en, zh = keys("en.js"), keys("zh-CN.js")
    assert en == zh, sorted(en ^ zh)
    used = set()
    for f in STATIC.rglob("*.js"):
        used |= set(re.findall(r"\bt\('([\w.\-]+)'", f.read_text(encoding="utf-8")))
    assert used - en == set()


def test_every_module_is_preloaded():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/([^"]+)">', html))
    modules = {p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*.js")} - {"js/app.js"}
    assert preloaded == modules
