"""loan book users audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 17:53:56.632782+00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collections_svc.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


AUDIT_GUARD_PG = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""


def _audit_guard_up() -> None:
    # The application never changes an audit event; the database refuses to, too.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_GUARD_PG)
    else:
        op.execute("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                   "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END")
        op.execute("CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
                   "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END")


def _audit_guard_down() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('collector', 'supervisor', 'risk_officer', 'admin', 'auditor', 'integration', name='user_role', native_enum=False, length=20), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('approval_limit', collections_svc.db.Money(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_event_entity', ['entity', 'entity_id'], unique=False)
    _audit_guard_up()

    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_username_at', ['username', 'at'], unique=False)

    op.create_table('auth_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=True),
    sa.Column('csrf_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_auth_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_token_token_hash'))
    )
    with op.batch_alter_table('auth_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_token_user_id'), ['user_id'], unique=False)

    op.create_table('borrower',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('industry', sa.String(length=64), nullable=True),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('segment', sa.String(length=32), nullable=True),
    sa.Column('group_id', sa.String(length=64), nullable=True),
    sa.Column('relationship_manager_id', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['relationship_manager_id'], ['app_user.id'], name=op.f('fk_borrower_relationship_manager_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_borrower')),
    sa.UniqueConstraint('external_id', name=op.f('uq_borrower_external_id')),
    sa.UniqueConstraint('uscc', name=op.f('uq_borrower_uscc'))
    )
    with op.batch_alter_table('borrower', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_borrower_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_borrower_region'), ['region'], unique=False)

    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('legal_representative', 'finance', 'guarantor', 'other', name='contact_role', native_enum=False, length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('sms_consent', sa.Boolean(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('phone_invalid', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_contact_borrower_id_borrower'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact')),
    sa.UniqueConstraint('borrower_id', 'role', 'name', name='uq_contact_borrower_role_name')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_borrower_id'), ['borrower_id'], unique=False)

    op.create_table('loan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('borrower_id', sa.Integer(), nullable=False),
    sa.Column('contract_no', sa.String(length=64), nullable=False),
    sa.Column('product', sa.Enum('working_capital', 'fixed_asset', 'project_finance', 'trade_finance', 'other', name='loan_product', native_enum=False, length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('principal', collections_svc.db.Money(), nullable=False),
    sa.Column('annual_rate', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('disbursed_on', sa.Date(), nullable=False),
    sa.Column('maturity_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('active', 'paid_off', 'written_off', name='loan_status', native_enum=False, length=32), nullable=False),
    sa.Column('principal_paid', collections_svc.db.Money(), nullable=False),
    sa.Column('scheduled_principal', collections_svc.db.Money(), nullable=False),
    sa.Column('overpayment', collections_svc.db.Money(), nullable=False),
    sa.Column('dpd', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('overdue_amount', collections_svc.db.Money(), server_default=sa.text('0'), nullable=False),
    sa.Column('oldest_unpaid_due_on', sa.Date(), nullable=True),
    sa.Column('bucket', sa.String(length=8), nullable=True),
    sa.Column('bucket_changed_on', sa.Date(), nullable=True),
    sa.Column('restructured', sa.Boolean(), nullable=False),
    sa.Column('restructure_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('maturity_on >= disbursed_on', name=op.f('ck_loan_maturity_after_disbursement')),
    sa.CheckConstraint('principal > 0', name=op.f('ck_loan_principal_positive')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_loan_borrower_id_borrower')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan')),
    sa.UniqueConstraint('external_id', name=op.f('uq_loan_external_id'))
    )
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_borrower_id'), ['borrower_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_bucket_changed_on'), ['bucket_changed_on'], unique=False)
        batch_op.create_index('ix_loan_dpd_positive', ['dpd'], unique=False, postgresql_where=sa.text('dpd > 0'), sqlite_where=sa.text('dpd > 0'))

    op.create_table('installment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('principal_due', collections_svc.db.Money(), nullable=False),
    sa.Column('interest_due', collections_svc.db.Money(), nullable=False),
    sa.Column('penalty_due', collections_svc.db.Money(), nullable=False),
    sa.Column('principal_paid', collections_svc.db.Money(), nullable=False),
    sa.Column('interest_paid', collections_svc.db.Money(), nullable=False),
    sa.Column('penalty_paid', collections_svc.db.Money(), nullable=False),
    sa.Column('settled_on', sa.Date(), nullable=True),
    sa.CheckConstraint('principal_due >= 0 AND interest_due >= 0 AND penalty_due >= 0', name=op.f('ck_installment_dues_not_negative')),
    sa.CheckConstraint('principal_paid <= principal_due AND interest_paid <= interest_due AND penalty_paid <= penalty_due', name=op.f('ck_installment_paid_within_due')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_installment_loan_id_loan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installment')),
    sa.UniqueConstraint('loan_id', 'seq', name='uq_installment_loan_seq')
    )
    with op.batch_alter_table('installment', schema=None) as batch_op:
        batch_op.create_index('ix_installment_open_due', ['due_on', 'loan_id'], unique=False, postgresql_where=sa.text('settled_on IS NULL'), sqlite_where=sa.text('settled_on IS NULL'))
        batch_op.create_index('ix_installment_settled_on', ['settled_on'], unique=False)

    op.create_table('loan_bucket_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=8), nullable=False),
    sa.Column('entered_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_loan_bucket_history_loan_id_loan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_bucket_history'))
    )
    with op.batch_alter_table('loan_bucket_history', schema=None) as batch_op:
        batch_op.create_index('ix_loan_bucket_history_loan', ['loan_id', 'entered_on'], unique=False)
        batch_op.create_index('ix_loan_bucket_history_open', ['loan_id'], unique=True, postgresql_where=sa.text('left_on IS NULL'), sqlite_where=sa.text('left_on IS NULL'))

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', collections_svc.db.Money(), nullable=False),
    sa.Column('unapplied', collections_svc.db.Money(), nullable=False),
    sa.Column('recovery', sa.Boolean(), nullable=False),
    sa.Column('received_at', collections_svc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_amount_positive')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_payment_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('external_id', name=op.f('uq_payment_external_id'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ix_payment_paid_on', ['paid_on'], unique=False)

    op.create_table('payment_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('installment_id', sa.Integer(), nullable=False),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('amount', collections_svc.db.Money(), nullable=False),
    sa.ForeignKeyConstraint(['installment_id'], ['installment.id'], name=op.f('fk_payment_allocation_installment_id_installment')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_allocation_payment_id_payment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocation'))
    )
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_allocation_installment_id'), ['installment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocation_payment_id'), ['payment_id'], unique=False)



def downgrade() -> None:
    _audit_guard_down()
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_allocation_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocation_installment_id'))

    op.drop_table('payment_allocation')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_paid_on')
        batch_op.drop_index(batch_op.f('ix_payment_loan_id'))

    op.drop_table('payment')
    with op.batch_alter_table('loan_bucket_history', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_bucket_history_open', postgresql_where=sa.text('left_on IS NULL'), sqlite_where=sa.text('left_on IS NULL'))
        batch_op.drop_index('ix_loan_bucket_history_loan')

    op.drop_table('loan_bucket_history')
    with op.batch_alter_table('installment', schema=None) as batch_op:
        batch_op.drop_index('ix_installment_settled_on')
        batch_op.drop_index('ix_installment_open_due', postgresql_where=sa.text('settled_on IS NULL'), sqlite_where=sa.text('settled_on IS NULL'))

    op.drop_table('installment')
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_dpd_positive', postgresql_where=sa.text('dpd > 0'), sqlite_where=sa.text('dpd > 0'))
        batch_op.drop_index(batch_op.f('ix_loan_bucket_changed_on'))
        batch_op.drop_index(batch_op.f('ix_loan_borrower_id'))

    op.drop_table('loan')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_borrower_id'))

    op.drop_table('contact')
    with op.batch_alter_table('borrower', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_borrower_region'))
        batch_op.drop_index(batch_op.f('ix_borrower_group_id'))

    op.drop_table('borrower')
    with op.batch_alter_table('auth_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_token_user_id'))

    op.drop_table('auth_token')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_username_at')

    op.drop_table('login_attempt')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_entity')
        batch_op.drop_index('ix_audit_event_at')

    op.drop_table('audit_event')
    op.drop_table('app_user')
