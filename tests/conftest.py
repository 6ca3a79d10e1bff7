"""Test fixtures: every database test runs on real SQLite and real PostgreSQL.

Each backend gets a fresh database built by the real Alembic migrations once per session; each test
runs inside an outer transaction that is rolled back afterwards, with the code under test committing
savepoints (``join_transaction_mode="create_savepoint"``), so tests are isolated even though the
request edge commits.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

# Cheap password hashing for the suite (argon2's production cost makes every login ~100 ms).
os.environ.setdefault("COLLECTIONS_ENV", "test")
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.common.clock import FixedClock
from collections_svc.config import Settings
from collections_svc.db import make_engine
from collections_svc.main import create_app
from collections_svc.migrate import upgrade

PG_ADMIN_DSN = os.environ.get("COLLECTIONS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b for b in os.environ.get("COLLECTIONS_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
PASSWORD = "correct-horse-battery"


def pg_url(dbname: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{dbname}".replace("postgresql://", "postgresql+psycopg://")


def create_database(backend: str, tmp_path_factory) -> tuple[str, callable]:
    """Create an empty database; return its URL and a function that drops it."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        return f"sqlite:///{path}", lambda: None
    name = f"cs_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return pg_url(name), drop


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request, tmp_path_factory) -> Iterator[str]:
    url, drop = create_database(request.param, tmp_path_factory)
    upgrade(url)
    yield url
    drop()


@pytest.fixture(scope="session")
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine):
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(env="test", database={"url": db_url})


@pytest.fixture
def clock() -> FixedClock:
    # 2026-04-01 10:00 in Shanghai.
    return FixedClock(dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC))


@pytest.fixture
def app(settings, clock, session_factory):
    return create_app(settings, clock=clock, session_factory=session_factory)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


@pytest.fixture
def users(session) -> dict[str, object]:
    out = {}
    for role in Role:
        out[role.value] = create_user(session, username=f"{role.value}1", password=PASSWORD, role=role,
                                      team="east" if role in (Role.collector, Role.supervisor) else None)
    session.commit()
    return out


def token_for(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def auth(client, users):
    """auth('admin') -> headers with a bearer token for that role's user."""
    cache: dict[str, dict[str, str]] = {}

    def get(role: str) -> dict[str, str]:
        if role not in cache:
            cache[role] = token_for(client, f"{role}1")
        return cache[role]
    return get
