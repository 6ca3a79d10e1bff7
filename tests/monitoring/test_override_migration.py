"""Migration 0008 carries the old classification_override rows into approvals and back (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.migrate import downgrade, upgrade
from tests.conftest import BACKENDS, create_database
from tests.factories import make_loan

T0 = dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)


def _seed_old_shape(url: str) -> dict:
    """At head: two loans and two users; then back to 0007 and write override rows the old way."""
    upgrade(url)
    eng = make_engine(url)
    with make_sessionmaker(eng)() as s:
        a = make_loan(s, schedule=[("2026-12-31", "1000.00", "0.00")], disbursed_on="2025-01-01")
        b = make_loan(s, schedule=[("2026-12-31", "2500.00", "0.00")], disbursed_on="2025-01-01")
        maker = create_user(s, username="ro", password="correct-horse-battery", role=Role.risk_officer)
        checker = create_user(s, username="sup", password="correct-horse-battery", role=Role.supervisor)
        s.flush()
        ids = {"a": a.id, "b": b.id, "maker": maker.id, "checker": checker.id}
        s.commit()
    eng.dispose()
    downgrade(url, "0007")
    eng = make_engine(url)
    with eng.begin() as c:
        # An existing proposal of another kind, so old override ids and new proposal ids differ.
        c.execute(
            text(
                "INSERT INTO approval_proposal (kind, state, loan_id, maker_id, maker, title, payload, amount, "
                "currency, approvals_required, approvals_received, version, created_at, updated_at) VALUES "
                "('de_escalation', 'submitted', :a, :m, 'ro', 'x', '{}', 100000, 'CNY', 1, 0, 1, :t, :t)"
            ),
            {"a": ids["a"], "m": ids["maker"], "t": T0.replace(tzinfo=None)},
        )
        rows = [
            # id, loan, state, target, stage, checker
            (1, ids["a"], "approved", "special_mention", None, "sup"),
            (2, ids["b"], "rejected", None, 2, "sup"),
            (3, ids["b"], "submitted", "substandard", None, None),
        ]
        for oid, loan, state, cat, stage, chk in rows:
            c.execute(
                text(
                    "INSERT INTO classification_override (id, loan_id, state, from_category, target_category, "
                    "from_stage, target_stage, reason, evidence, valid_until, business_date, maker_id, maker, "
                    "checker_id, checker, decided_at, decision_comment, version, created_at, updated_at) VALUES "
                    "(:id, :loan, :state, 'normal', :cat, 1, :stage, :reason, :ev, :vu, :bd, :maker_id, 'ro', "
                    ":checker_id, :chk, :dec, :comment, 2, :t, :t)"
                ),
                {
                    "id": oid, "loan": loan, "state": state, "cat": cat, "stage": stage,
                    "reason": f"reason number {oid} long enough", "ev": '{"doc": "site visit"}',
                    "vu": dt.date(2026, 9, 30) if oid == 1 else None, "bd": dt.date(2026, 3, 1),
                    "maker_id": ids["maker"], "checker_id": ids["checker"] if chk else None, "chk": chk,
                    "dec": (T0 + dt.timedelta(days=1)).replace(tzinfo=None) if chk else None,
                    "comment": "ok" if chk else None, "t": T0.replace(tzinfo=None),
                },
            )
        c.execute(
            text(
                "INSERT INTO loan_classification (loan_id, category, category_rank, since, ifrs9_stage, "
                "ifrs9_since, eu_default, floor_rank, classified_on, override_id, override_until, "
                "override_category_cap, override_stage_cap, updated_at) VALUES "
                "(:a, 'special_mention', 1, :d, 1, :d, :f, 0, :d, 1, :vu, 0, 0, :t)"
            ),
            {"a": ids["a"], "d": dt.date(2026, 3, 2), "f": False, "vu": dt.date(2026, 9, 30),
             "t": T0.replace(tzinfo=None)},
        )
        c.execute(
            text(
                "INSERT INTO classification_history (loan_id, business_date, from_category, to_category, "
                "from_stage, to_stage, eu_default, source, override_id, actor, at) VALUES "
                "(:a, :d, 'normal', 'special_mention', 1, 1, :f, 'override', 1, 'sup', :t)"
            ),
            {"a": ids["a"], "d": dt.date(2026, 3, 2), "f": False, "t": T0.replace(tzinfo=None)},
        )
    eng.dispose()
    return ids


@pytest.mark.parametrize("backend", BACKENDS)
def test_overrides_round_trip_through_approvals(backend, tmp_path_factory):
    url, drop = create_database(backend, tmp_path_factory)
    try:
        ids = _seed_old_shape(url)
        upgrade(url)
        eng = make_engine(url)
        with eng.connect() as c:
            props = c.execute(
                text(
                    "SELECT id, state, loan_id, maker_id, title, approvals_received, amount FROM approval_proposal "
                    "WHERE kind = 'classification_override' ORDER BY id"
                )
            ).all()
            assert [(p.state, p.loan_id, p.maker_id) for p in props] == [
                ("approved", ids["a"], ids["maker"]),
                ("rejected", ids["b"], ids["maker"]),
                ("submitted", ids["b"], ids["maker"]),
            ]
            assert props[0].title == "Classification override: normal -> special mention"
            assert props[1].title == "Classification override: stage 1 -> stage 2"
            assert (props[0].approvals_received, props[0].amount) == (1, 100000)  # cents
            new_ids = [p.id for p in props]
            assert new_ids[0] != 1  # the de-escalation proposal holds id 1
            trail = c.execute(
                text("SELECT proposal_id, decision, actor FROM approval_decision ORDER BY id")
            ).all()
            assert [(t.proposal_id, t.decision, t.actor) for t in trail] == [
                (new_ids[0], "created", "ro"), (new_ids[0], "submitted", "ro"), (new_ids[0], "approved", "sup"),
                (new_ids[1], "created", "ro"), (new_ids[1], "submitted", "ro"), (new_ids[1], "rejected", "sup"),
                (new_ids[2], "created", "ro"), (new_ids[2], "submitted", "ro"),
            ]
            # The engine's state and the history now point at the proposal.
            assert c.execute(text("SELECT override_id FROM loan_classification")).scalar() == new_ids[0]
            assert c.execute(text("SELECT override_id FROM classification_history")).scalar() == new_ids[0]
        eng.dispose()

        downgrade(url, "0007")
        eng = make_engine(url)
        with eng.connect() as c:
            back = c.execute(
                text(
                    "SELECT id, state, loan_id, target_category, target_stage, reason, maker, checker, "
                    "decision_comment, valid_until FROM classification_override ORDER BY id"
                )
            ).all()
            got = [(o.id, o.state, o.target_category, o.target_stage, o.checker, o.decision_comment) for o in back]
            assert got == [
                (new_ids[0], "approved", "special_mention", None, "sup", "ok"),
                (new_ids[1], "rejected", None, 2, "sup", "ok"),
                (new_ids[2], "submitted", "substandard", None, None, None),
            ]
            assert back[0].reason == "reason number 1 long enough" and str(back[0].valid_until) == "2026-09-30"
            assert c.execute(text("SELECT override_id FROM loan_classification")).scalar() == new_ids[0]
            kinds = c.execute(text("SELECT kind FROM approval_proposal")).scalars().all()
            assert kinds == ["de_escalation"]
        eng.dispose()
        upgrade(url)  # and forward again
    finally:
        drop()
