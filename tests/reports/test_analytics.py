"""Analytics over the fixture book (see conftest.py): hand-computed figures with the arithmetic shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from collections_svc.reports import analytics
from collections_svc.reports.models import LoanSnapshot, SnapshotDay
from collections_svc.reports.snapshot import write_snapshot
from collections_svc.sweep.service import Partition, run_sweep
from tests.factories import make_loan
from tests.reports.conftest import FEB, FEB_KEY, JAN

D = dt.date.fromisoformat
JAN_M, FEB_M = D("2026-01-01"), D("2026-02-01")


def approx(x: float) -> object:
    return pytest.approx(x, abs=1e-6)


def rows_of(matrix: dict) -> dict[str, dict]:
    return {r["bucket"]: r for r in matrix["rows"]}


def test_roll_rate_matrix_equals_hand_computed_values(session, settings, book):
    m = analytics.roll_rates(session, settings, JAN_M, FEB_M)
    # Month-ends fall on Saturdays: the snapshots used are Friday's sweeps.
    assert m["from"]["snapshot_date"] == "2026-01-30" and m["to"]["snapshot_date"] == "2026-02-27"
    r = rows_of(m)
    # M0 at 01-30: L1 100,000 + L2 200,000 = 300,000. L1 stays (100/300), L2 rolls to M1 (200/300).
    assert r["M0"]["balance"] == Decimal("300000.00")
    assert r["M0"]["rates_balance"]["M0"] == approx(100 / 300)
    assert r["M0"]["rates_balance"]["M1"] == approx(200 / 300)
    assert r["M0"]["rates_count"]["M0"] == approx(1 / 2)
    # M1: L3 300,000 (cured to M0) + L4 400,000 (to M2) + L6 50,000 (paid off) = 750,000.
    assert r["M1"]["balance"] == Decimal("750000.00")
    assert r["M1"]["rates_balance"]["M0"] == approx(300 / 750)          # 0.4
    assert r["M1"]["rates_balance"]["M2"] == approx(400 / 750)          # 0.533333
    assert r["M1"]["rates_balance"]["paid_off"] == approx(50 / 750)     # 0.066667
    assert r["M1"]["rates_count"]["paid_off"] == approx(1 / 3)
    assert r["M1"]["roll_forward_rate"] == approx(400 / 750)
    # M2: L8 400,000 stays in M2 (paid the 12-20 instalment, the 01-20 one is 38 days late).
    assert r["M2"]["rates_balance"]["M2"] == approx(1.0)
    # M3: L5 500,000 to M4, L7 700,000 written off = 1,200,000.
    assert r["M3"]["rates_balance"]["M4"] == approx(500 / 1200)          # 0.416667
    assert r["M3"]["rates_balance"]["written_off"] == approx(700 / 1200)  # 0.583333
    assert r["M3"]["roll_forward_rate"] == approx(1.0)
    # IND-03: every non-empty row sums to 100%, by balance and by count (to the rounding of 6 places),
    # and the cells' balances add up to the row's opening balance exactly.
    for row in m["rows"]:
        if row["loans"]:
            assert sum(v for v in row["rates_balance"].values() if v) == pytest.approx(1.0, abs=1e-5)
            assert sum(v for v in row["rates_count"].values() if v) == pytest.approx(1.0, abs=1e-5)
            assert sum(row["balances"].values()) == row["balance"]
    assert m["opening_balance"] == Decimal("2650000.00") and m["unmatched"]["loans"] == 0


def test_cure_promise_kept_recovery_and_rpc(session, settings, book):
    res = analytics.rates(session, settings, D("2026-02-01"), D("2026-02-28"))
    cure = res["cure"]
    # IND-04: delinquent at 01-30: L3 L4 L5 L6 L7 L8 = 6; cured by 02-27: L3 (DPD 0) and L6 (paid off) = 2.
    assert (cure["delinquent_loans"], cure["cured_loans"]) == (6, 2)
    assert cure["rate_count"] == approx(2 / 6)
    # by balance: (300,000 + 50,000) / (300,000 + 400,000 + 500,000 + 50,000 + 700,000 + 400,000 = 2,350,000)
    assert cure["rate_balance"] == approx(350 / 2350)
    ptp = res["promise_kept"]
    # IND-05: due in February: L3 (kept), L4 (broken after 2 grace days), L8 (80,800 of 161,600: partial).
    # L5's promise falls due in March and is not counted. Kept rate = 1 / 3.
    assert (ptp["due"], ptp["kept"], ptp["broken"], ptp["partially_paid"]) == (3, 1, 1, 1)
    assert ptp["rate"] == approx(1 / 3)
    rec = res["recovery"]
    # IND-06: L7 written off with 700,000 outstanding; 70,000 recovered on 02-25 -> 10%.
    assert rec["charged_off"] == Decimal("700000.00") and rec["recovered_to_date"] == Decimal("70000.00")
    assert rec["rate"] == approx(0.1)
    # Right-party contact: 3 calls (the SMS is no conversation); reached + promised = 2 of 3.
    assert res["right_party_contact"] == {"attempts": 3, "right_party_contacts": 2, "rate": approx(2 / 3)}


def test_aging_and_par_as_of_month_ends(session, settings, book):
    jan = analytics.aging(session, settings, D("2026-01-31"))
    t = jan["total"]
    # 01-30: outstanding 100+200+300+400+500+50+700+400 = 2,650,000; DPD > 30: L5 500 + L7 700 + L8 400.
    assert jan["snapshot_date"] == "2026-01-30"
    assert (t["loans"], t["outstanding"]) == (8, Decimal("2650000.00"))
    assert t["par30"] == approx(1600 / 2650) and t["par90"] == approx(0)
    buckets = {b["bucket"]: b for b in t["buckets"]}
    assert buckets["M1"]["loans"] == 3 and buckets["M1"]["outstanding"] == Decimal("750000.00")
    feb = analytics.aging(session, settings, D("2026-02-28"))["total"]
    # 02-27: active L1 100 + L2 200 + L3 200 + L4 400 + L5 500 + L8 320 = 1,720,000.
    # DPD > 30: L4 (48) 400 + L5 (94) 500 + L8 (38) 320 = 1,220,000; DPD > 90: L5 500,000.
    assert (feb["loans"], feb["outstanding"]) == (6, Decimal("1720000.00"))
    assert feb["par30"] == approx(1220 / 1720) and feb["par90"] == approx(500 / 1720)
    assert feb["par90_balance"] == Decimal("500000.00")
    by_product = analytics.aging(session, settings, D("2026-02-28"), by="product")
    groups = {g["key"]: g for g in by_product["groups"]}
    assert groups["fixed_asset"]["loans"] == 1 and groups["fixed_asset"]["par30"] == approx(1.0)
    assert sum(g["loans"] for g in by_product["groups"]) == 6
    # Before the first snapshot there is nothing to report, and it says so.
    assert analytics.aging(session, settings, D("2026-01-29"))["snapshot_date"] is None


def test_ind08_migration_rates(session, settings, book):
    m = analytics.migration(session, settings, D("2026-01-31"), D("2026-02-28"))
    r = {x["category"]: x for x in m["rates"]}
    # 正常类: opening L1 100,000 + L2 200,000 = 300,000, no reductions; L2 became special mention.
    # rate = 200,000 / (300,000 - 0)
    assert r["normal"]["migrated_balance"] == Decimal("200000.00")
    assert r["normal"]["rate"] == approx(200 / 300)
    # 关注类: opening L3 300 + L4 400 + L5 500 + L6 50 + L7 700 + L8 400 = 2,350,000.
    # reductions: L3 repaid 100,000, L6 paid off 50,000, L7 written off 700,000, L8 repaid 80,000 = 930,000.
    # migrated to NPL: L5 (DPD 94, substandard) 500,000. rate = 500,000 / (2,350,000 - 930,000) = 0.352113.
    sm = r["special_mention"]
    assert (sm["opening_balance"], sm["reductions"]) == (Decimal("2350000.00"), Decimal("930000.00"))
    assert sm["rate"] == approx(500 / 1420)
    assert r["substandard"]["rate"] is None        # no opening substandard balance


def test_collector_kpis_are_balanced_not_amount_only(session, settings, book, users):
    res = analytics.collectors(session, settings, D("2026-02-01"), D("2026-02-28"))
    (c,) = [x for x in res["collectors"] if x["username"] == "collector1"]
    assert (c["contacts"], c["cases_worked"], c["right_party_contacts"]) == (4, 3, 2)
    assert (c["promises_taken"], c["promises_due"], c["promises_kept"]) == (4, 3, 1)
    # Portfolio at 01-30: L3..L8, all delinquent; cured L3, L6; rolled forward L4, L5, L7 (written off).
    assert (c["loans"], c["cures"], c["rolls_forward"]) == (6, 2, 3)
    # Collected after 01-30: 80,800 + 101,000 + 50,300 + 70,000 (recovery) = 302,100.
    assert c["amount_collected"] == Decimal("302100.00")
    # Opening overdue 101,000 * 3 + 50,300 + 102,000 + 161,600 = 616,900.
    assert c["opening_overdue"] == Decimal("616900.00")
    assert c["score"] == approx((2 / 3 + 1 / 3 + 2 / 6 + (1 - 3 / 6) + 302100 / 616900) / 5)
    assert res["teams"][0]["team"] == "east"


def test_stages_and_trend_from_snapshots(session, settings, book):
    st = analytics.stages(session, settings, FEB)
    # Open cases at 02-27: L2, L4, L5, L8 (L3 and L6 cured, L7's loan written off but its case still open).
    loans_with_case = st["total_cases"]
    assert loans_with_case == 4
    tr = analytics.trend(session, settings, D("2026-01-01"), D("2026-02-28"))
    assert [p["snapshot_date"] for p in tr["series"]] == ["2026-01-30", "2026-02-27"]
    assert tr["series"][1]["par90"] == approx(500 / 1720)
    days = analytics.trend(session, settings, D("2026-01-01"), D("2026-02-28"), interval="day")
    assert [p["snapshot_date"] for p in days["series"]] == ["2026-01-30", "2026-02-16", "2026-02-27"]
    rt = analytics.roll_rate_trend(session, settings, FEB_M, 2)
    assert rt["series"][-1]["roll_forward"]["M3"] == approx(1.0)
    assert rt["series"][0]["from_snapshot"] is None      # December was never swept


def test_snapshot_rows_are_intervals_with_monthly_keyframes(session, settings, book):
    days = session.execute(select(SnapshotDay.business_date, SnapshotDay.keyframe, SnapshotDay.rows_written)
                           .order_by(SnapshotDay.business_date)).all()
    assert [(d, k) for d, k, _ in days] == [(JAN, True), (FEB_KEY, True), (FEB, False)]
    # 02-27 is no keyframe: only loans whose state changed beyond the DPD tick got a row
    # (L2 fell due, L4 and L5 changed category or stage, L7 written off ...), never the whole book.
    assert 0 < days[2][2] < 8
    # DPD is derived: L5's one row from 02-16 still gives DPD 94 on 02-27 if nothing else changed.
    l5 = book["L5"]
    assert session.scalar(select(func.count()).select_from(LoanSnapshot).where(
        LoanSnapshot.loan_id == l5, LoanSnapshot.valid_to.is_(None))) == 1


def test_sweep_twice_same_date_writes_the_snapshot_once(session, settings, book):
    before = session.scalar(select(func.count()).select_from(LoanSnapshot))
    again = run_sweep(session, FEB, settings)
    session.commit()
    assert again.status == "already_done"
    assert write_snapshot(session, FEB).status == "already_written"
    assert write_snapshot(session, FEB_KEY).status == "already_written"
    assert write_snapshot(session, D("2026-02-20")).status == "skipped_out_of_order"   # a missed date, late
    assert session.scalar(select(func.count()).select_from(LoanSnapshot)) == before
    assert analytics.aging(session, settings, FEB)["total"]["loans"] == 6


def test_partitioned_sweep_writes_each_partition_once(session, settings):
    ids = [make_loan(session, schedule=[("2026-03-10", "1000.00", "10.00")]).id for _ in range(5)]
    session.commit()
    day = D("2026-03-16")
    for k in (0, 1):
        rep = run_sweep(session, day, settings, partition=Partition(k, 2))
        session.commit()
        assert rep.stats["snapshot"]["status"] == "written"
    rep = run_sweep(session, day, settings, partition=Partition(0, 2))
    session.commit()
    per_loan = session.execute(select(LoanSnapshot.loan_id, func.count()).where(
        LoanSnapshot.loan_id.in_(ids)).group_by(LoanSnapshot.loan_id)).all()
    assert sorted(n for _, n in per_loan) == [1] * 5
    a = analytics.aging(session, settings, day)["total"]
    assert a["loans"] == 5 and {b["bucket"]: b["loans"] for b in a["buckets"]}["M1"] == 5
    parts = session.execute(text("SELECT partition, loans FROM snapshot_day ORDER BY partition")).all()
    assert [p for p, _ in parts] == ["0/2", "1/2"] and sum(n for _, n in parts) == 5


def test_notice_statistics_by_template_failure_code_and_gate(session, settings, book):
    from collections_svc.notices.models import Notice, NoticeStatusEvent

    notices = session.query(Notice).order_by(Notice.id).all()
    assert len(notices) >= 2, "the default ladder queues notices for the overdue loans"
    failed, deferred = notices[0], notices[1]
    failed.status, failed.error_code = "failed", "30003"
    deferred.status, deferred.defer_reason = "deferred", "CN-COL-03 quiet hours"
    for at in ("2026-01-30T13:30:00+00:00", "2026-01-30T14:30:00+00:00"):
        session.add(NoticeStatusEvent(notice_id=deferred.id, status="deferred", source="dispatcher",
                                      detail="CN-COL-03 quiet hours; next try 2026-01-31T00:00:00+00:00",
                                      at=dt.datetime.fromisoformat(at)))
    session.commit()
    res = analytics.notices(session, D("2026-01-01"), D("2026-02-28"))
    assert res["totals"]["queued"] == len(notices) and res["totals"]["failed"] == 1
    assert res["failures"] == [{"channel": failed.channel, "error_code": "30003", "count": 1}]
    # Two deferral events of one notice by the same gate (the "next try" part is not the gate).
    assert res["deferrals"] == [{"channel": deferred.channel, "gate": "CN-COL-03 quiet hours", "events": 2,
                                 "notices": 1}]
    assert sum(t["queued"] for t in res["by_template"]) == len(notices)
    # Compliance blocks reach the collector's KPIs (the case is assigned to collector1).
    kpi = analytics.collectors(session, settings, D("2026-01-01"), D("2026-02-28"))["collectors"][0]
    assert kpi["compliance_blocks"] == 2


def test_catch_up_writes_a_snapshot_for_every_missed_date(session, session_factory, settings):
    from collections_svc.sweep.service import run_pending

    make_loan(session, schedule=[("2026-03-02", "5000.00", "50.00")])
    session.commit()
    run_sweep(session, D("2026-03-02"), settings)
    session.commit()
    run_pending(session_factory, D("2026-03-05"), settings)
    written = session.scalars(select(SnapshotDay.business_date).order_by(SnapshotDay.business_date)).all()
    assert written == [D("2026-03-02"), D("2026-03-03"), D("2026-03-04"), D("2026-03-05")]
    # Each missed date reports as that day: DPD 1 on 03-03, 3 on 03-05 (one interval row, DPD derived).
    assert analytics.aging(session, settings, D("2026-03-03"))["total"]["buckets"][1]["loans"] == 1
    assert analytics.stages(session, settings, D("2026-03-05"))["stages"][0]["max_dpd"] == 3
