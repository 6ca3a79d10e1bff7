"""The schema is built by Alembic only: models and migrations agree, and every downgrade works."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from collections_svc.db import make_engine
from collections_svc.migrate import downgrade, upgrade
from collections_svc.models import metadata
from tests.conftest import BACKENDS, create_database


def test_models_match_migrations(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_downgrade_upgrade(backend, tmp_path_factory):
    url, drop = create_database(backend, tmp_path_factory)
    try:
        upgrade(url)
        eng = make_engine(url)
        tables = set(inspect(eng).get_table_names())
        assert {"loan", "installment", "payment", "audit_event", "app_user"} <= tables
        eng.dispose()
        downgrade(url, "base")
        eng = make_engine(url)
        assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
        eng.dispose()
        upgrade(url)
        eng = make_engine(url)
        assert set(inspect(eng).get_table_names()) == tables
        eng.dispose()
    finally:
        drop()
