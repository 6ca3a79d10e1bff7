"""notice outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:09:13.426768+00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collections_svc.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbound_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('from_number', sa.String(length=32), nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('keyword', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('contact_ids', sa.JSON(), nullable=True),
    sa.Column('received_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_sms')),
    sa.UniqueConstraint('message_sid', name=op.f('uq_inbound_sms_message_sid'))
    )
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_sms_from_number'), ['from_number'], unique=False)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('trigger_key', sa.String(length=128), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('to_address', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claim_token', sa.String(length=36), nullable=True),
    sa.Column('lease_until', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('sent_at', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('final_at', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('defer_reason', sa.Text(), nullable=True),
    sa.Column('document_path', sa.String(length=400), nullable=True),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_notice_case_id_collection_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_notice_contact_id_contact')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    sa.UniqueConstraint('case_id', 'template', 'trigger_key', name='uq_notice_case_template_trigger'),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_notice_provider_sid'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_case_sent', ['case_id', 'sent_at'], unique=False)
        batch_op.create_index('ix_notice_contact_sent', ['contact_id', 'sent_at'], unique=False)
        batch_op.create_index('ix_notice_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('notice_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=64), nullable=True),
    sa.Column('started_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', collections_svc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_attempt_notice_id_notice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_attempt'))
    )
    with op.batch_alter_table('notice_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_attempt_notice_id'), ['notice_id'], unique=False)

    op.create_table('notice_status_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('message_sid', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_status_event_notice_id_notice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_status_event')),
    sa.UniqueConstraint('message_sid', 'status', name='uq_notice_status_event_sid_status')
    )
    with op.batch_alter_table('notice_status_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_status_event_message_sid'), ['message_sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_status_event_notice_id'), ['notice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('notice_status_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_status_event_notice_id'))
        batch_op.drop_index(batch_op.f('ix_notice_status_event_message_sid'))

    op.drop_table('notice_status_event')
    with op.batch_alter_table('notice_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_attempt_notice_id'))

    op.drop_table('notice_attempt')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_due')
        batch_op.drop_index('ix_notice_contact_sent')
        batch_op.drop_index('ix_notice_case_sent')

    op.drop_table('notice')
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_sms_from_number'))

    op.drop_table('inbound_sms')
