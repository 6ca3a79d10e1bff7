"""Authentication and per-endpoint role checks.

Every router endpoint declares ``Depends(allow(...roles))``. The guard object keeps its roles so a
test can walk the route table and prove each endpoint rejects anonymous calls and other roles.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from collections_svc.auth import service
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import Actor
from collections_svc.common.context import actor_var
from collections_svc.db import get_session
from collections_svc.errors import Forbidden, Unauthenticated

SESSION_COOKIE = "cs_session"
CSRF_COOKIE = "cs_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

DbSession = Annotated[Session, Depends(get_session, scope="function")]


def current_user(request: Request, session: DbSession) -> User:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        found = service.resolve_token(session, auth[7:].strip(), kind="api")
        if found is None:
            raise Unauthenticated("The access token is invalid or has expired. Sign in again.")
        user, _ = found
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise Unauthenticated("Sign in to use this service.")
        found = service.resolve_token(session, cookie, kind="session")
        if found is None:
            raise Unauthenticated("Your session has expired. Sign in again.")
        user, tok = found
        # Cookie sessions must prove the request came from our page (double-submit CSRF token).
        if request.method not in SAFE_METHODS and not service.csrf_matches(tok, request.headers.get(CSRF_HEADER)):
            raise Forbidden("The request is missing its security token (CSRF). Reload the page and try again.")
        request.state.auth_token = tok
    request.state.user = user
    request.state.actor = user.username  # for the access log line (main.py)
    actor_var.set(user.username)
    return user


class RoleGuard:
    def __init__(self, roles: tuple[Role, ...]):
        self.roles = roles

    def __call__(self, user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in self.roles:
            allowed = ", ".join(r.value for r in self.roles)
            raise Forbidden(f"Your role ({user.role.value}) may not do this; it needs one of: {allowed}.")
        return user


def allow(*roles: Role) -> RoleGuard:
    return RoleGuard(tuple(roles))


STAFF = (Role.collector, Role.supervisor, Role.risk_officer, Role.admin)
READERS = (*STAFF, Role.auditor)
WRITERS_BOOK = (Role.admin, Role.integration)


def actor_dep(user: User) -> Actor:
    return service.actor_of(user)
