"""Drive a small book through 120 business days of sweeps, one business date at a time, and check day
by day the stage the default ladder prescribes: a loan that never pays, one that cures, one on hold,
and a large one whose strategy skips stages. (Broken promises: see the test at the end.)"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from collections_svc.auth.service import SYSTEM
from collections_svc.cases.models import Case
from collections_svc.loans.models import Loan
from collections_svc.strategy import service as strategy_service
from collections_svc.sweep.service import run_sweep
from tests.factories import hold_case, make_loan, pay

START = dt.date(2026, 3, 1)
DAYS = 120


def ladder_stage(dpd: int) -> str | None:
    if dpd >= 30:
        return "visit"
    if dpd >= 15:
        return "letter"
    if dpd >= 1:
        return "phone_reminder"
    return None


def _strategy_with_big_exposure_rule(settings) -> dict:
    doc = strategy_service.shipped_document(settings)
    doc["version"] = "big-first-1"
    doc["rules"].insert(0, {"id": "big_exposure_visit", "when": {"dpd_min": 1, "exposure_min": "5000000"},
                            "target": "visit", "tasks": ["visit"]})
    return doc


def test_120_business_days_of_sweeps(session, settings):
    loans = {
        "never_pays": make_loan(session, schedule=[("2026-03-01", "100000.00", "500.00"),
                                                   ("2026-12-01", "100000.00", "500.00")]),
        "cures": make_loan(session, schedule=[("2026-03-10", "40000.00", "200.00"),
                                              ("2026-12-10", "40000.00", "200.00")]),
        "on_hold": make_loan(session, schedule=[("2026-03-05", "60000.00", "300.00"),
                                                ("2026-12-05", "60000.00", "300.00")]),
        "big_skips": make_loan(session, schedule=[("2026-03-20", "3000000.00", "9000.00"),
                                                  ("2026-12-20", "3000000.00", "9000.00")]),
        "current": make_loan(session, schedule=[("2026-12-31", "70000.00", "300.00")]),
    }
    ext = {k: v.external_id for k, v in loans.items()}
    row, _ = strategy_service.create_version(session, _strategy_with_big_exposure_rule(settings), SYSTEM,
                                             settings)
    strategy_service.activate(session, row.version, SYSTEM)
    session.commit()
    due = {"never_pays": dt.date(2026, 3, 1), "cures": dt.date(2026, 3, 10), "on_hold": dt.date(2026, 3, 5),
           "big_skips": dt.date(2026, 3, 20)}
    cure_on = dt.date(2026, 3, 28)     # paid in full after the demand letter
    hold_from = dt.date(2026, 3, 12)    # on hold from DPD 7: stays in phone_reminder
    held_case = None
    journey: dict[str, list[str]] = {k: [] for k in ext}

    for n in range(DAYS):
        day = START + dt.timedelta(days=n)
        if day == cure_on:
            loan = session.scalar(select(Loan).where(Loan.external_id == ext["cures"]))
            pay(session, settings, loan, "40200.00", day.isoformat())
            session.commit()
        if day == hold_from:
            held_case = session.scalar(select(Case.id).join(Loan, Loan.id == Case.loan_id)
                                       .where(Loan.external_id == ext["on_hold"]))
            hold_case(session, held_case, day)
            session.commit()
        rep = run_sweep(session, day, settings)
        session.commit()
        assert rep.status == "succeeded", (day, rep.errors)
        rows = dict(session.execute(text(
            "SELECT l.external_id, c.stage FROM collection_case c JOIN loan l ON l.id = c.loan_id "
            "WHERE c.is_open")).all())
        for name, e in ext.items():
            stage = rows.get(e)
            if not journey[name] or journey[name][-1] != (stage or "-"):
                journey[name].append(stage or "-")
            dpd = (day - due[name]).days if name in due else 0
            if name == "never_pays":
                assert stage == ladder_stage(dpd), (day, name, stage)
            elif name == "cures":
                expected = None if day >= cure_on else ladder_stage(dpd)
                assert stage == expected, (day, name, stage)
            elif name == "on_hold":
                expected = ladder_stage(dpd) if day < hold_from else "phone_reminder"
                assert stage == expected, (day, name, stage)
            elif name == "big_skips":
                assert stage == ("visit" if dpd >= 1 else None), (day, name, stage)
            else:
                assert stage is None, (day, name, stage)

    assert journey["never_pays"] == ["-", "phone_reminder", "letter", "visit"]
    assert journey["cures"] == ["-", "phone_reminder", "letter", "-"]
    assert journey["big_skips"] == ["-", "visit"]       # classified -> visit the same night: a skip
    resolved = session.scalar(select(Case.stage).join(Loan, Loan.id == Case.loan_id)
                              .where(Loan.external_id == ext["cures"]))
    assert resolved == "resolved"
    # every stage change left exactly one event; the skip is one event classified -> visit
    events = session.execute(text(
        "SELECT e.from_stage, e.to_stage FROM case_event e JOIN collection_case c ON c.id = e.case_id "
        "JOIN loan l ON l.id = c.loan_id WHERE l.external_id = :e AND e.trigger = 'escalate' ORDER BY e.id"),
        {"e": ext["big_skips"]}).all()
    assert [tuple(r) for r in events] == [("classified", "visit")]
    assert session.scalar(select(Case.strategy_version).join(Loan, Loan.id == Case.loan_id)
                          .where(Loan.external_id == ext["big_skips"])) == "big-first-1"
    # one ledger row per business date
    ledger = session.execute(text("SELECT COUNT(*), COUNT(DISTINCT business_date) FROM sweep_run")).one()
    assert tuple(ledger) == (DAYS, DAYS)
    # every notice of the ladder went out once, on stage entry, and none while on hold
    sent = session.execute(text(
        "SELECT l.external_id, n.template FROM notice n JOIN collection_case c ON c.id = n.case_id "
        "JOIN loan l ON l.id = c.loan_id")).all()
    by_loan: dict[str, list[str]] = {}
    for loan_ext, template in sent:
        by_loan.setdefault(loan_ext, []).append(template)
    ladder = sorted(["first_reminder", "first_demand", "letter_sent"])
    assert sorted(by_loan.get(ext["never_pays"], [])) == ladder       # each once, on stage entry
    assert sorted(by_loan.get(ext["cures"], [])) == ladder
    assert by_loan.get(ext["on_hold"]) == ["first_reminder"]           # nothing while on hold
    assert ext["big_skips"] not in by_loan and ext["current"] not in by_loan


def test_broken_promise_at_60_days_is_matched_by_the_negotiation_rule(session, settings):
    from decimal import Decimal

    from collections_svc.cases import service as cases_service
    from collections_svc.cases.schemas import PromiseIn
    loan = make_loan(session, schedule=[("2026-03-01", "100000.00", "500.00"),
                                        ("2026-12-01", "100000.00", "500.00")])
    ext = loan.external_id
    session.commit()
    reports = {}
    for n in range(1, 62):
        day = START + dt.timedelta(days=n)          # 03-02 .. 05-01
        if day == dt.date(2026, 4, 10):             # DPD 40: the borrower promises to pay by 04-20
            case = session.scalar(select(Case).join(Loan, Loan.id == Case.loan_id)
                                  .where(Loan.external_id == ext, Case.is_open.is_(True)))
            cases_service.add_promise(session, case, PromiseIn(amount=Decimal("100500.00"),
                                                               due_on=dt.date(2026, 4, 20), grace_days=2),
                                      actor=SYSTEM, business_date=day)
            session.commit()
        reports[day] = run_sweep(session, day, settings)
        session.commit()
        assert reports[day].error_count == 0, (day, reports[day].errors)
    broken_on = [d for d, r in reports.items() if r.counts["promises_broken"]]
    assert broken_on == [dt.date(2026, 4, 23)]          # due + 2 grace days passed without payment
    # from DPD 60 (04-30) the strategy's cue is the broken promise, not the missing contact
    assert reports[dt.date(2026, 4, 30)].stats["rule_matches"] == {"negotiation_after_broken_promise": 1}
    assert reports[dt.date(2026, 4, 29)].stats["rule_matches"] == {"onsite_visit": 1}
