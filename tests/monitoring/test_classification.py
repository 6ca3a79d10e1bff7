"""The classification engine against RULES.md sections 1, 2, 6 and 7 (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select

from collections_svc.approvals import service as approvals
from collections_svc.auth.service import actor_of
from collections_svc.errors import Forbidden
from collections_svc.loans.dpd import run_dpd
from collections_svc.loans.models import Borrower
from collections_svc.monitoring import overrides
from collections_svc.monitoring.classification import classify_book, classify_loans, migration_matrix
from collections_svc.monitoring.models import ClassificationHistory, LoanClassification, ReviewTask
from collections_svc.monitoring.overrides import UpgradeBlocked
from tests.factories import make_loan, pay

D = dt.date.fromisoformat
AS_OF = D("2026-04-01")
NOW = dt.datetime(2026, 4, 1, 2, tzinfo=dt.UTC)


def approve(session, settings, p, user, on: dt.date) -> None:
    """A checker approves a classification_override proposal through the generic approvals service."""
    approvals.approve(session, settings, p, user, version=p.version, comment=None, business_date=on, now=NOW)


def overdue_loan(
    session, dpd: int, amount: str = "1000.00", borrower: str | None = None, later: str | None = None
):
    """A loan whose only unpaid installment fell due ``dpd`` days before AS_OF (dpd 0 = due in the future)."""
    due = AS_OF - dt.timedelta(days=dpd) if dpd else D("2026-12-31")
    schedule = [(due.isoformat(), amount, "0.00")]
    if later:
        schedule.append(("2026-12-31", later, "0.00"))
    return make_loan(
        session, schedule=schedule, borrower=borrower, disbursed_on="2024-01-01", maturity_on="2026-12-31"
    )


def state(session, loan) -> LoanClassification:
    return session.get(LoanClassification, loan.id)


def test_table_of_rules(session, settings):
    dpd_cases = {
        0: ("normal", []),
        1: ("special_mention", ["CN-CLS-02"]),
        90: ("special_mention", ["CN-CLS-02"]),
        91: ("substandard", ["CN-CLS-03"]),
        270: ("substandard", ["CN-CLS-03"]),
        271: ("doubtful", ["CN-CLS-04"]),
        360: ("doubtful", ["CN-CLS-04"]),
        361: ("loss", ["CN-CLS-05"]),
    }
    loans = {dpd: overdue_loan(session, dpd) for dpd in dpd_cases}
    # CN-CLS-06: 10 of 100 NPL (exactly 10%) -> the performing loan is untouched.
    ten_npl = overdue_loan(session, 91, amount="10.00")
    ten_ok = overdue_loan(session, 0, amount="90.00", borrower=ten_npl.borrower.external_id)
    # 101 of 1000 NPL (10.1%) -> every loan of the debtor is at least substandard.
    over_npl = overdue_loan(session, 91, amount="101.00")
    over_ok = overdue_loan(session, 0, amount="899.00", borrower=over_npl.borrower.external_id)
    # CN-RST-03 / CN-RST-04: restructured once; restructured again during observation.
    rst1 = overdue_loan(session, 0)
    rst1.restructured, rst1.restructure_count = True, 1
    rst2 = overdue_loan(session, 0)
    rst2.restructured, rst2.restructure_count = True, 2
    # A loan that defaulted (DPD 100) and was then cured by full repayment of its arrears.
    cured = make_loan(
        session,
        schedule=[("2025-12-22", "500.00", "0.00"), ("2026-12-31", "500.00", "0.00")],
        disbursed_on="2024-01-01",
    )
    session.flush()
    run_dpd(session, AS_OF, settings.dpd)
    res = classify_book(session, AS_OF, settings)
    assert res.loans_evaluated == len(dpd_cases) + 7
    pay(session, settings, cured, "500.00", "2026-04-01")
    classify_book(session, AS_OF, settings)

    for dpd, (category, rules) in dpd_cases.items():
        s = state(session, loans[dpd])
        assert (dpd, s.category, [r for r in s.rule_ids if r.startswith("CN-")]) == (dpd, category, rules)
    assert (state(session, ten_ok).category, state(session, ten_ok).rule_ids) == ("normal", [])
    assert state(session, ten_npl).category == "substandard"
    s = state(session, over_ok)
    assert (s.category, s.rule_ids) == ("substandard", ["CN-CLS-06"])
    assert state(session, over_npl).rule_ids == ["CN-CLS-03", "IFRS9-03"]
    assert (state(session, rst1).category, state(session, rst1).rule_ids) == (
        "special_mention",
        ["CN-RST-03"],
    )
    assert (state(session, rst2).category, state(session, rst2).rule_ids) == ("doubtful", ["CN-RST-04"])
    # Never an automatic upgrade: the cured loan keeps substandard though no rule demands it now.
    s = state(session, cured)
    assert (s.category, s.rule_ids, s.floor_rank) == ("substandard", [], 0)
    # The evidence stored with the debtor-level downgrade names the share and the threshold.
    h = session.scalars(
        select(ClassificationHistory).where(ClassificationHistory.loan_id == over_ok.id)
    ).one()
    assert h.rule_ids == ["CN-CLS-06"]
    assert h.evidence["borrower_npl_share"] == pytest.approx(0.101)
    assert h.evidence["debtor_npl_threshold"] == pytest.approx(0.10)
    assert h.evidence["borrower_npl_cents"] == 10100
    assert h.evidence["borrower_outstanding_cents"] == 100000


def test_ifrs9_stages_follow_dpd_presumptions(session, settings):
    loans = {d: overdue_loan(session, d) for d in (0, 30, 31, 90, 91)}
    run_dpd(session, AS_OF, settings.dpd)
    classify_book(session, AS_OF, settings)
    assert {d: state(session, lo).ifrs9_stage for d, lo in loans.items()} == {
        0: 1,
        30: 1,
        31: 2,
        90: 2,
        91: 3,
    }
    assert "IFRS9-02" in state(session, loans[31]).rule_ids
    assert "IFRS9-03" in state(session, loans[91]).rule_ids


def test_rerun_writes_no_history_and_reports_no_change(session, settings):
    overdue_loan(session, 91)
    overdue_loan(session, 0)
    run_dpd(session, AS_OF, settings.dpd)
    first = classify_book(session, AS_OF, settings)
    n = len(session.scalars(select(ClassificationHistory)).all())
    again = classify_book(session, AS_OF, settings)
    assert first.new_loans == 2
    assert (again.new_loans, again.category_changes, again.stage_changes) == (0, 0, 0)
    assert len(session.scalars(select(ClassificationHistory)).all()) == n


def test_downgrade_history_and_migration_matrix(session, settings):
    loan = overdue_loan(session, 80)
    steady = overdue_loan(session, 0)
    run_dpd(session, AS_OF, settings.dpd)
    classify_book(session, AS_OF, settings)
    later = AS_OF + dt.timedelta(days=20)  # DPD 100
    run_dpd(session, later, settings.dpd)
    res = classify_book(session, later, settings)
    assert res.category_changes == 1
    rows = session.scalars(
        select(ClassificationHistory)
        .where(ClassificationHistory.loan_id == loan.id)
        .order_by(ClassificationHistory.id)
    ).all()
    assert [(r.from_category, r.to_category, r.business_date) for r in rows] == [
        (None, "special_mention", AS_OF),
        ("special_mention", "substandard", later),
    ]
    assert rows[1].evidence["dpd"] == 100 and rows[1].rule_ids[0] == "CN-CLS-03"
    m = migration_matrix(session, AS_OF, later)
    assert m.counts["special_mention"]["substandard"] == 1
    assert m.counts["normal"]["normal"] == 1
    assert m.rates["special_mention"]["substandard"] == 1.0
    del steady


def test_classify_loans_covers_the_whole_debtor(session, settings):
    npl = overdue_loan(session, 91, amount="500.00")
    ok = overdue_loan(session, 0, amount="500.00", borrower=npl.borrower.external_id)
    other = overdue_loan(session, 200)
    run_dpd(session, AS_OF, settings.dpd)
    res = classify_loans(session, [npl.id], AS_OF, settings)
    assert res.loans_evaluated == 2
    assert state(session, ok).category == "substandard"
    assert state(session, other) is None


def test_group_member_turning_npl_creates_sibling_reviews_without_downgrade(session, settings):
    a = make_loan(
        session, schedule=[("2026-12-31", "1000.00", "0.00")], group_id="G-ACME", disbursed_on="2024-01-01"
    )
    b = make_loan(
        session, schedule=[("2025-12-01", "1000.00", "0.00")], group_id="G-ACME", disbursed_on="2024-01-01"
    )
    c = make_loan(
        session, schedule=[("2026-12-31", "1000.00", "0.00")], group_id="G-ACME", disbursed_on="2024-01-01"
    )
    run_dpd(session, D("2026-02-01"), settings.dpd)
    classify_book(session, D("2026-02-01"), settings)  # b at DPD 62: special mention, no tasks
    assert session.scalars(select(ReviewTask)).all() == []
    run_dpd(session, AS_OF, settings.dpd)
    res = classify_book(session, AS_OF, settings)  # b at DPD 121: substandard
    assert state(session, b).category == "substandard"
    assert res.group_review_tasks == 2
    tasks = session.scalars(select(ReviewTask).order_by(ReviewTask.borrower_id)).all()
    assert sorted(t.borrower_id for t in tasks) == sorted([a.borrower_id, c.borrower_id])
    assert {t.rule_id for t in tasks} == {"CN-CLS-08"}
    assert tasks[0].evidence["npl_borrower_id"] == b.borrower_id
    assert state(session, a).category == "normal" and state(session, c).category == "normal"
    assert classify_book(session, AS_OF, settings).group_review_tasks == 0  # idempotent


def test_open_severe_warning_sets_a_floor(session, settings):
    from collections_svc.monitoring.models import EarlyWarning

    loan = overdue_loan(session, 0)
    session.add(
        EarlyWarning(
            borrower_id=loan.borrower_id,
            kind="signal",
            code="litigation",
            rule_id="EW-SIG",
            severity="severe",
            evidence={},
            raised_on=AS_OF,
            dedupe_key="t1",
        )
    )
    run_dpd(session, AS_OF, settings.dpd)
    classify_book(session, AS_OF, settings)
    s = state(session, loan)
    assert (s.category, s.rule_ids) == ("special_mention", ["EW-CLS-01"])


def _cured_quarterly(session, settings):
    """RULES CN-CLS-09: a quarterly loan, NPL, arrears repaid 2025-01-15."""
    loan = make_loan(
        session,
        schedule=[
            ("2024-09-30", "100.00", "0.00"),
            ("2024-12-31", "100.00", "0.00"),
            ("2025-03-31", "100.00", "0.00"),
            ("2025-06-30", "100.00", "0.00"),
            ("2025-09-30", "100.00", "0.00"),
            ("2025-12-31", "100.00", "0.00"),
        ],
        disbursed_on="2024-06-30",
    )
    run_dpd(session, D("2025-01-05"), settings.dpd)  # DPD 97
    classify_book(session, D("2025-01-05"), settings)
    assert state(session, loan).category == "substandard"
    pay(session, settings, loan, "200.00", "2025-01-15")
    return loan


def test_upgrade_out_of_npl_waits_for_cn_cls_09(session, settings, users):
    risk = actor_of(users["risk_officer"])
    loan = _cured_quarterly(session, settings)
    pay(session, settings, loan, "100.00", "2025-03-31")
    run_dpd(session, D("2025-05-01"), settings.dpd)
    with pytest.raises(UpgradeBlocked) as e:
        overrides.propose(
            session,
            settings,
            risk,
            loan_id=loan.id,
            business_date=D("2025-05-01"),
            target_category="normal",
            reason="Arrears repaid, business recovered",
        )
    assert e.value.extra["earliest_on"] == "2025-07-15"
    assert e.value.extra["rule_id"] == "CN-CLS-09"
    pay(session, settings, loan, "100.00", "2025-06-30")
    run_dpd(session, D("2025-07-15"), settings.dpd)
    o = overrides.propose(
        session,
        settings,
        risk,
        loan_id=loan.id,
        business_date=D("2025-07-15"),
        target_category="normal",
        reason="Arrears repaid, business recovered",
    )
    assert o.kind == "classification_override" and o.state == "submitted"
    assert o.title == "Classification override: substandard -> normal"
    with pytest.raises(Forbidden):  # maker-checker: the maker never decides their own proposal
        approve(session, settings, o, users["risk_officer"], D("2025-07-15"))
    approve(session, settings, o, users["supervisor"], D("2025-07-15"))
    assert o.state == "approved" and state(session, loan).category == "normal"
    assert state(session, loan).override_id == o.id
    # The engine keeps the approved category on the next run (no rule demands more).
    classify_book(session, D("2025-07-16"), settings)
    assert state(session, loan).category == "normal"


def test_upgrade_that_became_blocked_after_the_proposal_is_refused_at_approval(session, settings, users):
    loan = _cured_quarterly(session, settings)
    pay(session, settings, loan, "100.00", "2025-03-31")
    pay(session, settings, loan, "100.00", "2025-06-30")
    run_dpd(session, D("2025-07-15"), settings.dpd)
    o = overrides.propose(
        session,
        settings,
        actor_of(users["risk_officer"]),
        loan_id=loan.id,
        business_date=D("2025-07-15"),
        target_category="normal",
        reason="Arrears repaid, business recovered",
    )
    # The 2025-09-30 installment is missed before a checker gets to it: CN-CLS-09 (a) fails again.
    run_dpd(session, D("2025-10-10"), settings.dpd)
    with pytest.raises(UpgradeBlocked) as e, session.begin_nested():
        approve(session, settings, o, users["supervisor"], D("2025-10-10"))
    assert e.value.extra["rule_id"] == "CN-CLS-09" and e.value.extra["unpaid_installments"] == 1
    session.refresh(o)
    assert o.state == "submitted" and [d.decision for d in o.decisions] == ["created", "submitted"]
    assert state(session, loan).category == "substandard" and state(session, loan).override_id is None
    assert not session.scalars(
        select(ClassificationHistory).where(
            ClassificationHistory.loan_id == loan.id, ClassificationHistory.source == "override"
        )
    ).all()


def test_ifrs9_rebuttal_by_approved_override_holds_until_worse(session, settings, users):
    risk = actor_of(users["risk_officer"])
    loan = overdue_loan(session, 31)
    run_dpd(session, AS_OF, settings.dpd)
    classify_book(session, AS_OF, settings)
    assert state(session, loan).ifrs9_stage == 2
    o = overrides.propose(
        session,
        settings,
        risk,
        loan_id=loan.id,
        business_date=AS_OF,
        target_stage=1,
        reason="Payment delayed by a bank transfer error; evidence attached",
    )
    approve(session, settings, o, users["supervisor"], AS_OF)
    later = AS_OF + dt.timedelta(days=20)
    run_dpd(session, later, settings.dpd)  # DPD 51: still the stage-2 presumption, rebutted
    classify_book(session, later, settings)
    assert state(session, loan).ifrs9_stage == 1
    much_later = AS_OF + dt.timedelta(days=60)
    run_dpd(session, much_later, settings.dpd)  # DPD 91: stage 3 presumption is worse than what was rebutted
    classify_book(session, much_later, settings)
    assert state(session, loan).ifrs9_stage == 3


def test_eu_default_materiality_is_obligor_level(session, settings):
    settings.classification.eu_default.enabled = True
    small = overdue_loan(session, 120, amount="600.00", later="999400.00")  # 600 of 1,000,000 = 0.06%
    big = overdue_loan(session, 120, amount="20000.00", later="980000.00")  # 2%
    sister = overdue_loan(session, 0, amount="1000.00", borrower=big.borrower.external_id)
    run_dpd(session, AS_OF, settings.dpd)
    classify_book(session, AS_OF, settings)
    assert state(session, small).eu_default is False
    assert state(session, big).eu_default is True
    assert state(session, sister).eu_default is True  # EU-DOD-01: all facilities of the obligor
    assert "EU-DOD-02" in state(session, sister).rule_ids


def test_borrowers_without_group_get_no_tasks(session, settings):
    overdue_loan(session, 200)
    run_dpd(session, AS_OF, settings.dpd)
    assert classify_book(session, AS_OF, settings).group_review_tasks == 0
    assert session.scalars(select(Borrower)).first() is not None


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dpds=st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=6))
def test_category_is_monotone_and_never_below_the_dpd_floor(session, settings, dpds):
    """Property: whatever the DPD path, the category never improves on its own and is never better
    than the DPD floor of the day."""
    loan = overdue_loan(session, 0)
    previous = -1
    for k, dpd in enumerate(dpds):
        loan.dpd = dpd  # the DPD pass's output, set directly to walk arbitrary paths
        session.flush()
        classify_loans(session, [loan.id], AS_OF + dt.timedelta(days=k), settings)
        s = state(session, loan)
        floor = 4 if dpd > 360 else 3 if dpd > 270 else 2 if dpd > 90 else 1 if dpd >= 1 else 0
        assert s.category_rank >= max(previous, floor)
        assert s.category_rank == max(previous, floor)
        previous = s.category_rank
        loan = session.get(type(loan), loan.id)
