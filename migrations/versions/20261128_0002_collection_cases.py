"""collection cases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 17:56:20.049128+00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collections_svc.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('collection_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('stage_entered_on', sa.Date(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('next_action_on', sa.Date(), nullable=True),
    sa.Column('strategy_version', sa.String(length=32), nullable=True),
    sa.Column('broken_promises', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['app_user.id'], name=op.f('fk_collection_case_assignee_id_app_user')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_collection_case_borrower_id_borrower')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_collection_case_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_case'))
    )
    with op.batch_alter_table('collection_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_case_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_case_borrower_id'), ['borrower_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_case_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ix_collection_case_stage', ['stage'], unique=False)
        batch_op.create_index('uq_collection_case_open_loan', ['loan_id'], unique=True, postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open = 1'))

    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_stage', sa.String(length=32), nullable=True),
    sa.Column('to_stage', sa.String(length=32), nullable=True),
    sa.Column('trigger', sa.String(length=32), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_case_event_case_id_collection_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('collection_case', schema=None) as batch_op:
        batch_op.drop_index('uq_collection_case_open_loan', postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open = 1'))
        batch_op.drop_index('ix_collection_case_stage')
        batch_op.drop_index(batch_op.f('ix_collection_case_loan_id'))
        batch_op.drop_index(batch_op.f('ix_collection_case_borrower_id'))
        batch_op.drop_index(batch_op.f('ix_collection_case_assignee_id'))

    op.drop_table('collection_case')
