"""The close-of-business sweep: what a supervisor sees after a night's run, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from collections_svc.auth.service import SYSTEM
from collections_svc.cases.models import Case, CaseEvent
from collections_svc.loans.models import Loan
from collections_svc.sweep import hooks
from collections_svc.sweep.models import SweepRun
from collections_svc.sweep.service import Partition, run_pending, run_sweep
from tests.factories import hold_case, make_loan, pay

D = dt.date.fromisoformat


def counts(session) -> dict[str, int]:
    return {t: session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("collection_case", "case_event", "audit_event", "sweep_run", "loan_bucket_history")}


def stages(session) -> dict[str, tuple[str, bool]]:
    rows = session.execute(text("SELECT l.external_id, c.stage, c.is_open FROM collection_case c "
                                "JOIN loan l ON l.id = c.loan_id ORDER BY c.id")).all()
    return {r[0]: (r[1], bool(r[2])) for r in rows}


@pytest.fixture
def book(session):
    """Three loans: one overdue since 03-01, one overdue since 02-01, one current."""
    late = make_loan(session, schedule=[("2026-03-01", "100000.00", "500.00"),
                                        ("2026-09-01", "100000.00", "500.00")])
    later = make_loan(session, schedule=[("2026-02-01", "50000.00", "300.00"),
                                         ("2026-08-01", "50000.00", "300.00")])
    fine = make_loan(session, schedule=[("2026-06-01", "80000.00", "400.00")])
    session.commit()
    return {"late": late.external_id, "later": later.external_id, "fine": fine.external_id,
            "late_obj": late}


def test_sweep_opens_and_escalates_per_default_ladder(session, settings, book):
    rep = run_sweep(session, D("2026-03-02"), settings)
    session.commit()
    assert rep.status == "succeeded", rep.errors
    # late: DPD 1 -> phone_reminder; later: DPD 29 -> letter; fine: no case.
    assert stages(session) == {book["late"]: ("phone_reminder", True), book["later"]: ("letter", True)}
    assert rep.counts["cases_opened"] == 2 and rep.counts["cases_escalated"] == 2
    assert rep.counts["loans_evaluated"] == 3
    run = session.scalar(select(SweepRun))
    assert (run.business_date, run.partition, run.status, run.cases_opened) == (D("2026-03-02"), "0/1",
                                                                                "succeeded", 2)
    assert run.strategy_version == "default-1"
    case = session.scalar(select(Case).where(Case.stage == "letter"))
    assert case.strategy_version == "default-1"


def test_rerun_same_date_changes_nothing_and_says_so(session, settings, book):
    run_sweep(session, D("2026-03-20"), settings)
    session.commit()
    before = counts(session)
    again = run_sweep(session, D("2026-03-20"), settings)
    session.commit()
    assert again.status == "already_done"
    assert "already ran" in again.message and "nothing was changed" in again.message
    assert again.counts["cases_opened"] == 2      # the ledger's figures of the real run
    assert counts(session) == before


def test_dry_run_reports_changes_and_writes_nothing(session, settings, book):
    run_sweep(session, D("2026-03-02"), settings)
    session.commit()
    before, stages_before = counts(session), stages(session)
    preview = run_sweep(session, D("2026-03-16"), settings, dry_run=True)
    session.commit()
    assert preview.dry_run and preview.status == "succeeded"
    assert "nothing was written" in preview.message
    # on 03-16 late is at DPD 15 (demand letter), later at DPD 43 (visit)
    assert sorted((e["from"], e["to"]) for e in preview.escalations) == [("letter", "visit"),
                                                                        ("phone_reminder", "letter")]
    assert preview.counts["cases_escalated"] == 2
    assert counts(session) == before and stages(session) == stages_before
    dpd = session.execute(text("SELECT dpd FROM loan WHERE external_id = :e"),
                          {"e": book["late"]}).scalar_one()
    assert dpd == 1   # the DPD pass was rolled back too
    # the real run afterwards does exactly what the preview said
    real = run_sweep(session, D("2026-03-16"), settings)
    assert real.counts == preview.counts


def test_cure_closes_case_when_loan_is_current(session, settings, book):
    run_sweep(session, D("2026-03-02"), settings)
    session.commit()
    pay(session, settings, book["late_obj"], "100500.00", "2026-03-03")
    session.commit()
    rep = run_sweep(session, D("2026-03-03"), settings)
    session.commit()
    # The cases package may already cure on payment; either way the night ends with the case resolved
    # and the sweep never cures twice.
    assert rep.counts["cases_cured"] in (0, 1) and rep.error_count == 0
    assert stages(session)[book["late"]] == ("resolved", False)


def test_failure_on_one_case_is_recorded_and_others_proceed(session, settings, book, monkeypatch):
    run_sweep(session, D("2026-03-02"), settings)
    session.commit()
    victim = session.scalar(select(Case.id).where(Case.stage == "phone_reminder"))
    real_fire = hooks.fire

    def failing_fire(s, case, trigger, **kw):
        if case.id == victim:
            raise RuntimeError("simulated failure for this case")
        return real_fire(s, case, trigger, **kw)

    monkeypatch.setattr(hooks, "fire", failing_fire)
    # 03-31: late DPD 30 (visit), later DPD 58 (visit): both should move, one fails.
    rep = run_sweep(session, D("2026-03-31"), settings)
    session.commit()
    assert rep.status == "completed_with_errors"
    assert rep.error_count == 1 and rep.errors[0]["case_id"] == victim
    assert "simulated failure" in rep.errors[0]["error"]
    assert rep.counts["cases_escalated"] == 1
    run = session.scalar(select(SweepRun).where(SweepRun.business_date == D("2026-03-31")))
    assert run.status == "completed_with_errors" and run.error_count == 1
    st = stages(session)
    assert st[book["later"]] == ("visit", True)
    assert st[book["late"]] == ("phone_reminder", True)   # its savepoint was rolled back, nothing half done
    assert session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == victim, CaseEvent.business_date == D("2026-03-31"))) == 0


def test_held_case_is_not_escalated(session, settings, book):
    run_sweep(session, D("2026-03-02"), settings)
    session.commit()
    held = session.scalar(select(Case.id).where(Case.stage == "phone_reminder"))
    hold_case(session, held, D("2026-03-05"))
    session.commit()
    rep = run_sweep(session, D("2026-03-20"), settings)
    session.commit()
    assert rep.error_count == 0 and rep.stats.get("held_skipped") == 1
    assert session.get(Case, held).stage == "phone_reminder"


def test_catch_up_runs_missed_dates_in_order(session, session_factory, settings, book):
    run_sweep(session, D("2026-03-01"), settings)
    session.commit()
    reports = run_pending(session_factory, D("2026-03-05"), settings)
    assert [r.business_date for r in reports] == [D("2026-03-02"), D("2026-03-03"), D("2026-03-04"),
                                                  D("2026-03-05")]
    assert all(r.status == "succeeded" for r in reports)
    # each date ran as of itself: the first overdue day opened the case on 03-02
    assert reports[0].counts["cases_opened"] == 1 and reports[1].counts["cases_opened"] == 0
    session.expire_all()
    assert session.scalar(select(Case.opened_on).where(Case.stage == "phone_reminder")) == D("2026-03-02")
    dates = session.scalars(select(SweepRun.business_date).order_by(SweepRun.id)).all()
    assert dates == [D("2026-03-01"), D("2026-03-02"), D("2026-03-03"), D("2026-03-04"), D("2026-03-05")]
    assert run_pending(session_factory, D("2026-03-05"), settings) == []


def test_catch_up_skips_weekends_when_configured(session, session_factory, settings, book):
    settings.sweep.skip_weekends = True
    run_sweep(session, D("2026-03-05"), settings)   # a Thursday
    session.commit()
    reports = run_pending(session_factory, D("2026-03-10"), settings)
    assert [r.business_date.isoformat() for r in reports] == ["2026-03-06", "2026-03-09", "2026-03-10"]


def test_partitions_split_the_book_and_each_has_a_ledger_row(session, settings, book):
    a = run_sweep(session, D("2026-03-02"), settings, partition=Partition.parse("0/2"))
    b = run_sweep(session, D("2026-03-02"), settings, partition=Partition.parse("1/2"))
    session.commit()
    assert a.counts["loans_evaluated"] + b.counts["loans_evaluated"] == 3
    assert a.counts["cases_opened"] + b.counts["cases_opened"] == 2
    assert sorted(session.scalars(select(SweepRun.partition)).all()) == ["0/2", "1/2"]
    again = run_sweep(session, D("2026-03-02"), settings, partition=Partition.parse("1/2"))
    assert again.status == "already_done"


@pytest.mark.parametrize("bad", ["2/2", "x", "1/0", "-1/3"])
def test_bad_partition_is_rejected(bad):
    from collections_svc.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        Partition.parse(bad)


def test_actor_and_audit_of_a_run(session, settings, book):
    run_sweep(session, D("2026-03-02"), settings, actor=SYSTEM)
    session.commit()
    row = session.execute(text("SELECT actor, after FROM audit_event WHERE action = 'sweep.run'")).one()
    assert row[0] == "system"


def test_strategy_tasks_and_proposal_hints_reach_the_collector_and_supervisor(session, settings, book):
    """DPD 1: a call task for today. DPD > 90: a visit task and a legal-referral hint for a supervisor."""
    run_sweep(session, D("2026-03-02"), settings)
    session.commit()
    phone = session.scalar(select(Case).where(Case.stage == "phone_reminder"))
    tasks = session.scalars(select(CaseEvent).where(CaseEvent.case_id == phone.id, CaseEvent.kind == "task")).all()
    assert [t.data["task"] for t in tasks] == ["call"]
    assert phone.next_action_on == D("2026-03-02")  # back at the top of the queue today

    run_sweep(session, D("2026-05-04"), settings)  # 'later' is 92 days past due
    session.commit()
    later = session.scalar(select(Case).join(Loan, Loan.id == Case.loan_id).where(Loan.external_id == book["later"]))
    kinds = [(e.kind, (e.data or {}).get("task") or (e.data or {}).get("proposal"))
             for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == later.id,
                                                              CaseEvent.kind.in_(("task", "suggestion"))))]
    assert ("task", "visit") in kinds and ("suggestion", "legal_referral") in kinds
    # A rerun of the same night adds no second task or hint.
    before = len(kinds)
    run_sweep(session, D("2026-05-04"), settings)
    assert session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == later.id, CaseEvent.kind.in_(("task", "suggestion")))) == before
