"""CN-RST-02 observation periods (incl. restart on a missed payment), CN-RST-04 flag, CN-PLM-05 limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from collections_svc.approvals import service as approvals
from collections_svc.auth.service import actor_of
from collections_svc.cases.models import Case, CaseEvent
from collections_svc.errors import ValidationFailed
from collections_svc.loans import dpd
from collections_svc.loans.models import Installment, Loan
from collections_svc.restructuring import service
from collections_svc.restructuring.models import Observation
from collections_svc.restructuring.schemas import Terms
from tests.cases.helpers import case_in_stage
from tests.factories import make_loan, pay

D = dt.date.fromisoformat


def _now(day: str) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(2), tzinfo=dt.UTC)


def _restructure(session, settings, users, case, terms: Terms, day: str):
    p = service.propose(
        session, settings, actor_of(users["collector"]), case, terms, business_date=D(day), now=_now(day)
    )
    approvals.approve(
        session,
        settings,
        p,
        users["supervisor"],
        version=p.version,
        comment="ok",
        business_date=D(day),
        now=_now(day),
    )
    return p


def _due(session, loan_id, on: str) -> Installment:
    return session.scalars(
        select(Installment).where(Installment.loan_id == loan_id, Installment.due_on == D(on))
    ).one()


def test_observation_period_example_and_restart_on_missed_payment(session, settings, users):
    # a 3-year loan, overdue since 2025-02-01; restructured on 2025-03-01 to semi-annual payments
    loan = make_loan(
        session,
        disbursed_on="2023-03-01",
        maturity_on="2026-03-01",
        schedule=[("2025-02-01", "100000", "3000"), ("2026-03-01", "200000", "5000")],
    )
    dpd.run_dpd(session, D("2025-03-01"), settings.dpd, loan_ids=[loan.id])
    case = case_in_stage(session, loan, "visit", on=D("2025-03-01"))
    terms = Terms(
        reason_code="overdue",
        effective_on=D("2025-03-01"),
        method="equal_installment",
        first_due_on=D("2025-04-01"),
        count=4,
        frequency_months=6,
    )
    p = _restructure(session, settings, users, case, terms, "2025-03-01")
    assert p.state == "approved"
    assert (p.outcome["observation_starts_on"], p.outcome["observation_ends_on"]) == (
        "2025-04-01",
        "2026-04-01",
    )
    assert case.stage == "restructured"

    # first installment paid on time: nothing happens
    first = _due(session, loan.id, "2025-04-01")
    pay(session, settings, loan, str(first.total_due), "2025-04-01")
    assert service.check_observations(session, D("2025-04-02")) == []

    # 2025-10-01 missed: the period restarts from that date and ends no earlier than 2026-10-01
    dpd.run_dpd(session, D("2025-10-02"), settings.dpd, loan_ids=[loan.id])
    out = service.check_observations(session, D("2025-10-02"))
    assert [(o["action"], o["missed_due_on"]) for o in out] == [("restarted", D("2025-10-01"))]
    obs = service.active_observation(session, loan.id)
    assert (obs.starts_on, obs.ends_on, obs.restart_count) == (D("2025-10-01"), D("2026-10-01"), 1)
    assert obs.ends_on >= D("2026-10-01")
    # a case is re-opened for the loan, marked so the strategy can route it to a late stage
    reopened = session.scalars(select(Case).where(Case.loan_id == loan.id, Case.is_open.is_(True))).one()
    assert reopened.id == out[0]["case_id"] and reopened.id != case.id
    breach = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == reopened.id, CaseEvent.kind == "observation_breach")
    ).one()
    assert breach.data["route_to_late_stage"] is True and breach.data["missed_due_on"] == "2025-10-01"
    # the same miss does not restart it twice
    assert service.check_observations(session, D("2025-10-03")) == []

    # paid late, then on time until the end: completed, flag removed (count kept)
    pay(session, settings, loan, str(_due(session, loan.id, "2025-10-01").unpaid), "2025-10-05")
    pay(session, settings, loan, str(_due(session, loan.id, "2026-04-01").total_due), "2026-04-01")
    assert service.check_observations(session, D("2026-09-30")) == []
    out = service.check_observations(session, D("2026-10-01"))
    assert [o["action"] for o in out] == ["completed"]
    lo = session.get(Loan, loan.id)
    assert (lo.restructured, lo.restructure_count) == (False, 1)


def test_second_restructuring_during_observation_is_flagged(session, settings, users):
    loan = make_loan(
        session,
        disbursed_on="2023-03-01",
        maturity_on="2026-03-01",
        schedule=[("2025-02-01", "100000", "3000"), ("2026-03-01", "200000", "5000")],
    )
    dpd.run_dpd(session, D("2025-03-01"), settings.dpd, loan_ids=[loan.id])
    case = case_in_stage(session, loan, "visit", on=D("2025-03-01"))
    _restructure(
        session,
        settings,
        users,
        case,
        Terms(
            reason_code="overdue",
            effective_on=D("2025-03-01"),
            method="equal_installment",
            first_due_on=D("2025-04-01"),
            count=4,
            frequency_months=6,
        ),
        "2025-03-01",
    )
    dpd.run_dpd(session, D("2025-04-10"), settings.dpd, loan_ids=[loan.id])
    [restart] = service.check_observations(session, D("2025-04-10"))
    case2 = session.get(Case, restart["case_id"])
    terms2 = Terms(
        reason_code="expected_cash_shortfall",
        effective_on=D("2025-04-10"),
        method="equal_principal",
        first_due_on=D("2025-05-10"),
        count=12,
        frequency_months=1,
        capitalise_arrears=True,
    )
    plan = service.build_plan(session, session.get(Loan, loan.id), terms2)
    assert [w["rule"] for w in plan["warnings"]] == ["CN-RST-04"]
    assert "capitalisation" in plan["types"] and Decimal(plan["capitalised"]) > 0
    p2 = _restructure(session, settings, users, case2, terms2, "2025-04-10")
    assert p2.outcome["re_restructured_in_observation"] is True
    assert p2.outcome["classification_floor"] == "doubtful"
    rows = session.scalars(
        select(Observation).where(Observation.loan_id == loan.id).order_by(Observation.id)
    ).all()
    assert [(o.status, o.re_restructured) for o in rows] == [("superseded", False), ("active", True)]
    lo = session.get(Loan, loan.id)
    assert lo.restructure_count == 2
    assert lo.principal == Decimal("300000.00") + Decimal(plan["capitalised"])
    assert sum(i.principal_due for i in lo.installments if i.settled_on is None) == lo.outstanding_principal


def test_extension_limit_cn_plm_05(session, settings):
    # a 12-month loan may be extended by 12 months at most: 13 months is refused with the rule named
    loan = make_loan(
        session,
        disbursed_on="2025-01-01",
        maturity_on="2026-01-01",
        schedule=[("2025-07-01", "50000", "1000"), ("2026-01-01", "50000", "1000")],
    )
    ok = Terms(
        reason_code="expected_cash_shortfall",
        effective_on=D("2025-06-15"),
        method="equal_principal",
        first_due_on=D("2025-07-01"),
        count=19,
        frequency_months=1,
    )  # last due 2027-01-01
    plan = service.build_plan(session, loan, ok)
    assert plan["new_maturity_on"] == "2027-01-01" and plan["latest_maturity_allowed"] == "2027-01-01"
    too_long = ok.model_copy(update={"count": 20})  # last due 2027-02-01: a 13-month extension
    with pytest.raises(ValidationFailed) as e:
        service.build_plan(session, loan, too_long)
    assert "CN-PLM-05" in e.value.detail and "13 months" in e.value.detail and "2027-01-01" in e.value.detail


@pytest.mark.parametrize(
    ("disbursed", "maturity", "latest"),
    [
        ("2025-01-01", "2025-07-01", "2026-01-01"),  # short (6 months): + 6 months
        ("2023-01-01", "2026-01-01", "2027-07-01"),  # medium (36 months): + 18 months
        ("2020-01-01", "2030-01-01", "2033-01-01"),  # long (10 years): + 3 years
    ],
)
def test_extension_limit_bands(disbursed, maturity, latest):
    assert service.extension_limit(D(disbursed), D(maturity))[0] == D(latest)


def test_observation_end_rule():
    dues = [D("2025-04-01"), D("2025-10-01"), D("2026-04-01"), D("2026-10-01")]
    assert service.observation_end(D("2025-04-01"), dues, 6) == D("2026-04-01")
    assert service.observation_end(D("2025-10-01"), dues, 6) == D("2026-10-01")
    # quarterly payments: one year is the longer bound
    assert service.observation_end(D("2025-04-01"), [D("2025-04-01"), D("2025-07-01")], 3) == D("2026-04-01")
