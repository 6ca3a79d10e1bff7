"""approvals restructuring legal

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 18:26:00.816136+00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collections_svc.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('approval_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('maker_id', sa.Integer(), nullable=False),
    sa.Column('maker', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('amount', collections_svc.db.Money(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('approvals_required', sa.Integer(), nullable=False),
    sa.Column('approvals_received', sa.Integer(), nullable=False),
    sa.Column('submitted_at', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('business_date', sa.Date(), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_approval_proposal_case_id_collection_case')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_approval_proposal_loan_id_loan')),
    sa.ForeignKeyConstraint(['maker_id'], ['app_user.id'], name=op.f('fk_approval_proposal_maker_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_proposal'))
    )
    with op.batch_alter_table('approval_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_proposal_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_proposal_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ix_approval_proposal_pending', ['submitted_at'], unique=False, postgresql_where=sa.text("state = 'submitted'"), sqlite_where=sa.text("state = 'submitted'"))

    op.create_table('approval_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_approval_decision_actor_id_app_user')),
    sa.ForeignKeyConstraint(['proposal_id'], ['approval_proposal.id'], name=op.f('fk_approval_decision_proposal_id_approval_proposal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_decision'))
    )
    with op.batch_alter_table('approval_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_decision_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('installment_archive',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('schedule_version', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('principal_due', collections_svc.db.Money(), nullable=False),
    sa.Column('interest_due', collections_svc.db.Money(), nullable=False),
    sa.Column('penalty_due', collections_svc.db.Money(), nullable=False),
    sa.Column('principal_paid', collections_svc.db.Money(), nullable=False),
    sa.Column('interest_paid', collections_svc.db.Money(), nullable=False),
    sa.Column('penalty_paid', collections_svc.db.Money(), nullable=False),
    sa.Column('settled_on', sa.Date(), nullable=True),
    sa.Column('archived_on', sa.Date(), nullable=False),
    sa.Column('archived_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_installment_archive_loan_id_loan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['approval_proposal.id'], name=op.f('fk_installment_archive_proposal_id_approval_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installment_archive'))
    )
    with op.batch_alter_table('installment_archive', schema=None) as batch_op:
        batch_op.create_index('ix_installment_archive_loan_version', ['loan_id', 'schedule_version'], unique=False)

    op.create_table('legal_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('body_type', sa.String(length=16), nullable=False),
    sa.Column('body_name', sa.String(length=200), nullable=True),
    sa.Column('case_number', sa.String(length=100), nullable=True),
    sa.Column('filed_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claim_amount', collections_svc.db.Money(), nullable=True),
    sa.Column('judgment_on', sa.Date(), nullable=True),
    sa.Column('judgment_amount', collections_svc.db.Money(), nullable=True),
    sa.Column('judgment_summary', sa.Text(), nullable=True),
    sa.Column('counsel', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_legal_case_case_id_collection_case')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_legal_case_loan_id_loan')),
    sa.ForeignKeyConstraint(['proposal_id'], ['approval_proposal.id'], name=op.f('fk_legal_case_proposal_id_approval_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_case'))
    )
    with op.batch_alter_table('legal_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_case_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_case_loan_id'), ['loan_id'], unique=False)

    op.create_table('restructuring_observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('restructuring_no', sa.Integer(), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=False),
    sa.Column('change_on', sa.Date(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('frequency_months', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('restart_count', sa.Integer(), nullable=False),
    sa.Column('last_missed_due_on', sa.Date(), nullable=True),
    sa.Column('re_restructured', sa.Boolean(), nullable=False),
    sa.Column('original_maturity_on', sa.Date(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_restructuring_observation_loan_id_loan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['approval_proposal.id'], name=op.f('fk_restructuring_observation_proposal_id_approval_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restructuring_observation'))
    )
    with op.batch_alter_table('restructuring_observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restructuring_observation_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('uq_restructuring_observation_active_loan', ['loan_id'], unique=True, postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))

    op.create_table('legal_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('legal_case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('amount', collections_svc.db.Money(), nullable=True),
    sa.Column('deadline_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['legal_case_id'], ['legal_case.id'], name=op.f('fk_legal_event_legal_case_id_legal_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_event'))
    )
    with op.batch_alter_table('legal_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_event_legal_case_id'), ['legal_case_id'], unique=False)

    op.create_table('legal_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('legal_case_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('done_by', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['app_user.id'], name=op.f('fk_legal_task_assignee_id_app_user')),
    sa.ForeignKeyConstraint(['event_id'], ['legal_event.id'], name=op.f('fk_legal_task_event_id_legal_event')),
    sa.ForeignKeyConstraint(['legal_case_id'], ['legal_case.id'], name=op.f('fk_legal_task_legal_case_id_legal_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_task'))
    )
    with op.batch_alter_table('legal_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_task_legal_case_id'), ['legal_case_id'], unique=False)
        batch_op.create_index('ix_legal_task_open_due', ['due_on'], unique=False, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))



def downgrade() -> None:
    with op.batch_alter_table('legal_task', schema=None) as batch_op:
        batch_op.drop_index('ix_legal_task_open_due', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_legal_task_legal_case_id'))

    op.drop_table('legal_task')
    with op.batch_alter_table('legal_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_event_legal_case_id'))

    op.drop_table('legal_event')
    with op.batch_alter_table('restructuring_observation', schema=None) as batch_op:
        batch_op.drop_index('uq_restructuring_observation_active_loan', postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_restructuring_observation_loan_id'))

    op.drop_table('restructuring_observation')
    with op.batch_alter_table('legal_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_case_loan_id'))
        batch_op.drop_index(batch_op.f('ix_legal_case_case_id'))

    op.drop_table('legal_case')
    with op.batch_alter_table('installment_archive', schema=None) as batch_op:
        batch_op.drop_index('ix_installment_archive_loan_version')

    op.drop_table('installment_archive')
    with op.batch_alter_table('approval_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_decision_proposal_id'))

    op.drop_table('approval_decision')
    with op.batch_alter_table('approval_proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_proposal_pending', postgresql_where=sa.text("state = 'submitted'"), sqlite_where=sa.text("state = 'submitted'"))
        batch_op.drop_index(batch_op.f('ix_approval_proposal_loan_id'))
        batch_op.drop_index(batch_op.f('ix_approval_proposal_case_id'))

    op.drop_table('approval_proposal')
