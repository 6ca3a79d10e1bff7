"""collection cases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:10:18.443292+00:00
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
    op.create_table('assignment_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('product', sa.String(length=32), nullable=True),
    sa.Column('min_exposure', collections_svc.db.Money(), nullable=True),
    sa.Column('max_exposure', collections_svc.db.Money(), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['app_user.id'], name=op.f('fk_assignment_rule_assignee_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_rule'))
    )
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
    sa.Column('priority', sa.Integer(), server_default=sa.text('0'), nullable=False),
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
        batch_op.create_index('ix_collection_case_open_priority', ['priority', 'id'], unique=False, postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open = 1'))
        batch_op.create_index('ix_collection_case_open_team', ['team', 'priority'], unique=False, postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open = 1'))
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

    op.create_table('case_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_case_hold_ends_after_start')),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_case_hold_case_id_collection_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_hold'))
    )
    with op.batch_alter_table('case_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_hold_case_id'), ['case_id'], unique=False)

    op.create_table('contact_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('next_action_on', sa.Date(), nullable=True),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=True),
    sa.Column('at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_contact_log_borrower_id_borrower')),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_contact_log_case_id_collection_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_log_contact_id_contact')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_log'))
    )
    with op.batch_alter_table('contact_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_log_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_log_borrower_id'), ['borrower_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_log_case_id'), ['case_id'], unique=False)

    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('operating_status', sa.String(length=16), nullable=True),
    sa.Column('collateral_status', sa.String(length=16), nullable=True),
    sa.Column('visited_on', sa.Date(), nullable=True),
    sa.Column('reported_by', sa.String(length=64), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['app_user.id'], name=op.f('fk_visit_assignee_id_app_user')),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_visit_case_id_collection_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_case_id'), ['case_id'], unique=False)

    op.create_table('promise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('contact_log_id', sa.Integer(), nullable=True),
    sa.Column('amount', collections_svc.db.Money(), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paid_amount', collections_svc.db.Money(), nullable=False),
    sa.Column('evaluated_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_promise_amount_positive')),
    sa.CheckConstraint('grace_days >= 0', name=op.f('ck_promise_grace_not_negative')),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_promise_case_id_collection_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_log_id'], ['contact_log.id'], name=op.f('fk_promise_contact_log_id_contact_log')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_promise_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise'))
    )
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promise_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promise_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ix_promise_open_due', ['due_on'], unique=False, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    op.create_table('visit_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_attachment_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_attachment')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_visit_attachment_storage_key'))
    )
    with op.batch_alter_table('visit_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_attachment_visit_id'), ['visit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visit_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_attachment_visit_id'))

    op.drop_table('visit_attachment')
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_open_due', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_promise_loan_id'))
        batch_op.drop_index(batch_op.f('ix_promise_case_id'))

    op.drop_table('promise')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_case_id'))

    op.drop_table('visit')
    with op.batch_alter_table('contact_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_log_case_id'))
        batch_op.drop_index(batch_op.f('ix_contact_log_borrower_id'))
        batch_op.drop_index(batch_op.f('ix_contact_log_batch_id'))

    op.drop_table('contact_log')
    with op.batch_alter_table('case_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_hold_case_id'))

    op.drop_table('case_hold')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('collection_case', schema=None) as batch_op:
        batch_op.drop_index('uq_collection_case_open_loan', postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open = 1'))
        batch_op.drop_index('ix_collection_case_stage')
        batch_op.drop_index('ix_collection_case_open_team', postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open = 1'))
        batch_op.drop_index('ix_collection_case_open_priority', postgresql_where=sa.text('is_open'), sqlite_where=sa.text('is_open = 1'))
        batch_op.drop_index(batch_op.f('ix_collection_case_loan_id'))
        batch_op.drop_index(batch_op.f('ix_collection_case_borrower_id'))
        batch_op.drop_index(batch_op.f('ix_collection_case_assignee_id'))

    op.drop_table('collection_case')
    op.drop_table('assignment_rule')
