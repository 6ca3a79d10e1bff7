"""monitoring: classification overrides become approvals proposals (kind classification_override)

Every classification_override row is carried into approval_proposal with its decision trail
(created, submitted, approved/rejected) in approval_decision; the override_id columns of
loan_classification, classification_history and review_report are re-pointed to the new proposal ids;
then the classification_override table is dropped (the engine reads its caps from loan_classification).
The downgrade restores the table from the proposals of that kind (override id = proposal id; withdrawn
and expired proposals become rejected, the only closed-but-not-applied state of the old shape).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 22:20:00+00:00
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import collections_svc.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = "classification_override"
TS = collections_svc.db.UTCDateTime(timezone=True)
REFS = ("loan_classification", "classification_history", "review_report")

override_t = sa.table(
    "classification_override",
    sa.column("id", sa.Integer), sa.column("loan_id", sa.Integer), sa.column("state", sa.String),
    sa.column("from_category", sa.String), sa.column("target_category", sa.String),
    sa.column("from_stage", sa.Integer), sa.column("target_stage", sa.Integer), sa.column("reason", sa.Text),
    sa.column("evidence", sa.JSON), sa.column("valid_until", sa.Date), sa.column("business_date", sa.Date),
    sa.column("maker_id", sa.Integer), sa.column("maker", sa.String), sa.column("checker_id", sa.Integer),
    sa.column("checker", sa.String), sa.column("decided_at", TS), sa.column("decision_comment", sa.Text),
    sa.column("version", sa.Integer), sa.column("created_at", TS), sa.column("updated_at", TS),
)
proposal_t = sa.table(
    "approval_proposal",
    sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("state", sa.String),
    sa.column("loan_id", sa.Integer), sa.column("case_id", sa.Integer), sa.column("maker_id", sa.Integer),
    sa.column("maker", sa.String), sa.column("title", sa.String), sa.column("payload", sa.JSON),
    sa.column("amount", sa.BigInteger), sa.column("currency", sa.String),
    sa.column("approvals_required", sa.Integer), sa.column("approvals_received", sa.Integer),
    sa.column("submitted_at", TS), sa.column("decided_at", TS), sa.column("business_date", sa.Date),
    sa.column("outcome", sa.JSON), sa.column("version", sa.Integer), sa.column("created_at", TS),
    sa.column("updated_at", TS),
)
decision_t = sa.table(
    "approval_decision",
    sa.column("id", sa.Integer), sa.column("proposal_id", sa.Integer), sa.column("decision", sa.String),
    sa.column("actor", sa.String), sa.column("actor_id", sa.Integer), sa.column("comment", sa.Text),
    sa.column("at", TS), sa.column("business_date", sa.Date),
)
loan_t = sa.table(
    "loan", sa.column("id", sa.Integer), sa.column("principal", sa.BigInteger),
    sa.column("principal_paid", sa.BigInteger), sa.column("currency", sa.String),
)
user_t = sa.table("app_user", sa.column("id", sa.Integer), sa.column("username", sa.String))
lc_t = sa.table("loan_classification", sa.column("loan_id", sa.Integer), sa.column("category", sa.String),
                sa.column("ifrs9_stage", sa.Integer))


def _ref_table(name: str) -> sa.TableClause:
    return sa.table(name, sa.column("override_id", sa.Integer))


def _label(category: str | None, stage: int | None) -> str:
    return " / ".join(x for x in ((category or "").replace("_", " "), f"stage {stage}" if stage else "") if x)


def _retarget(target: str) -> None:
    """Point the three override_id foreign keys at ``target`` (classification_override | approval_proposal)."""
    for name in REFS:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{name}_override_id_{target}"), target, ["override_id"], ["id"]
            )


def _drop_fks(old: str) -> None:
    for name in REFS:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{name}_override_id_{old}"), type_="foreignkey")


def _remap(conn, mapping: dict[int, int]) -> None:
    # Two passes through negative ids so an old id that equals another row's new id is never confused.
    for name in REFS:
        t = _ref_table(name)
        for old, new in mapping.items():
            conn.execute(t.update().where(t.c.override_id == old).values(override_id=-new))
        conn.execute(t.update().where(t.c.override_id < 0).values(override_id=-t.c.override_id))


def upgrade() -> None:
    conn = op.get_bind()
    _drop_fks("classification_override")
    rows = conn.execute(sa.select(override_t).order_by(override_t.c.id)).mappings().all()
    users = {u.username: u.id for u in conn.execute(sa.select(user_t.c.id, user_t.c.username))}
    fallback_user = min(users.values()) if users else None
    mapping: dict[int, int] = {}
    for o in rows:
        loan = conn.execute(sa.select(loan_t).where(loan_t.c.id == o["loan_id"])).mappings().first()
        maker_id = o["maker_id"] or users.get(o["maker"]) or fallback_user
        created = o["created_at"] or dt.datetime.now(dt.UTC)
        state = o["state"] if o["state"] in ("submitted", "approved", "rejected") else "rejected"
        payload = {
            "from_category": o["from_category"],
            "target_category": o["target_category"],
            "from_stage": o["from_stage"],
            "target_stage": o["target_stage"],
            "reason": o["reason"],
            "evidence": o["evidence"] or {},
            "valid_until": o["valid_until"].isoformat() if o["valid_until"] else None,
            "business_date": o["business_date"].isoformat(),
            "legacy_override_id": o["id"],
            **({"legacy_maker_id_unknown": True} if o["maker_id"] is None else {}),
        }
        frm = _label(o["from_category"] if o["target_category"] else None,
                     o["from_stage"] if o["target_stage"] else None)
        to = _label(o["target_category"], o["target_stage"])
        res = conn.execute(proposal_t.insert().values(
            kind=KIND, state=state, loan_id=o["loan_id"], case_id=None, maker_id=maker_id, maker=o["maker"],
            title=f"Classification override: {frm} -> {to}"[:200], payload=payload,
            amount=(loan["principal"] - loan["principal_paid"]) if loan else 0,
            currency=loan["currency"] if loan else "CNY",
            approvals_required=1, approvals_received=1 if state == "approved" else 0,
            submitted_at=created, decided_at=o["decided_at"] if state != "submitted" else None,
            business_date=o["business_date"],
            outcome={"category": o["target_category"], "ifrs9_stage": o["target_stage"]}
            if state == "approved" else None,
            version=o["version"] or 1, created_at=created, updated_at=o["updated_at"] or created,
        ).returning(proposal_t.c.id))
        pid = res.scalar_one()
        mapping[o["id"]] = pid
        trail = [
            dict(decision="created", actor=o["maker"], actor_id=maker_id, comment=o["reason"], at=created),
            dict(decision="submitted", actor=o["maker"], actor_id=maker_id, comment=None, at=created),
        ]
        if state != "submitted":
            trail.append(dict(
                decision=state, actor=o["checker"] or "unknown",
                actor_id=o["checker_id"] or users.get(o["checker"] or ""),
                comment=o["decision_comment"], at=o["decided_at"] or o["updated_at"] or created,
            ))
        for d in trail:
            conn.execute(decision_t.insert().values(proposal_id=pid, business_date=o["business_date"], **d))
    _remap(conn, mapping)
    _retarget("approval_proposal")
    with op.batch_alter_table('classification_override', schema=None) as batch_op:
        batch_op.drop_index('uq_classification_override_pending', postgresql_where=sa.text("state = 'submitted'"),
                            sqlite_where=sa.text("state = 'submitted'"))
        batch_op.drop_index(batch_op.f('ix_classification_override_loan_id'))
    op.drop_table('classification_override')


def downgrade() -> None:
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

    conn = op.get_bind()
    _drop_fks("approval_proposal")
    props = conn.execute(
        sa.select(proposal_t).where(proposal_t.c.kind == KIND).order_by(proposal_t.c.id)
    ).mappings().all()
    for p in props:
        pl = p["payload"] or {}
        trail = conn.execute(
            sa.select(decision_t).where(decision_t.c.proposal_id == p["id"]).order_by(decision_t.c.id)
        ).mappings().all()
        last = next((d for d in reversed(trail) if d["decision"] in ("approved", "rejected")), None)
        closing = trail[-1] if trail and trail[-1]["decision"] in ("withdrawn", "expired") else None
        state = {"draft": "submitted", "submitted": "submitted", "approved": "approved"}.get(p["state"], "rejected")
        cur = conn.execute(sa.select(lc_t).where(lc_t.c.loan_id == p["loan_id"])).mappings().first()
        comment = last["comment"] if last else None
        if closing is not None:  # the old shape has no withdrawn / expired: say so in the comment
            comment = f"{closing['decision']}: {closing['comment'] or ''}".strip()
        created = p["created_at"] or p["submitted_at"]
        conn.execute(override_t.insert().values(
            id=p["id"], loan_id=p["loan_id"], state=state,
            from_category=pl.get("from_category") or (cur["category"] if cur else "normal"),
            target_category=pl.get("target_category"),
            from_stage=pl.get("from_stage") or (cur["ifrs9_stage"] if cur else 1),
            target_stage=pl.get("target_stage"),
            reason=pl.get("reason") or p["title"],
            evidence=pl.get("evidence"),
            valid_until=dt.date.fromisoformat(pl["valid_until"]) if pl.get("valid_until") else None,
            business_date=p["business_date"] or created.date(),
            maker_id=p["maker_id"], maker=p["maker"],
            checker_id=(last or closing or {}).get("actor_id") if state != "submitted" else None,
            checker=(last or closing or {}).get("actor") if state != "submitted" else None,
            decided_at=p["decided_at"] if state != "submitted" else None,
            decision_comment=comment if state != "submitted" else None,
            version=p["version"] or 1, created_at=created, updated_at=p["updated_at"] or created,
        ))
    if props:
        ids = [p["id"] for p in props]
        conn.execute(decision_t.delete().where(decision_t.c.proposal_id.in_(ids)))
        conn.execute(proposal_t.delete().where(proposal_t.c.id.in_(ids)))
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('classification_override', 'id'), "
                "(SELECT MAX(id) FROM classification_override))"
            ))
    _retarget("classification_override")
