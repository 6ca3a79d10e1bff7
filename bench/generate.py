"""Fast synthetic corporate loan book for benchmarks.

Writes borrowers with executemany (Chinese company names built from the demo seed's word lists, valid
USCCs) and loans, installments, payments and allocations with set-based ``INSERT ... SELECT`` over a
generated series, so a million loans take a couple of minutes on PostgreSQL rather than hours through
the ORM.

The book as of ``as_of``: every loan has 12 monthly (30-day) installments; between 1 and 11 of them
have fallen due. About 85% of loans have settled every installment that fell due; the rest stopped
paying some days ago, spread over every DPD bucket. Each loan with a settled installment has one
payment (with its allocations) for the last installment it settled.

Usage: ``.venv/bin/python bench/generate.py --url sqlite:///./var/bench.db --loans 100000`` (the
database must already be migrated to head; bench_dpd.py does that for you).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable

from sqlalchemy import Connection, text

from collections_svc.demo import CITIES, INDUSTRIES, REGION_OF, WORDS
from collections_svc.loans.validators import uscc_check_char

INSTALLMENTS = 12
# Share of loans (in percent) that stopped paying, and the DPD they aim at, by hash band.
ARREARS_TARGETS = [(85, 0), (89, 12), (91, 25), (93, 45), (95, 75), (97, 130), (100, 250)]
BORROWER_BATCH = 10_000
# Days since disbursement, 30..329 (kept inside 32-bit integer arithmetic on PostgreSQL).
AGE = "(30 + ((s.n % 100003) * 7919) % 300)"


def _series(dialect: str, n: int) -> str:
    """A relation ``s(n)`` with the integers 1..n."""
    if dialect == "postgresql":
        return f"generate_series(1, {int(n)}) AS s(n)"
    return (
        f"(WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {int(n)}) "
        "SELECT n FROM r) AS s"
    )


def _add_days(dialect: str, date_expr: str, days_expr: str) -> str:
    if dialect == "postgresql":
        return f"({date_expr} + ({days_expr}))"
    return f"date({date_expr}, ({days_expr}) || ' days')"


def _date(dialect: str, d: dt.date) -> str:
    return f"DATE '{d.isoformat()}'" if dialect == "postgresql" else f"'{d.isoformat()}'"


def company_name(i: int) -> str:
    city = CITIES[i % len(CITIES)]
    w1 = WORDS[(i // len(CITIES)) % len(WORDS)]
    w2 = WORDS[(i // (len(CITIES) * len(WORDS))) % len(WORDS)]
    suffix = INDUSTRIES[i % len(INDUSTRIES)][1]
    return f"{city}{w1}{w2}{suffix}有限公司（{i}）"


def uscc_for(i: int) -> str:
    body = f"91310000{i:09d}"
    return body + uscc_check_char(body)


def generate(
    conn: Connection, loans: int, as_of: dt.date, log: Callable[[str], None] = print
) -> dict[str, int]:
    """Fill an empty, migrated database; the caller commits."""
    dialect = conn.dialect.name
    now = dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC)
    ts = now if dialect == "postgresql" else now.replace(tzinfo=None).isoformat(sep=" ")
    n_borrowers = max(1, loans // 2)
    t0 = time.perf_counter()

    rows = []
    for i in range(1, n_borrowers + 1):
        ind, _ = INDUSTRIES[i % len(INDUSTRIES)]
        rows.append(
            {
                "id": i,
                "ext": f"B{i:08d}",
                "name": company_name(i),
                "uscc": uscc_for(i),
                "ind": ind,
                "region": REGION_OF[CITIES[i % len(CITIES)]],
                "ts": ts,
            }
        )
        if len(rows) == BORROWER_BATCH or i == n_borrowers:
            conn.execute(
                text(
                    "INSERT INTO borrower (id, external_id, name, uscc, industry, region, timezone, language,"
                    " version, created_at, updated_at)"
                    " VALUES (:id, :ext, :name, :uscc, :ind, :region, 'Asia/Shanghai',"
                    " 'zh_CN', 1, :ts, :ts)"
                ),
                rows,
            )
            rows = []
    log(f"  borrowers: {n_borrowers:,} in {time.perf_counter() - t0:.1f}s")

    # Per-loan figures derived from n by cheap arithmetic: age 30..329 days (1..10 installments due),
    # principal 1..5.9 million CNY, a hash band h in 0..99 that decides the arrears target.
    t1 = time.perf_counter()
    band = " ".join(
        f"WHEN ((s.n % 100003) * 37 + s.n / 7) % 100 < {lim} THEN {target}" for lim, target in ARREARS_TARGETS
    )
    ao = _date(dialect, as_of)
    conn.execute(
        text(f"""
        INSERT INTO loan (id, external_id, borrower_id, contract_no, product, currency, principal,
                          annual_rate, disbursed_on, maturity_on, status, principal_paid, scheduled_principal,
                          overpayment, dpd, overdue_amount, restructured, restructure_count, version,
                          created_at, updated_at)
        SELECT s.n, 'L' || s.n, (s.n - 1) / 2 + 1, 'HT' || s.n,
               CASE s.n % 10 WHEN 0 THEN 'fixed_asset' WHEN 1 THEN 'trade_finance'
                             WHEN 2 THEN 'project_finance' WHEN 3 THEN 'fixed_asset'
                             ELSE 'working_capital' END,
               'CNY', (100 + (s.n * 13) % 500) * 1200000, 0.0435,
               {_add_days(dialect, ao, f"-{AGE}")},
               {_add_days(dialect, ao, f"{30 * INSTALLMENTS} - {AGE}")},
               'active', 0, (100 + (s.n * 13) % 500) * 1200000, 0, 0, 0, false, 0, 1, :ts, :ts
        FROM {_series(dialect, loans)}
    """),
        {"ts": ts},
    )
    log(f"  loans: {loans:,} in {time.perf_counter() - t1:.1f}s")

    # Installments: due every 30 days; settled on the due date when it fell due before the loan's
    # "stopped paying" cutoff (as_of - target DPD). Principal in 12 equal parts (cents are exact:
    # principal is a multiple of 12), interest on the original principal.
    t2 = time.perf_counter()
    due = _add_days(dialect, "l.disbursed_on", "30 * s.n")
    cutoff = _add_days(dialect, ao, f"-(CASE {band.replace('s.n', 'l.id')} END)")
    settled = f"({due} < {cutoff} AND {due} < {ao})"
    conn.execute(
        text(f"""
        INSERT INTO installment (loan_id, seq, due_on, principal_due, interest_due, penalty_due,
                                 principal_paid, interest_paid, penalty_paid, settled_on)
        SELECT l.id, s.n, {due}, l.principal / {INSTALLMENTS}, l.principal * 435 / 120000, 0,
               CASE WHEN {settled} THEN l.principal / {INSTALLMENTS} ELSE 0 END,
               CASE WHEN {settled} THEN l.principal * 435 / 120000 ELSE 0 END, 0,
               CASE WHEN {settled} THEN {due} END
        FROM loan l CROSS JOIN {_series(dialect, INSTALLMENTS)}
    """)
    )
    log(f"  installments: {loans * INSTALLMENTS:,} in {time.perf_counter() - t2:.1f}s")

    # One payment per loan for the last installment it settled, with its two allocations. Settled
    # installments are a prefix of each schedule, so the last one is the highest settled seq.
    t3 = time.perf_counter()
    conn.exec_driver_sql("DROP TABLE IF EXISTS bench_paid")
    conn.exec_driver_sql("""
        CREATE TEMPORARY TABLE bench_paid AS
        SELECT loan_id, MAX(seq) AS last_seq, SUM(principal_paid) AS principal_paid
        FROM installment WHERE settled_on IS NOT NULL GROUP BY loan_id
    """)
    last_settled = "FROM bench_paid b JOIN installment i ON i.loan_id = b.loan_id AND i.seq = b.last_seq"
    conn.execute(
        text(f"""
        INSERT INTO payment (id, external_id, loan_id, paid_on, amount, unapplied, recovery, received_at)
        SELECT i.loan_id, 'P' || i.loan_id, i.loan_id, i.settled_on, i.principal_due + i.interest_due,
               0, false, :ts
        {last_settled}
    """),
        {"ts": ts},
    )
    conn.execute(
        text(f"""
        INSERT INTO payment_allocation (payment_id, installment_id, component, amount)
        SELECT i.loan_id, i.id, 'interest', i.interest_due {last_settled}
        UNION ALL
        SELECT i.loan_id, i.id, 'principal', i.principal_due {last_settled}
    """)
    )
    conn.execute(
        text("""
        UPDATE loan SET principal_paid = b.principal_paid FROM bench_paid b WHERE b.loan_id = loan.id
    """)
    )
    conn.exec_driver_sql("DROP TABLE bench_paid")
    payments = conn.execute(text("SELECT COUNT(*) FROM payment")).scalar_one()
    log(f"  payments: {payments:,} (+ allocations, principal_paid) in {time.perf_counter() - t3:.1f}s")

    if dialect == "postgresql":
        for table in ("borrower", "loan", "payment"):
            conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            )
    return {
        "borrowers": n_borrowers,
        "loans": loans,
        "installments": loans * INSTALLMENTS,
        "payments": payments,
    }


def main() -> None:
    from collections_svc.db import make_engine
    from collections_svc.migrate import upgrade

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="database URL (migrated to head first)")
    ap.add_argument("--loans", type=int, default=10_000)
    ap.add_argument("--as-of", default="2026-04-01")
    args = ap.parse_args()
    upgrade(args.url)
    engine = make_engine(args.url)
    with engine.begin() as conn:
        counts = generate(conn, args.loans, dt.date.fromisoformat(args.as_of))
    print(counts)


if __name__ == "__main__":
    main()
