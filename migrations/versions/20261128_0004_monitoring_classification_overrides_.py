"""monitoring: classification, overrides, statements, warnings, reviews

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:27:44.084321+00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collections_svc.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('financial_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('period_type', sa.String(length=16), nullable=False),
    sa.Column('total_assets', collections_svc.db.Money(), nullable=False),
    sa.Column('total_liabilities', collections_svc.db.Money(), nullable=False),
    sa.Column('current_assets', collections_svc.db.Money(), nullable=False),
    sa.Column('current_liabilities', collections_svc.db.Money(), nullable=False),
    sa.Column('inventory', collections_svc.db.Money(), nullable=False),
    sa.Column('cash', collections_svc.db.Money(), nullable=False),
    sa.Column('revenue', collections_svc.db.Money(), nullable=False),
    sa.Column('operating_profit', collections_svc.db.Money(), nullable=False),
    sa.Column('net_profit', collections_svc.db.Money(), nullable=False),
    sa.Column('interest_expense', collections_svc.db.Money(), nullable=False),
    sa.Column('operating_cash_flow', collections_svc.db.Money(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_financial_statement_borrower_id_borrower'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_financial_statement')),
    sa.UniqueConstraint('borrower_id', 'period_type', 'period_end', name='uq_financial_statement_period')
    )
    with op.batch_alter_table('financial_statement', schema=None) as batch_op:
        batch_op.create_index('ix_financial_statement_borrower', ['borrower_id', 'period_end'], unique=False)

    op.create_table('classification_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('from_category', sa.String(length=20), nullable=False),
    sa.Column('target_category', sa.String(length=20), nullable=True),
    sa.Column('from_stage', sa.Integer(), nullable=False),
    sa.Column('target_stage', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('maker_id', sa.Integer(), nullable=True),
    sa.Column('maker', sa.String(length=64), nullable=False),
    sa.Column('checker_id', sa.Integer(), nullable=True),
    sa.Column('checker', sa.String(length=64), nullable=True),
    sa.Column('decided_at', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checker_id'], ['app_user.id'], name=op.f('fk_classification_override_checker_id_app_user')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_classification_override_loan_id_loan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['maker_id'], ['app_user.id'], name=op.f('fk_classification_override_maker_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classification_override'))
    )
    with op.batch_alter_table('classification_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classification_override_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('uq_classification_override_pending', ['loan_id'], unique=True, postgresql_where=sa.text("state = 'submitted'"), sqlite_where=sa.text("state = 'submitted'"))

    op.create_table('early_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_early_warning_borrower_id_borrower'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_early_warning_loan_id_loan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_early_warning_owner_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_early_warning')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_early_warning_dedupe_key'))
    )
    with op.batch_alter_table('early_warning', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_warning_borrower_id'), ['borrower_id'], unique=False)
        batch_op.create_index('ix_early_warning_status', ['status', 'severity'], unique=False)

    op.create_table('review_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('rule_id', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('overdue_flagged_on', sa.Date(), nullable=True),
    sa.Column('escalated_to_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['app_user.id'], name=op.f('fk_review_task_assignee_id_app_user')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_review_task_borrower_id_borrower'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['escalated_to_id'], ['app_user.id'], name=op.f('fk_review_task_escalated_to_id_app_user')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_review_task_loan_id_loan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_task')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_review_task_dedupe_key'))
    )
    with op.batch_alter_table('review_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_task_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_task_borrower_id'), ['borrower_id'], unique=False)
        batch_op.create_index('ix_review_task_open_due', ['status', 'due_on'], unique=False)

    op.create_table('classification_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('from_category', sa.String(length=20), nullable=True),
    sa.Column('to_category', sa.String(length=20), nullable=False),
    sa.Column('from_stage', sa.Integer(), nullable=True),
    sa.Column('to_stage', sa.Integer(), nullable=False),
    sa.Column('eu_default', sa.Boolean(), nullable=False),
    sa.Column('rule_ids', sa.JSON(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('override_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_classification_history_loan_id_loan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['override_id'], ['classification_override.id'], name=op.f('fk_classification_history_override_id_classification_override')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classification_history'))
    )
    with op.batch_alter_table('classification_history', schema=None) as batch_op:
        batch_op.create_index('ix_classification_history_date', ['business_date'], unique=False)
        batch_op.create_index('ix_classification_history_loan', ['loan_id', 'business_date'], unique=False)

    op.create_table('loan_classification',
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('category_rank', sa.Integer(), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('ifrs9_stage', sa.Integer(), nullable=False),
    sa.Column('ifrs9_since', sa.Date(), nullable=False),
    sa.Column('eu_default', sa.Boolean(), nullable=False),
    sa.Column('eu_breach_since', sa.Date(), nullable=True),
    sa.Column('floor_rank', sa.Integer(), nullable=False),
    sa.Column('rule_ids', sa.JSON(), nullable=True),
    sa.Column('classified_on', sa.Date(), nullable=False),
    sa.Column('override_id', sa.Integer(), nullable=True),
    sa.Column('override_until', sa.Date(), nullable=True),
    sa.Column('override_category_cap', sa.Integer(), nullable=True),
    sa.Column('override_stage_cap', sa.Integer(), nullable=True),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_loan_classification_loan_id_loan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['override_id'], ['classification_override.id'], name=op.f('fk_loan_classification_override_id_classification_override')),
    sa.PrimaryKeyConstraint('loan_id', name=op.f('pk_loan_classification'))
    )
    with op.batch_alter_table('loan_classification', schema=None) as batch_op:
        batch_op.create_index('ix_loan_classification_category', ['category_rank'], unique=False)

    op.create_table('review_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('review_type', sa.String(length=16), nullable=False),
    sa.Column('review_date', sa.Date(), nullable=False),
    sa.Column('on_site', sa.Boolean(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('conclusion', sa.Text(), nullable=False),
    sa.Column('recommended_category', sa.String(length=20), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=True),
    sa.Column('override_id', sa.Integer(), nullable=True),
    sa.Column('override_note', sa.Text(), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['app_user.id'], name=op.f('fk_review_report_author_id_app_user')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_review_report_borrower_id_borrower'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_review_report_loan_id_loan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['override_id'], ['classification_override.id'], name=op.f('fk_review_report_override_id_classification_override')),
    sa.ForeignKeyConstraint(['task_id'], ['review_task.id'], name=op.f('fk_review_report_task_id_review_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_report'))
    )
    with op.batch_alter_table('review_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_report_borrower_id'), ['borrower_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_report_task_id'), ['task_id'], unique=False)

    op.create_table('watchlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.Column('removed_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_watchlist_entry_borrower_id_borrower'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warning_id'], ['early_warning.id'], name=op.f('fk_watchlist_entry_warning_id_early_warning')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watchlist_entry'))
    )
    with op.batch_alter_table('watchlist_entry', schema=None) as batch_op:
        batch_op.create_index('uq_watchlist_entry_active', ['borrower_id'], unique=True, postgresql_where=sa.text('removed_on IS NULL'), sqlite_where=sa.text('removed_on IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('watchlist_entry', schema=None) as batch_op:
        batch_op.drop_index('uq_watchlist_entry_active', postgresql_where=sa.text('removed_on IS NULL'), sqlite_where=sa.text('removed_on IS NULL'))

    op.drop_table('watchlist_entry')
    with op.batch_alter_table('review_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_report_task_id'))
        batch_op.drop_index(batch_op.f('ix_review_report_borrower_id'))

    op.drop_table('review_report')
    with op.batch_alter_table('loan_classification', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_classification_category')

    op.drop_table('loan_classification')
    with op.batch_alter_table('classification_history', schema=None) as batch_op:
        batch_op.drop_index('ix_classification_history_loan')
        batch_op.drop_index('ix_classification_history_date')

    op.drop_table('classification_history')
    with op.batch_alter_table('review_task', schema=None) as batch_op:
        batch_op.drop_index('ix_review_task_open_due')
        batch_op.drop_index(batch_op.f('ix_review_task_borrower_id'))
        batch_op.drop_index(batch_op.f('ix_review_task_assignee_id'))

    op.drop_table('review_task')
    with op.batch_alter_table('early_warning', schema=None) as batch_op:
        batch_op.drop_index('ix_early_warning_status')
        batch_op.drop_index(batch_op.f('ix_early_warning_borrower_id'))

    op.drop_table('early_warning')
    with op.batch_alter_table('classification_override', schema=None) as batch_op:
        batch_op.drop_index('uq_classification_override_pending', postgresql_where=sa.text("state = 'submitted'"), sqlite_where=sa.text("state = 'submitted'"))
        batch_op.drop_index(batch_op.f('ix_classification_override_loan_id'))

    op.drop_table('classification_override')
    with op.batch_alter_table('financial_statement', schema=None) as batch_op:
        batch_op.drop_index('ix_financial_statement_borrower')

    op.drop_table('financial_statement')
