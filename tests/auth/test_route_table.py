"""Walk the whole route table: every endpoint rejects anonymous calls (401) and roles it does not allow (403).

The roles an endpoint allows are read from the ``RoleGuard`` objects in its dependency tree, so a new
router added by any package is covered without touching this file. An endpoint without a guard must be
listed in PUBLIC below, with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import routing
from fastapi.dependencies.models import Dependant

from collections_svc.auth.deps import RoleGuard
from collections_svc.auth.models import Role

# Endpoints anyone may call without signing in. Everything else needs a RoleGuard.
PUBLIC = {
    ("GET", "/health"),  # load balancer liveness probe
    ("GET", "/ready"),  # readiness probe
    ("POST", "/api/v1/auth/token"),  # sign-in: how a client gets a token in the first place
    ("POST", "/api/v1/auth/login"),  # sign-in for the browser UI
    # Twilio callbacks: authenticated by X-Twilio-Signature instead (tests/notices prove a bad one is 403).
    ("POST", "/api/v1/webhooks/twilio/status"),
    ("POST", "/api/v1/webhooks/twilio/inbound"),
}
DOC_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _guards(dep: Dependant) -> Iterator[RoleGuard]:
    if isinstance(dep.call, RoleGuard):
        yield dep.call
    for sub in dep.dependencies:
        yield from _guards(sub)


def api_routes(app) -> list[tuple[str, str, tuple[Role, ...] | None]]:
    """(method, path, allowed roles or None when unguarded) for every API operation."""
    out = []
    for ctx in routing.iter_route_contexts(app.routes):
        dependant = getattr(ctx, "dependant", None)
        path = getattr(ctx, "path", "")
        if dependant is None or path in DOC_PATHS:
            continue  # the UI static mount and FastAPI's own documentation pages
        guards = list(_guards(dependant))
        allowed = None
        if guards:
            allowed = tuple(r for r in Role if all(r in g.roles for g in guards))
        for method in sorted(ctx.methods - {"HEAD"}):
            out.append((method, path, allowed))
    return out


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _call(client, method: str, path: str, headers: dict[str, str] | None = None):
    # An empty JSON object as the body: the role check must answer before the body is validated.
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, _fill(path), json=body, headers=headers or {})


def test_route_table_is_not_empty_and_every_route_is_guarded_or_public(app):
    routes = api_routes(app)
    paths = {p for _, p, _ in routes}
    assert {"/api/v1/loans", "/api/v1/payments", "/api/v1/audit", "/api/v1/imports/{kind}/csv"} <= paths
    unguarded = {(m, p) for m, p, allowed in routes if allowed is None}
    assert unguarded == PUBLIC, (
        "every endpoint must declare its roles with Depends(allow(...)) or be listed in PUBLIC: "
        f"unguarded but not public: {sorted(unguarded - PUBLIC)}; "
        f"public but missing: {sorted(PUBLIC - unguarded)}"
    )
    empty = [(m, p) for m, p, allowed in routes if allowed == ()]
    assert not empty, f"guards on these endpoints allow no role at all: {empty}"


def test_openapi_lists_every_route(app):
    spec = app.openapi()["paths"]
    for method, path, _ in api_routes(app):
        assert method.lower() in spec.get(path, {}), f"{method} {path} is missing from the OpenAPI document"


def test_every_endpoint_rejects_anonymous_calls(client, users):
    checked = 0
    for method, path, allowed in api_routes(client.app):
        if allowed is None:
            continue
        r = _call(client, method, path)
        assert r.status_code == 401, f"{method} {path} answered {r.status_code} without sign-in: {r.text}"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/unauthenticated")
        checked += 1
    assert checked > 10


def test_every_endpoint_rejects_a_forged_or_unknown_token(client, users):
    for method, path, allowed in api_routes(client.app):
        if allowed is None:
            continue
        r = _call(client, method, path, {"Authorization": "Bearer not-a-real-token"})
        assert r.status_code == 401, f"{method} {path}: {r.status_code}"


def test_every_endpoint_rejects_roles_it_does_not_allow(client, auth):
    checked = 0
    for method, path, allowed in api_routes(client.app):
        if allowed is None:
            continue
        for role in Role:
            if role in allowed:
                continue
            r = _call(client, method, path, auth(role.value))
            assert r.status_code == 403, (
                f"{method} {path} should refuse role {role.value} (allows {[a.value for a in allowed]}), "
                f"got {r.status_code}: {r.text}"
            )
            body = r.json()
            assert r.headers["content-type"].startswith("application/problem+json")
            assert body["type"].endswith("/forbidden") and role.value in body["detail"]
            checked += 1
    assert checked > 20


def test_allowed_roles_get_past_the_guard(client, auth):
    """The other half: a role the guard lists is not turned away (whatever the endpoint then says)."""
    for method, path, allowed in api_routes(client.app):
        if not allowed or path == "/api/v1/auth/logout":  # logout would revoke the cached token
            continue
        for role in allowed:
            r = _call(client, method, path, auth(role.value))
            assert r.status_code != 401, f"{method} {path} as {role.value}: {r.text}"
            if r.status_code == 403:
                assert not r.json()["detail"].startswith("Your role"), f"{method} {path} refused {role.value}"


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_probes_need_no_sign_in(client, path):
    assert client.get(path).status_code == 200
