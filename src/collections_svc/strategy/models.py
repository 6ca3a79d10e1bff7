"""Stored strategy versions. A version is immutable once saved; one version at most is active."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from collections_svc.db import Base, UTCDateTime, utcnow


class StrategyVersion(Base):
    __tablename__ = "strategy_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[dict] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_by: Mapped[str | None] = mapped_column(String(64))
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # At most one active version, enforced by the database.
        Index("uq_strategy_version_active", "is_active", unique=True,
              postgresql_where=text("is_active"), sqlite_where=text("is_active = 1")),
    )
