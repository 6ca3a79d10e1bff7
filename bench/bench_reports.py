# ruff: noqa: S608 - SQL composed from integers only
"""Reports over a year of daily snapshots for 100k loans, against a floor measured in the same run.

Builds a throw-away PostgreSQL database, migrates it with Alembic and generates, set-based in SQL, the
rows the sweep's snapshot step (reports/snapshot.py) would have written over 2025 for a synthetic
book: one keyframe row per loan per month, a row whenever something besides the DPD tick changes
(a monthly instalment paid on the 10th lowers the outstanding principal; a delinquent loan's overdue
amount, case stage, category and IFRS 9 stage change as its DPD crosses 1/31/61/91/271/361; a cure; a
pay-off, after which the loan gets no more keyframes), and the ``snapshot_day`` ledger (365 dates,
keyframe on the 1st). About 15% of loans go delinquent once in the year, 60% of those cure.

Then it times (median of 3, each with its ratio to the floor):

  floor      ``SELECT count(*), sum(outstanding)`` over one day of naive daily rows (100k rows)
  aging      ``analytics.aging`` for one date, whole book and by region
  roll rates ``analytics.roll_rates`` between two month-ends, and the 12-month trend
  trend      ``analytics.trend``: 12 month-end points

and prints the snapshot storage per loan-day against naive daily rows (one row per loan per day with
the same columns and a primary key, measured on one real day of them and scaled).

  .venv/bin/python bench/bench_reports.py --loans 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from scratch import scratch_database  # bench/ is on sys.path when run as a script
from sqlalchemy import text
from sqlalchemy.orm import Session

from collections_svc.config import Settings
from collections_svc.db import make_engine
from collections_svc.migrate import upgrade
from collections_svc.reports import analytics

YEAR_START, YEAR_END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
DAYS = (YEAR_END - YEAR_START).days + 1

# The 10th-of-month payments counted up to a date (2025 only): months elapsed + 1 if on/after the 10th.
N10 = "((EXTRACT(MONTH FROM {d})::int - 1) + CASE WHEN EXTRACT(DAY FROM {d}) >= 10 THEN 1 ELSE 0 END)"

GENERATE = [
    "SELECT setseed(0.42)",
    """CREATE TEMP TABLE bp AS
       SELECT l AS loan_id, random() < 0.15 AS delinquent,
              DATE '2025-01-01' + (random() * 330)::int AS ds,
              CASE WHEN random() < 0.6 THEN (10 + random() * 200)::int END AS cure_after,
              random() < 0.3 AS pays_off,
              ((100000 + random() * 9900000)::bigint / 100) * 10000 AS principal,
              (ARRAY['working_capital','fixed_asset','project_finance','trade_finance','other'])[1 + l % 5]
                  AS product,
              'R' || (l % 10) AS region, 'I' || (l % 8) AS industry, 'team' || (l % 4) AS team,
              1 + l % 40 AS assignee
       FROM generate_series(1, :n) l""",
    "UPDATE bp SET ds = NULL, cure_after = NULL, pays_off = false WHERE NOT delinquent",
    # Change points: month starts (keyframes), the 10th (instalment paid), DPD 1 + 30k, the cure day.
    """CREATE TEMP TABLE pts AS
       SELECT DISTINCT loan_id, d FROM (
           SELECT b.loan_id, m::date AS d FROM bp b
               CROSS JOIN generate_series(DATE '2025-01-01', DATE '2025-12-01', interval '1 month') m
           UNION ALL
           SELECT b.loan_id, (m + interval '9 days')::date FROM bp b
               CROSS JOIN generate_series(DATE '2025-01-01', DATE '2025-12-01', interval '1 month') m
           UNION ALL
           SELECT b.loan_id, b.ds + 1 + 30 * k FROM bp b CROSS JOIN generate_series(0, 12) k WHERE b.delinquent
           UNION ALL
           SELECT b.loan_id, b.ds + 1 + b.cure_after FROM bp b WHERE b.delinquent AND b.cure_after IS NOT NULL
       ) x WHERE d BETWEEN DATE '2025-01-01' AND DATE '2025-12-31'""",
    # The state at every point, exactly as the sweep would have computed it that day.
    f"""CREATE TEMP TABLE st AS
       SELECT p.loan_id, p.d,
              (b.delinquent AND p.d >= b.ds + 1 AND (b.cure_after IS NULL OR p.d < b.ds + 1 + b.cure_after)) AS dl,
              CASE WHEN b.pays_off AND b.cure_after IS NOT NULL AND p.d >= b.ds + 1 + b.cure_after THEN 1 ELSE 0
                  END AS status,
              CASE WHEN b.delinquent AND p.d >= b.ds + 1
                   THEN LEAST(p.d, b.ds + COALESCE(b.cure_after, 100000)) - b.ds ELSE 0 END AS max_dpd,
              b.ds, b.principal, b.product, b.region, b.industry, b.team, b.assignee,
              {N10.format(d='p.d')} - CASE WHEN b.delinquent AND p.d > b.ds
                  THEN {N10.format(d='LEAST(p.d, b.ds + COALESCE(b.cure_after, 100000))')} - {N10.format(d='b.ds')}
                  ELSE 0 END AS paid_n
       FROM pts p JOIN bp b USING (loan_id)""",
    """CREATE TEMP TABLE snap_rows AS
       SELECT loan_id, d, status, oldest, overdue, outstanding, cat, stage9, case_stage, product, region, industry,
              team, assignee,
              LAG(status) OVER w AS p_status,
              ROW(status, oldest, overdue, outstanding, cat, stage9, case_stage, team)::text AS sig,
              LAG(ROW(status, oldest, overdue, outstanding, cat, stage9, case_stage, team)::text) OVER w AS p_sig
       FROM (
           SELECT loan_id, d, status,
                  CASE WHEN dl THEN ds END AS oldest,
                  CASE WHEN dl THEN (principal / 100) * (1 + (d - ds - 1) / 30) ELSE 0 END AS overdue,
                  CASE WHEN status = 1 THEN 0 ELSE principal - (principal / 100) * GREATEST(paid_n, 0) END
                      AS outstanding,
                  CASE WHEN max_dpd > 360 THEN 4 WHEN max_dpd > 270 THEN 3 WHEN max_dpd > 90 THEN 2
                       WHEN max_dpd >= 1 THEN 1 ELSE 0 END AS cat,
                  CASE WHEN max_dpd > 90 THEN 3 WHEN max_dpd > 30 THEN 2 ELSE 1 END AS stage9,
                  CASE WHEN NOT dl THEN NULL WHEN d - ds <= 30 THEN 'phone_reminder' WHEN d - ds <= 60 THEN 'letter'
                       WHEN d - ds <= 90 THEN 'visit' ELSE 'legal' END AS case_stage,
                  product, region, industry,
                  CASE WHEN dl THEN team END AS team, CASE WHEN dl THEN assignee END AS assignee
           FROM st) s
       WINDOW w AS (PARTITION BY loan_id ORDER BY d)""",
    # What the sweep writes: keyframes on the 1st for loans still in the book (active, or closed since
    # their last row), other days only a changed state; nothing after a pay-off.
    """INSERT INTO loan_snapshot (valid_from, loan_id, valid_to, status, oldest_unpaid_due_on, overdue_amount,
              outstanding, category_rank, ifrs9_stage, case_stage, borrower_id, product, region, industry, team,
              assignee_id, keyframe)
       SELECT d, loan_id, LEAD(d) OVER (PARTITION BY loan_id ORDER BY d), status, oldest, overdue, outstanding,
              cat, stage9, case_stage, loan_id, product, region, industry, team, assignee, EXTRACT(DAY FROM d) = 1
       FROM snap_rows
       WHERE COALESCE(p_status, 0) <> 1 AND (EXTRACT(DAY FROM d) = 1 OR p_sig IS NULL OR sig <> p_sig)
       ORDER BY d, loan_id""",   # the sweep appends day after day: a month's rows sit together on disk
    """INSERT INTO snapshot_day (business_date, partition, keyframe, loans, rows_written, created_at)
       SELECT d::date, '0/1', EXTRACT(DAY FROM d) = 1, :n, 0, now()
       FROM generate_series(DATE '2025-01-01', DATE '2025-12-31', interval '1 day') d""",
]


def median_time(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=100_000)
    ap.add_argument("--keep", action="store_true", help="keep the database")
    args = ap.parse_args()
    url, drop = scratch_database("postgresql", "cs_bench_reports")
    try:
        run(url, args.loans)
    finally:
        if not args.keep:
            drop()


def run(url: str, n: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(database={"url": url})
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_loan_snapshot_loan")   # indexes after the load
        conn.exec_driver_sql("ALTER TABLE loan_snapshot DROP CONSTRAINT pk_loan_snapshot")
        for stmt in GENERATE:
            conn.execute(text(stmt), {"n": n})
        conn.exec_driver_sql("ALTER TABLE loan_snapshot ADD CONSTRAINT pk_loan_snapshot "
                             "PRIMARY KEY (valid_from, loan_id)")
        conn.exec_driver_sql("CREATE INDEX ix_loan_snapshot_loan ON loan_snapshot (loan_id, valid_from)")
        # Naive daily rows for one day, for the floor and the storage comparison.
        conn.exec_driver_sql("""
            CREATE TABLE naive_daily AS
            SELECT DATE '2025-06-17' AS business_date, loan_id, status, 0 AS dpd, oldest_unpaid_due_on,
                   overdue_amount, outstanding, category_rank, ifrs9_stage, case_stage, borrower_id, product,
                   region, industry, team, assignee_id
            FROM loan_snapshot WHERE valid_from >= DATE '2025-06-01' AND valid_from <= DATE '2025-06-17'
              AND (valid_to IS NULL OR valid_to > DATE '2025-06-17')""")
        conn.exec_driver_sql("ALTER TABLE naive_daily ADD PRIMARY KEY (business_date, loan_id)")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE loan_snapshot")
        conn.exec_driver_sql("VACUUM ANALYZE naive_daily")
        conn.exec_driver_sql("VACUUM ANALYZE snapshot_day")
    gen = time.perf_counter() - t0
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM loan_snapshot").scalar()
        snap_bytes = conn.exec_driver_sql("SELECT pg_total_relation_size('loan_snapshot')").scalar()
        naive_rows = conn.exec_driver_sql("SELECT count(*) FROM naive_daily").scalar()
        naive_bytes = conn.exec_driver_sql("SELECT pg_total_relation_size('naive_daily')").scalar()
    loan_days = n * DAYS
    print(f"generated {rows:,} snapshot rows for {n:,} loans x {DAYS} days in {gen:.1f} s "
          f"({rows / n:.1f} rows per loan-year)")
    print(f"storage: {snap_bytes / 2**20:.1f} MiB = {snap_bytes / loan_days:.2f} bytes per loan-day "
          f"(table + indexes)")
    naive_per = naive_bytes / naive_rows
    print(f"naive daily rows: {naive_per:.1f} bytes per loan-day (one day measured: {naive_rows:,} rows, "
          f"{naive_bytes / 2**20:.1f} MiB) -> a year would be {naive_per * loan_days / 2**30:.2f} GiB; "
          f"intervals are {naive_per / (snap_bytes / loan_days):.0f}x smaller")

    with Session(engine) as s:
        def floor() -> None:
            s.execute(text("SELECT count(*), sum(outstanding) FROM naive_daily")).all()

        day, m1, m2 = dt.date(2025, 6, 17), dt.date(2025, 5, 1), dt.date(2025, 6, 1)
        cases = [
            ("aging (whole book, one date)", lambda: analytics.aging(s, settings, day)),
            ("aging by region", lambda: analytics.aging(s, settings, day, by="region")),
            ("roll rates 2025-05 -> 2025-06", lambda: analytics.roll_rates(s, settings, m1, m2)),
            ("roll-rate trend, 12 months", lambda: analytics.roll_rate_trend(s, settings, dt.date(2025, 12, 1), 12)),
            ("trend, 12 month-ends", lambda: analytics.trend(s, settings, YEAR_START, YEAR_END)),
            ("IND-08 migration, one month", lambda: analytics.migration(s, settings, dt.date(2025, 5, 31),
                                                                         dt.date(2025, 6, 30))),
        ]
        f = median_time(floor, 5)
        print(f"floor: count(*) + sum over one day of naive rows ({naive_rows:,}): {f * 1000:.1f} ms")
        for label, fn in cases:
            t = median_time(fn)
            print(f"{label:34s} {t:7.3f} s  = {t / f:7.1f}x floor   {'OK' if t < 2 else 'OVER 2 s'}")
        a = analytics.aging(s, settings, day)["total"]
        print(f"check: aging {day}: {a['loans']:,} loans, outstanding {a['outstanding']}, PAR30 {a['par30']}, "
              f"PAR90 {a['par90']}")
    engine.dispose()


if __name__ == "__main__":
    main()
