from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from collections_svc.auth.models import Role


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: Role
    team: str | None
    locale: str
    approval_limit: Decimal | None
    active: bool
    version: int


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: dt.datetime
    user: UserOut


class SessionOut(BaseModel):
    csrf_token: str
    expires_at: dt.datetime
    user: UserOut


class UserCreate(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str | None = Field(None, max_length=128)
    password: str = Field(min_length=10, max_length=256)
    role: Role
    team: str | None = Field(None, max_length=64)
    locale: str = Field("zh_CN", pattern=r"^(zh_CN|en)$")
    approval_limit: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)


class UserUpdate(BaseModel):
    version: int
    display_name: str | None = Field(None, max_length=128)
    role: Role | None = None
    team: str | None = Field(None, max_length=64)
    locale: str | None = Field(None, pattern=r"^(zh_CN|en)$")
    approval_limit: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    active: bool | None = None


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    ttl_days: int = Field(365, ge=1, le=3650)
