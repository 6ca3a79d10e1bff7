from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from collections_svc.audit.models import AuditEvent
from collections_svc.audit.schemas import AuditEventOut
from collections_svc.auth.deps import DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.common.pagination import Page, paginate

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEventOut], summary="Read the audit log (newest first)")
def list_audit(session: DbSession, _: Annotated[User, Depends(allow(Role.auditor, Role.admin))],
               entity: str | None = None, entity_id: str | None = None, actor: str | None = None,
               action: str | None = None, page: int = Query(1, ge=1), size: int = Query(50, ge=1, le=500)):
    stmt = select(AuditEvent)
    if entity:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    rows, total = paginate(session, stmt.order_by(AuditEvent.id.desc()), page, size)
    return Page[AuditEventOut](items=[AuditEventOut.model_validate(r[0]) for r in rows], total=total,
                               page=page, size=size)
