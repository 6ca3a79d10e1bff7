from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from collections_svc.audit.models import AuditEvent
from collections_svc.auth.service import Actor
from collections_svc.common.context import request_id_var


def record(session: Session, actor: Actor, action: str, entity: str, entity_id: Any, *,
           before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Append one audit event in the caller's transaction: it commits or rolls back with the change."""
    ev = AuditEvent(actor=actor.username, actor_id=actor.id, action=action, entity=entity,
                    entity_id=None if entity_id is None else str(entity_id), before=before, after=after,
                    request_id=request_id_var.get())
    session.add(ev)
    return ev
