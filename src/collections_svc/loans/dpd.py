# ruff: noqa: S608 - the SQL below is composed only from integers and bucket codes from settings
"""The DPD engine: days past due, overdue amounts and buckets for the whole book in one set-based pass.

DPD as of D = D - due date of the oldest installment that was unpaid (beyond materiality) at the end of
D (IND-01; day 1 is the day after the due date). Principal not covered by the schedule falls due at
maturity, so an unextended loan is overdue from the day after maturity (CN-PLM-05).

"Unpaid as of D" is exact for past dates too: it adds back what payments with a later value date
allocated, so a catch-up sweep for a missed date sees the book as it was that day.

The pass is plain SQL over the book (DESIGN.md rule 6): one aggregate into a temporary table, one
UPDATE for loans whose figures changed, one UPDATE resetting loans no longer overdue, and two small
statements for bucket history. No per-loan Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from collections_svc.config import Bucket, DpdSettings

_UNPAID_NOW = ("(i.principal_due + i.interest_due + i.penalty_due "
               "- i.principal_paid - i.interest_paid - i.penalty_paid)")
_TOTAL_DUE = "(i.principal_due + i.interest_due + i.penalty_due)"


@dataclass(frozen=True)
class DpdResult:
    as_of: dt.date
    loans_changed: int
    loans_reset: int
    bucket_moves: int


def bucket_case(expr: str, buckets: Sequence[Bucket]) -> str:
    parts = [f"WHEN {expr} <= {b.max_dpd} THEN '{b.code}'" for b in buckets if b.max_dpd is not None]
    return f"(CASE {' '.join(parts)} ELSE '{buckets[-1].code}' END)"


def bucket_for(dpd: int, buckets: Sequence[Bucket]) -> Bucket:
    for b in buckets:
        if b.max_dpd is None or dpd <= b.max_dpd:
            return b
    return buckets[-1]


def _days_between(dialect: str, later: str, earlier: str) -> str:
    if dialect == "sqlite":
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"(CAST({later} AS date) - {earlier})"


def run_dpd(session: Session, as_of: dt.date, settings: DpdSettings,
            loan_ids: Sequence[int] | None = None, partition: tuple[int, int] | None = None) -> DpdResult:
    """Recompute DPD, overdue amount and bucket as of ``as_of`` for the book (or just ``loan_ids``)."""
    dialect = session.get_bind().dialect.name
    abs_cents = int(settings.materiality_absolute * 100)
    rel = float(settings.materiality_relative)
    params: dict = {"as_of": as_of.isoformat() if dialect == "sqlite" else as_of, "abs": abs_cents, "rel": rel}
    inst_filter = loan_filter = ""
    if loan_ids is not None:
        ids = ",".join(str(int(i)) for i in loan_ids) or "NULL"
        inst_filter = f" AND i.loan_id IN ({ids})"
        loan_filter = f" AND l.id IN ({ids})"
    if partition is not None and partition[1] > 1:  # the sweep's K/N: loans with id % N == K
        k, n = int(partition[0]), int(partition[1])
        inst_filter += f" AND i.loan_id % {n} = {k}"
        loan_filter += f" AND l.id % {n} = {k}"
    days = _days_between(dialect, ":as_of", "x.due_on")
    # SQLite's planner prefers ix_installment_settled_on (every open row, future ones included) over the
    # partial index that holds exactly the open installments by due date; name the index.
    open_hint = " INDEXED BY ix_installment_open_due" if dialect == "sqlite" and loan_ids is None else ""

    conn = session.connection()
    conn.exec_driver_sql("DROP TABLE IF EXISTS dpd_agg")
    # Installments unpaid at the end of as_of: still open, or settled by a payment valued later.
    conn.execute(text(f"""
        CREATE TEMPORARY TABLE dpd_agg AS
        SELECT x.loan_id AS loan_id, MIN(x.due_on) AS oldest, SUM(x.unpaid) AS overdue,
               MAX({days}) AS dpd
        FROM (
            SELECT i.loan_id, i.due_on, i.unpaid + COALESCE(late.amount, 0) AS unpaid, i.total
            FROM (
                -- Two disjoint branches instead of one OR, so each reads its own small index range:
                -- still open (partial index ix_installment_open_due), or settled after as_of.
                SELECT i.id, i.loan_id, i.due_on, {_UNPAID_NOW} AS unpaid, {_TOTAL_DUE} AS total
                FROM installment i{open_hint} WHERE i.settled_on IS NULL AND i.due_on < :as_of{inst_filter}
                UNION ALL
                SELECT i.id, i.loan_id, i.due_on, {_UNPAID_NOW}, {_TOTAL_DUE}
                FROM installment i WHERE i.settled_on > :as_of AND i.due_on < :as_of{inst_filter}
            ) i
            LEFT JOIN (
                -- CROSS JOIN keeps SQLite reading the few later payments first (ix_payment_paid_on)
                -- instead of every allocation; PostgreSQL plans it like an inner join.
                SELECT pa.installment_id, SUM(pa.amount) AS amount
                FROM payment p CROSS JOIN payment_allocation pa
                WHERE pa.payment_id = p.id AND p.paid_on > :as_of GROUP BY pa.installment_id
            ) late ON late.installment_id = i.id
            UNION ALL
            SELECT l.id, l.maturity_on, l.principal - l.scheduled_principal, l.principal - l.scheduled_principal
            FROM loan l
            WHERE l.maturity_on < :as_of AND l.principal > l.scheduled_principal
              AND l.status <> 'written_off'{loan_filter}
        ) x
        JOIN loan lo ON lo.id = x.loan_id AND lo.status <> 'written_off'
        WHERE x.unpaid > :abs AND x.unpaid > :rel * x.total
        GROUP BY x.loan_id
    """), params)
    if dialect == "postgresql":
        conn.exec_driver_sql("ANALYZE dpd_agg")  # temp tables get no statistics from autovacuum
    buckets = settings.buckets
    new_bucket = bucket_case("a.dpd", buckets)
    changed = conn.execute(text(f"""
        UPDATE loan SET dpd = a.dpd, overdue_amount = a.overdue, oldest_unpaid_due_on = a.oldest,
               bucket = {new_bucket},
               bucket_changed_on = CASE WHEN loan.bucket IS NULL OR loan.bucket <> {new_bucket}
                                        THEN :as_of ELSE loan.bucket_changed_on END
        FROM dpd_agg a
        WHERE a.loan_id = loan.id
          AND (loan.dpd <> a.dpd OR loan.overdue_amount <> a.overdue OR loan.bucket IS NULL
               OR loan.oldest_unpaid_due_on IS NULL OR loan.oldest_unpaid_due_on <> a.oldest)
    """), params).rowcount
    # Without an index the "no longer overdue" anti-join below rescans the temp table per loan. (Created
    # only now: with it, SQLite would run the UPDATE above from every loan instead of from the few in dpd_agg.)
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_dpd_agg_loan ON dpd_agg (loan_id)")
    current = buckets[0].code
    reset_filter = loan_filter.replace("l.id", "loan.id")
    reset = conn.execute(text(f"""
        UPDATE loan SET dpd = 0, overdue_amount = 0, oldest_unpaid_due_on = NULL, bucket = '{current}',
               bucket_changed_on = CASE WHEN bucket IS NULL OR bucket <> '{current}'
                                        THEN :as_of ELSE bucket_changed_on END
        WHERE status <> 'written_off' AND (dpd > 0 OR overdue_amount <> 0 OR bucket IS NULL OR bucket <> '{current}')
          AND NOT EXISTS (SELECT 1 FROM dpd_agg a WHERE a.loan_id = loan.id){reset_filter}
    """), params).rowcount
    # Bucket history: close the open row of loans that moved today, open a row for the new bucket.
    # The loans that moved go to a small temporary table first, so no statement reads the history table
    # while writing it (PostgreSQL, planning with pre-update statistics, would otherwise rescan the
    # growing table once per loan: minutes on the first pass over a fresh book).
    conn.exec_driver_sql("DROP TABLE IF EXISTS dpd_moved")
    conn.execute(text(f"""
        CREATE TEMPORARY TABLE dpd_moved AS
        SELECT loan.id AS loan_id, loan.bucket AS bucket FROM loan
        WHERE loan.bucket_changed_on = :as_of{reset_filter}
    """), params)
    if dialect == "postgresql":
        conn.exec_driver_sql("ANALYZE dpd_moved")
    conn.execute(text("""
        UPDATE loan_bucket_history SET left_on = :as_of
        FROM dpd_moved m
        WHERE m.loan_id = loan_bucket_history.loan_id AND loan_bucket_history.left_on IS NULL
          AND loan_bucket_history.bucket <> m.bucket
    """), params)
    # Loans that still have an open row already sit in the right bucket (a re-run of the same date).
    conn.exec_driver_sql("""
        DELETE FROM dpd_moved WHERE EXISTS (
            SELECT 1 FROM loan_bucket_history h WHERE h.loan_id = dpd_moved.loan_id AND h.left_on IS NULL)
    """)
    moves = conn.execute(text("""
        INSERT INTO loan_bucket_history (loan_id, bucket, entered_on)
        SELECT m.loan_id, m.bucket, :as_of FROM dpd_moved m
    """), params).rowcount
    conn.exec_driver_sql("DROP TABLE dpd_moved")
    conn.exec_driver_sql("DROP TABLE dpd_agg")
    session.expire_all()  # the ORM's copies of loans are stale after set-based updates
    return DpdResult(as_of=as_of, loans_changed=changed, loans_reset=reset, bucket_moves=moves)


@dataclass(frozen=True)
class BucketLine:
    bucket: str
    label: str
    loans: int
    overdue_amount: Decimal
    outstanding_principal: Decimal


def bucket_summary(session: Session, settings: DpdSettings) -> list[BucketLine]:
    rows = session.execute(text("""
        SELECT bucket, COUNT(*), COALESCE(SUM(overdue_amount), 0), COALESCE(SUM(principal - principal_paid), 0)
        FROM loan WHERE status = 'active' GROUP BY bucket
    """)).all()
    by_code = {r[0]: r for r in rows}
    out = []
    for b in settings.buckets:
        r = by_code.get(b.code)
        out.append(BucketLine(b.code, b.label, int(r[1]) if r else 0,
                              Decimal(int(r[2]) if r else 0) / 100, Decimal(int(r[3]) if r else 0) / 100))
    return out
