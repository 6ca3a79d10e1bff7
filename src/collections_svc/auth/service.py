"""Users, passwords (argon2), tokens, sessions and the login rate limit. Services only flush."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from collections_svc.auth.models import AuthToken, LoginAttempt, Role, User
from collections_svc.config import Settings
from collections_svc.db import utcnow
from collections_svc.errors import Conflict, TooManyRequests, Unauthenticated, ValidationFailed

_STRONG = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3)
_CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)


def _hasher() -> PasswordHasher:
    # Test runs (COLLECTIONS_ENV=test) hash hundreds of fixture passwords; the strong profile costs
    # ~0.1 s each. Verification always uses the parameters stored in the hash itself.
    return _CHEAP if os.environ.get("COLLECTIONS_ENV") == "test" else _STRONG


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system (scheduler, sweep, import CLI)."""

    id: int | None
    username: str
    role: Role | None
    team: str | None = None

    @property
    def is_system(self) -> bool:
        return self.id is None


SYSTEM = Actor(id=None, username="system", role=None)


def actor_of(user: User) -> Actor:
    return Actor(id=user.id, username=user.username, role=user.role, team=user.team)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValidationFailed("The password is too short.",
                               errors=[{"field": "password", "message": "at least 10 characters"}])
    return _hasher().hash(password)


def create_user(session: Session, *, username: str, password: str, role: Role, display_name: str | None = None,
                team: str | None = None, approval_limit=None, locale: str = "zh_CN") -> User:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"A user named {username!r} already exists.")
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=role, team=team, approval_limit=approval_limit, locale=locale)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, settings: Settings, username: str, password: str, client: str) -> User:
    since = utcnow() - dt.timedelta(seconds=settings.security.login_window_seconds)
    failures = session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.at >= since)
    ) or 0
    if failures >= settings.security.login_max_attempts:
        raise TooManyRequests("Too many failed sign-in attempts for this user. Wait a few minutes and try again.")
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and user.active:
        try:
            ok = _hasher().verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok:
        session.add(LoginAttempt(username=username, client=client[:64]))
        session.flush()
        raise Unauthenticated("Wrong user name or password.")
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    return user


def issue_token(session: Session, user: User, *, kind: str, ttl: dt.timedelta, name: str | None = None
                ) -> tuple[str, str | None, AuthToken]:
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "session" else None
    tok = AuthToken(user_id=user.id, token_hash=_digest(secret), kind=kind, name=name,
                    csrf_hash=_digest(csrf) if csrf else None, expires_at=utcnow() + ttl)
    session.add(tok)
    session.flush()
    return secret, csrf, tok


def resolve_token(session: Session, secret: str, kind: str | None = None) -> tuple[User, AuthToken] | None:
    tok = session.scalar(select(AuthToken).where(AuthToken.token_hash == _digest(secret)))
    if tok is None or tok.revoked or tok.expires_at <= utcnow() or (kind and tok.kind != kind):
        return None
    user = session.get(User, tok.user_id)
    if user is None or not user.active:
        return None
    return user, tok


def csrf_matches(tok: AuthToken, presented: str | None) -> bool:
    return bool(presented) and tok.csrf_hash is not None and secrets.compare_digest(tok.csrf_hash, _digest(presented))


def revoke(session: Session, tok: AuthToken) -> None:
    tok.revoked = True
    session.flush()
