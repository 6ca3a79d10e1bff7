from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from collections_svc.db import Base, Money, UTCDateTime, VersionedMixin, utcnow


class Role(enum.StrEnum):
    collector = "collector"
    supervisor = "supervisor"
    risk_officer = "risk_officer"
    admin = "admin"
    auditor = "auditor"
    integration = "integration"


def role_enum() -> Enum:
    return Enum(Role, name="user_role", native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


class User(VersionedMixin, Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(role_enum())
    team: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    # The largest outstanding principal this user may approve (maker-checker); null = none.
    approval_limit: Mapped[object | None] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AuthToken(Base):
    """Opaque bearer tokens and browser sessions; only the SHA-256 of the secret is stored."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "api" or "session"
    name: Mapped[str | None] = mapped_column(String(64))
    csrf_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    """Failed logins, kept in the database so the rate limit holds across API replicas."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)
