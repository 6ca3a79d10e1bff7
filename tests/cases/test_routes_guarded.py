"""Every cases endpoint declares its roles and turns away anonymous callers."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from collections_svc.auth.deps import RoleGuard
from collections_svc.cases.router import router


def _guards(route: APIRoute) -> list[RoleGuard]:
    return [d.call for d in route.dependant.dependencies if isinstance(d.call, RoleGuard)]


def test_every_route_declares_roles_and_rejects_anonymous(client):
    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 20
    for route in routes:
        assert _guards(route), f"{route.path} declares no roles"
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods:
            r = client.request(method, path, json={})
            assert r.status_code == 401, (method, path, r.status_code)
