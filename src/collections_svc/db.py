"""Database plumbing: Base, column types, engines and the two transaction edges.

House rule: the edge owns the transaction. A request's session (``get_session``) or a job's
``session_scope()`` commits or rolls back; services only ``flush()``. No ``commit()`` elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import BigInteger, DateTime, Engine, MetaData, create_engine, event, func
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CENT = Decimal("0.01")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Money(TypeDecorator):
    """Exact money: Decimal in Python, integer minor units (cents) in the database.

    Integers keep SQLite exact (its NUMERIC is a float) and make set-based SQL sums exact on both
    databases. Raw SQL sees cents; the ORM sees Decimal with two places.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        d = Decimal(str(value)) if not isinstance(value, Decimal) else value
        return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on both databases (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone-aware UTC timestamp is required")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class VersionedMixin:
    """Optimistic locking: SQLAlchemy adds ``WHERE version = :old`` to every UPDATE."""

    version: Mapped[int] = mapped_column(nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10, statement_timeout_ms: int = 0,
                lock_timeout_ms: int = 0) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_proper_transactions(engine)
        return engine
    connect_args: dict[str, Any] = {}
    options = []
    if statement_timeout_ms:
        options.append(f"-c statement_timeout={int(statement_timeout_ms)}")
    if lock_timeout_ms:
        # A statement waiting this long for a row or table lock fails (55P03) instead of queueing every
        # request behind a long transaction; the request answers 503/409 and may be retried.
        options.append(f"-c lock_timeout={int(lock_timeout_ms)}")
    if options:
        connect_args["options"] = " ".join(options)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
        connect_args=connect_args,
    )
    _count_timeouts(engine)
    return engine


_TIMEOUT_SQLSTATES = {"57014": "statement_timeout", "55P03": "lock_timeout"}


def _count_timeouts(engine: Engine) -> None:
    from collections_svc.ops.instruments import DB_TIMEOUTS

    @event.listens_for(engine, "handle_error")
    def _on_error(ctx: Any) -> None:
        kind = _TIMEOUT_SQLSTATES.get(getattr(ctx.original_exception, "sqlstate", None) or "")
        if kind:
            DB_TIMEOUTS.labels(kind).inc()


def _sqlite_proper_transactions(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; take control so
    # SQLite gets real transactions, foreign keys, WAL for concurrent readers and a busy timeout.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # Book-wide passes read installments by index in due-date order: memory-mapped reads and a
        # 64 MB page cache make them 2-3x faster than the 2 MB default cache (see bench/README.md).
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA mmap_size=268435456")
        with contextlib.suppress(Exception):  # in-memory databases cannot use WAL
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The transaction edge for jobs and the CLI: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_session(request: Request) -> Iterator[Session]:
    """The transaction edge for requests: one session per request, committed when the route returns."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def now_sql() -> Any:
    return func.now()
