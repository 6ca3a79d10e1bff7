"""Throwaway databases for the benchmarks: a fresh SQLite file or PostgreSQL database, and how to drop it.

PostgreSQL is the tests' server (``COLLECTIONS_TEST_PG``, default the local cluster); the benchmarks
create and drop their own uniquely named databases on it, as the tests do.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

PG_ADMIN = os.environ.get("COLLECTIONS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SQLITE_DIR = Path(__file__).resolve().parent / "out"


def pg_url(name: str) -> str:
    """SQLAlchemy URL of database ``name`` on the admin server (psycopg 3 driver)."""
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def scratch_database(backend: str, prefix: str, sqlite_dir: Path = SQLITE_DIR) -> tuple[str, Callable[[], None]]:
    """Create an empty database; return its URL and a function that drops it (files or database)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        sqlite_dir.mkdir(parents=True, exist_ok=True)
        path = sqlite_dir / f"{name}.db"

        def drop_file() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)

        return f"sqlite:///{path}", drop_file
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop_pg() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return pg_url(name), drop_pg
