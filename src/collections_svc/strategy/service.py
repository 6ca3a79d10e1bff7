"""Strategy versions: the shipped default, versions saved through the admin API, the active one."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collections_svc.audit.service import record
from collections_svc.auth.service import Actor
from collections_svc.config import Settings
from collections_svc.db import utcnow
from collections_svc.errors import Conflict, NotFound
from collections_svc.strategy.models import StrategyVersion
from collections_svc.strategy.rules import Strategy, parse_strategy
from collections_svc.sweep import hooks


def known_templates(settings: Settings) -> set[str]:
    """Template names a strategy may use: the ones the notices package ships ("channel/name")."""
    return hooks.known_templates()


@lru_cache(maxsize=8)
def _shipped_doc(filename: str) -> str:
    return resources.files("collections_svc.strategy").joinpath(filename).read_text(encoding="utf-8")


def shipped_document(settings: Settings) -> dict[str, Any]:
    return yaml.safe_load(_shipped_doc(settings.strategy.default_file))


def shipped_strategy(settings: Settings) -> Strategy:
    return parse_strategy(shipped_document(settings), known_templates(settings))


def active_version(session: Session) -> StrategyVersion | None:
    return session.scalar(select(StrategyVersion).where(StrategyVersion.is_active.is_(True)))


def active_strategy(session: Session, settings: Settings) -> Strategy:
    """The strategy the sweep applies: the activated version, or the shipped default ladder."""
    row = active_version(session)
    if row is None:
        return shipped_strategy(settings)
    return parse_strategy(row.document, None)  # validated when saved; templates may have been retired since


def find_version(session: Session, version: str) -> StrategyVersion | None:
    return session.scalar(select(StrategyVersion).where(StrategyVersion.version == version))


def get_version(session: Session, version: str) -> StrategyVersion:
    row = find_version(session, version)
    if row is None:
        raise NotFound(f"There is no strategy version {version!r}.")
    return row


def list_versions(session: Session) -> list[StrategyVersion]:
    return list(session.scalars(select(StrategyVersion).order_by(StrategyVersion.created_at.desc(),
                                                                 StrategyVersion.id.desc())).all())


def create_version(session: Session, document: dict[str, Any], actor: Actor, settings: Settings
                   ) -> tuple[StrategyVersion, Strategy]:
    """Validate and store a new (inactive) version; StrategyInvalid lists every problem."""
    strategy = parse_strategy(document, known_templates(settings))
    if session.scalar(select(StrategyVersion.id).where(StrategyVersion.version == strategy.version)):
        raise Conflict(f"Strategy version {strategy.version!r} already exists; versions never change. "
                       "Save your edit under a new version name.")
    row = StrategyVersion(version=strategy.version, description=strategy.description,
                          document=strategy.to_doc(), is_active=False, created_by=actor.username)
    session.add(row)
    session.flush()
    record(session, actor, "strategy.create", "strategy_version", row.id,
           after={"version": row.version, "rules": len(strategy.rules)})
    return row, strategy


def activate(session: Session, version: str, actor: Actor) -> StrategyVersion:
    row = get_version(session, version)
    before = active_version(session)
    if before is not None and before.id == row.id:
        return row
    session.execute(update(StrategyVersion).where(StrategyVersion.is_active.is_(True)).values(is_active=False))
    session.flush()
    session.refresh(row)
    row.is_active, row.activated_by, row.activated_at = True, actor.username, utcnow()
    session.flush()
    record(session, actor, "strategy.activate", "strategy_version", row.id,
           before={"active": before.version if before else None}, after={"active": row.version})
    return row
