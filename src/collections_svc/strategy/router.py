"""Admin API for strategies: list versions, read one, save a new (validated) version, activate it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from collections_svc.auth.deps import DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.strategy import service
from collections_svc.strategy.rules import StrategyDoc, parse_strategy

router = APIRouter(prefix="/api/v1/strategies", tags=["strategies"])
Reader = Annotated[User, Depends(allow(Role.admin, Role.supervisor, Role.risk_officer, Role.auditor))]
Admin = Annotated[User, Depends(allow(Role.admin))]


class StrategyVersionOut(BaseModel):
    version: str
    description: str
    is_active: bool
    shipped: bool = False
    rules: int
    created_by: str | None = None
    created_at: dt.datetime | None = None
    activated_by: str | None = None
    activated_at: dt.datetime | None = None


class StrategyList(BaseModel):
    active_version: str
    items: list[StrategyVersionOut]


class StrategyDetail(BaseModel):
    version: str
    is_active: bool
    shipped: bool = False
    document: dict[str, Any]
    warnings: list[str] = []


def _out(row) -> StrategyVersionOut:
    return StrategyVersionOut(version=row.version, description=row.description, is_active=row.is_active,
                              rules=len(row.document.get("rules", [])), created_by=row.created_by,
                              created_at=row.created_at, activated_by=row.activated_by,
                              activated_at=row.activated_at)


@router.get("", response_model=StrategyList, summary="Strategy versions, newest first, and which one is live")
def list_strategies(request: Request, session: DbSession, _: Reader):
    settings = request.app.state.settings
    rows = service.list_versions(session)
    shipped = service.shipped_strategy(settings)
    active = next((r.version for r in rows if r.is_active), shipped.version)
    items = [_out(r) for r in rows]
    if not any(r.version == shipped.version for r in rows):
        items.append(StrategyVersionOut(version=shipped.version, description=shipped.description,
                                        is_active=active == shipped.version, shipped=True,
                                        rules=len(shipped.rules)))
    return StrategyList(active_version=active, items=items)


@router.get("/{version}", response_model=StrategyDetail,
            summary="One strategy version with its rules ('active' for the live one)")
def get_strategy(version: str, request: Request, session: DbSession, _: Reader):
    shipped = service.shipped_strategy(request.app.state.settings)
    active = service.active_version(session)
    row = active if version == "active" else service.find_version(session, version)
    if row is None and version in ("active", shipped.version):
        return StrategyDetail(version=shipped.version, is_active=active is None, shipped=True,
                              document=shipped.to_doc(), warnings=list(shipped.warnings))
    if row is None:
        row = service.get_version(session, version)   # raises a clear 404
    strategy = parse_strategy(row.document, None)
    return StrategyDetail(version=row.version, is_active=row.is_active, document=row.document,
                          warnings=list(strategy.warnings))


@router.post("", response_model=StrategyDetail, status_code=201,
             summary="Save a new strategy version (validated; not live until activated)")
def create_strategy(body: StrategyDoc, request: Request, session: DbSession, user: Admin):
    row, strategy = service.create_version(session, body.model_dump(mode="json", exclude_defaults=True),
                                           actor_of(user), request.app.state.settings)
    return StrategyDetail(version=row.version, is_active=False, document=row.document,
                          warnings=list(strategy.warnings))


@router.post("/{version}/activate", response_model=StrategyVersionOut,
             summary="Make a saved version the live strategy (the next sweep uses it)")
def activate_strategy(version: str, session: DbSession, user: Admin):
    return _out(service.activate(session, version, actor_of(user)))
