"""Admin API for strategies: list versions, read one, validate or preview a draft, save a new (validated)
version, activate it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from collections_svc.auth.deps import DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.strategy import service
from collections_svc.strategy.rules import StrategyDoc, parse_strategy
from collections_svc.sweep.schemas import SweepResult

router = APIRouter(prefix="/api/v1/strategies", tags=["strategies"])
Reader = Annotated[User, Depends(allow(Role.admin, Role.supervisor, Role.risk_officer, Role.auditor))]
Admin = Annotated[User, Depends(allow(Role.admin))]
# Previewing runs the sweep in a rolled-back savepoint: the same people who may preview a sweep.
Previewer = Annotated[User, Depends(allow(Role.admin, Role.supervisor))]


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


class ValidationOut(BaseModel):
    valid: bool
    version: str
    rules: int
    warnings: list[str] = []
    version_exists: bool = False


class PreviewIn(BaseModel):
    document: dict[str, Any] = Field(description="the draft strategy document (not saved)")
    as_of: dt.date | None = Field(None, description="business date to preview; default: the date that last closed")


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


@router.post("/validate", response_model=ValidationOut,
             summary="Check a draft strategy without saving it (422 with every problem, or its warnings)")
def validate_strategy(request: Request, session: DbSession, _: Reader,
                      document: Annotated[dict[str, Any], Body()]):
    strategy = parse_strategy(document, service.known_templates(request.app.state.settings))
    return ValidationOut(valid=True, version=strategy.version, rules=len(strategy.rules),
                         warnings=list(strategy.warnings),
                         version_exists=service.find_version(session, strategy.version) is not None)


@router.post("/preview", response_model=SweepResult,
             summary="Dry-run a draft strategy against the book: what tonight's sweep would do with it")
def preview_strategy(body: PreviewIn, request: Request, session: DbSession, user: Previewer):
    from collections_svc.scheduler.jobs import closed_business_date
    from collections_svc.sweep import service as sweep_service

    st = request.app.state
    strategy = parse_strategy(body.document, service.known_templates(st.settings))
    day = body.as_of or closed_business_date(st.clock.now(), st.settings)
    report = sweep_service.run_sweep(session, day, st.settings, dry_run=True, actor=actor_of(user),
                                     strategy=strategy)
    return SweepResult(**{k: v for k, v in report.as_dict().items() if k in SweepResult.model_fields})


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
