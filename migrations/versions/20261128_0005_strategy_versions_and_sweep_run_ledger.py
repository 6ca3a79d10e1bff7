"""strategy versions and sweep run ledger

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:02:37.773550+00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collections_svc.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('strategy_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_by', sa.String(length=64), nullable=True),
    sa.Column('activated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strategy_version')),
    sa.UniqueConstraint('version', name=op.f('uq_strategy_version_version'))
    )
    with op.batch_alter_table('strategy_version', schema=None) as batch_op:
        batch_op.create_index('uq_strategy_version_active', ['is_active'], unique=True, postgresql_where=sa.text('is_active'), sqlite_where=sa.text('is_active = 1'))

    op.create_table('sweep_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('partition', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('started_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('triggered_by', sa.String(length=64), nullable=False),
    sa.Column('strategy_version', sa.String(length=32), nullable=True),
    sa.Column('loans_evaluated', sa.Integer(), nullable=False),
    sa.Column('cases_opened', sa.Integer(), nullable=False),
    sa.Column('cases_escalated', sa.Integer(), nullable=False),
    sa.Column('cases_cured', sa.Integer(), nullable=False),
    sa.Column('notices_queued', sa.Integer(), nullable=False),
    sa.Column('promises_broken', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('stats', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sweep_run')),
    sa.UniqueConstraint('business_date', 'partition', name='uq_sweep_run_business_date')
    )


def downgrade() -> None:
    op.drop_table('sweep_run')
    with op.batch_alter_table('strategy_version', schema=None) as batch_op:
        batch_op.drop_index('uq_strategy_version_active', postgresql_where=sa.text('is_active'), sqlite_where=sa.text('is_active = 1'))

    op.drop_table('strategy_version')
