from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from collections_svc.audit.service import record
from collections_svc.auth import service
from collections_svc.auth.deps import CSRF_COOKIE, SESSION_COOKIE, DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.schemas import (
    ApiTokenCreate,
    Credentials,
    SessionOut,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from collections_svc.errors import NotFound, StaleVersion, Unauthenticated, problem

router = APIRouter(prefix="/api/v1", tags=["auth"])
Admin = Annotated[User, Depends(allow(Role.admin))]
# Any signed-in user, whatever the role (still a RoleGuard, so the route-table test sees it).
AnyUser = Annotated[User, Depends(allow(*Role))]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/token", response_model=TokenOut, summary="Sign in and get a bearer token (API clients)")
def token(body: Credentials, request: Request, session: DbSession):
    settings = request.app.state.settings
    try:
        user = service.authenticate(session, settings, body.username, body.password, _client(request))
    except Unauthenticated as exc:
        # Returned, not raised: the failed attempt must be committed for the rate limit to count it.
        return problem(exc.status, exc.code, exc.title, exc.detail, request)
    secret, _, tok = service.issue_token(session, user, kind="api",
                                         ttl=dt.timedelta(hours=settings.security.token_ttl_hours))
    return TokenOut(access_token=secret, expires_at=tok.expires_at, user=UserOut.model_validate(user))


@router.post("/auth/login", response_model=SessionOut, summary="Sign in the browser UI (cookie session)")
def login(body: Credentials, request: Request, response: Response, session: DbSession):
    settings = request.app.state.settings
    try:
        user = service.authenticate(session, settings, body.username, body.password, _client(request))
    except Unauthenticated as exc:
        return problem(exc.status, exc.code, exc.title, exc.detail, request)
    ttl = dt.timedelta(hours=settings.security.session_ttl_hours)
    secret, csrf, tok = service.issue_token(session, user, kind="session", ttl=ttl)
    secure = settings.security.cookie_secure
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(ttl.total_seconds()), httponly=True,
                        samesite="strict", secure=secure, path="/")
    # Readable by our own script, which echoes it in X-CSRF-Token (double submit).
    response.set_cookie(CSRF_COOKIE, csrf or "", max_age=int(ttl.total_seconds()), httponly=False,
                        samesite="strict", secure=secure, path="/")
    return SessionOut(csrf_token=csrf or "", expires_at=tok.expires_at, user=UserOut.model_validate(user))


@router.post("/auth/logout", status_code=204, summary="End the browser session or revoke the bearer token")
def logout(request: Request, session: DbSession, user: AnyUser):
    tok = getattr(request.state, "auth_token", None)
    auth = request.headers.get("authorization", "")
    if tok is None and auth.lower().startswith("bearer "):
        found = service.resolve_token(session, auth[7:].strip())
        tok = found[1] if found else None
    if tok is not None:
        service.revoke(session, tok)
    resp = Response(status_code=204)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    resp.delete_cookie(CSRF_COOKIE, path="/")
    return resp


@router.get("/auth/me", response_model=UserOut, summary="The signed-in user")
def me(user: AnyUser):
    return user


@router.get("/users", response_model=list[UserOut], tags=["admin"], summary="List users")
def list_users(session: DbSession, _: Annotated[User, Depends(allow(Role.admin, Role.supervisor, Role.auditor))]):
    return session.scalars(select(User).order_by(User.username)).all()


@router.post("/users", response_model=UserOut, status_code=201, tags=["admin"], summary="Create a user")
def create_user(body: UserCreate, session: DbSession, admin: Admin):
    user = service.create_user(session, username=body.username, password=body.password, role=body.role,
                               display_name=body.display_name, team=body.team,
                               approval_limit=body.approval_limit, locale=body.locale)
    record(session, service.actor_of(admin), "user.create", "user", user.id,
           after={"username": user.username, "role": user.role.value, "team": user.team})
    return user


@router.patch("/users/{user_id}", response_model=UserOut, tags=["admin"], summary="Change a user")
def update_user(user_id: int, body: UserUpdate, session: DbSession, admin: Admin):
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    if user.version != body.version:
        raise StaleVersion("This user was changed by someone else. Reload and try again.", current_version=user.version)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    before = {k: _plain(getattr(user, k)) for k in changes}
    for k, v in changes.items():
        setattr(user, k, v)
    session.flush()
    record(session, service.actor_of(admin), "user.update", "user", user.id, before=before,
           after={k: _plain(getattr(user, k)) for k in changes})
    return user


@router.post("/users/{user_id}/tokens", status_code=201, tags=["admin"],
             summary="Issue a long-lived API token (integration clients)")
def create_api_token(user_id: int, body: ApiTokenCreate, session: DbSession, admin: Admin) -> JSONResponse:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    secret, _, tok = service.issue_token(session, user, kind="api", ttl=dt.timedelta(days=body.ttl_days),
                                         name=body.name)
    record(session, service.actor_of(admin), "token.create", "user", user.id, after={"name": body.name})
    return JSONResponse({"access_token": secret, "token_type": "bearer", "expires_at": tok.expires_at.isoformat(),
                         "note": "Store this token now; it is not shown again."}, status_code=201)


def _plain(v):
    return v.value if hasattr(v, "value") else (str(v) if v is not None and not isinstance(v, (int, bool, str)) else v)
