"""reports: interval loan snapshot and its per-date ledger

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 21:15:00+00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collections_svc.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('loan_snapshot',
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sa.SmallInteger(), nullable=False),
    sa.Column('oldest_unpaid_due_on', sa.Date(), nullable=True),
    sa.Column('overdue_amount', collections_svc.db.Money(), nullable=False),
    sa.Column('outstanding', collections_svc.db.Money(), nullable=False),
    sa.Column('category_rank', sa.SmallInteger(), nullable=True),
    sa.Column('ifrs9_stage', sa.SmallInteger(), nullable=True),
    sa.Column('case_stage', sa.String(length=32), nullable=True),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=32), nullable=True),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('industry', sa.String(length=64), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('keyframe', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('valid_from', 'loan_id', name=op.f('pk_loan_snapshot'))
    )
    with op.batch_alter_table('loan_snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_loan_snapshot_loan', ['loan_id', 'valid_from'], unique=False)

    op.create_table('snapshot_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('partition', sa.String(length=16), nullable=False),
    sa.Column('keyframe', sa.Boolean(), nullable=False),
    sa.Column('loans', sa.Integer(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshot_day')),
    sa.UniqueConstraint('business_date', 'partition', name='uq_snapshot_day_date_partition')
    )


def downgrade() -> None:
    op.drop_table('snapshot_day')
    with op.batch_alter_table('loan_snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_snapshot_loan')
    op.drop_table('loan_snapshot')
