"""Alembic from code: the CLI, the demo and the tests migrate through here (schema by Alembic only)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


@functools.cache
def _script_heads() -> frozenset[str]:
    # The shipped revisions cannot change while the process runs; parsing them on every /ready probe is waste.
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_is_head(conn: Connection) -> bool:
    return set(MigrationContext.configure(conn).get_current_heads()) == _script_heads()
