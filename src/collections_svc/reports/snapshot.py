# ruff: noqa: S608 - SQL is composed only from integers, fixed column lists and the partition's integers
"""Writing the daily loan snapshot (a sweep step) and reading the book as of a date.

Writing (``write_snapshot``), set-based, for one business date and sweep partition:

1. the ledger (``snapshot_day``) says whether the date is done already: a rerun writes nothing;
2. a temp table holds today's state of every loan in the book (active loans, plus loans whose
   current row is still active: they were paid off or written off since the last run);
3. on the first run of a month (a *keyframe*) every such loan gets a new row; on other days only the
   loans whose state differs from their current row (anything but the DPD tick);
4. their current rows are closed (``valid_to`` = today) and the new rows inserted.

Reading (``as_of``): the snapshot for a date D is the latest written business date S <= D (a weekend
reads Friday's, exactly as that sweep saw it); the rows are those that start between the latest
keyframe K <= S and S and are still current at S. DPD = S - oldest unpaid due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from collections_svc.reports.models import LoanSnapshot, SnapshotDay

STATE_COLS = ("status", "oldest_unpaid_due_on", "overdue_amount", "outstanding", "category_rank", "ifrs9_stage",
              "case_stage", "borrower_id", "product", "region", "industry", "team", "assignee_id")


def _p(session: Session, d: dt.date) -> object:
    return d.isoformat() if session.get_bind().dialect.name == "sqlite" else d


def days_sql(dialect: str, later: str, earlier: str) -> str:
    if dialect == "sqlite":
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"(CAST({later} AS date) - {earlier})"


def _differs(dialect: str, a: str, b: str) -> str:
    op = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    return f"({a} {op} {b})"


@dataclass
class SnapshotResult:
    business_date: dt.date
    partition: str
    status: str                  # written | already_written | skipped_out_of_order
    keyframe: bool = False
    loans: int = 0
    rows_written: int = 0


def write_snapshot(session: Session, day: dt.date, partition: tuple[int, int] = (0, 1)) -> SnapshotResult:
    """Write the snapshot of ``day`` for the loans of sweep partition K/N. Only flushes."""
    k, n = int(partition[0]), int(partition[1])
    part = f"{k}/{n}"
    res = SnapshotResult(day, part, "written")
    done = session.scalar(select(SnapshotDay.id).where(SnapshotDay.business_date == day,
                                                       SnapshotDay.partition == part))
    if done is not None:
        res.status = "already_written"
        return res
    later = session.scalar(select(func.max(SnapshotDay.business_date)).where(SnapshotDay.partition == part))
    if later is not None and later > day:
        # Intervals are written forward in time; a date before the latest one cannot be inserted
        # without rewriting history (the catch-up runs dates in order, so this is a manual rerun).
        res.status = "skipped_out_of_order"
        return res
    prev_key = session.scalar(select(func.max(SnapshotDay.business_date)).where(
        SnapshotDay.partition == part, SnapshotDay.keyframe.is_(True), SnapshotDay.business_date < day))
    keyframe = prev_key is None or (prev_key.year, prev_key.month) != (day.year, day.month)
    res.keyframe = keyframe

    conn = session.connection()
    dialect = conn.dialect.name
    pf_l = f" AND l.id % {n} = {k}" if n > 1 else ""
    pf_s = f" AND s.loan_id % {n} = {k}" if n > 1 else ""
    params: dict = {"d": _p(session, day), "k": _p(session, prev_key or day)}
    open_rows = (f"SELECT s.* FROM loan_snapshot s WHERE s.valid_to IS NULL AND s.valid_from >= :k{pf_s}"
                 if prev_key is not None else "SELECT s.* FROM loan_snapshot s WHERE 1 = 0")
    for t in ("rs_open", "rs_cur"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {t}")
    conn.execute(text(f"CREATE TEMPORARY TABLE rs_open AS {open_rows}"), params)
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_rs_open_loan ON rs_open (loan_id)")
    conn.execute(text(f"""
        CREATE TEMPORARY TABLE rs_cur AS
        SELECT l.id AS loan_id,
               CASE l.status WHEN 'active' THEN 0 WHEN 'paid_off' THEN 1 ELSE 2 END AS status,
               CASE WHEN l.status = 'active' THEN l.oldest_unpaid_due_on END AS oldest_unpaid_due_on,
               CASE WHEN l.status = 'active' THEN l.overdue_amount ELSE 0 END AS overdue_amount,
               l.principal - l.principal_paid AS outstanding,
               c.category_rank AS category_rank, c.ifrs9_stage AS ifrs9_stage,
               cs.stage AS case_stage, l.borrower_id AS borrower_id, l.product AS product,
               b.region AS region, b.industry AS industry, cs.team AS team, cs.assignee_id AS assignee_id
        FROM loan l
        JOIN borrower b ON b.id = l.borrower_id
        LEFT JOIN loan_classification c ON c.loan_id = l.id
        LEFT JOIN collection_case cs ON cs.loan_id = l.id AND cs.is_open = :true
        LEFT JOIN rs_open o ON o.loan_id = l.id
        WHERE (l.status = 'active' OR o.status = 0){pf_l}
    """), {**params, "true": True})
    res.loans = conn.execute(text("SELECT COUNT(*) FROM rs_cur WHERE status = 0")).scalar() or 0
    if keyframe:
        changed = "1 = 1"
    else:
        changed = "o.loan_id IS NULL OR " + " OR ".join(_differs(dialect, f"c.{col}", f"o.{col}")
                                                         for col in STATE_COLS)
    conn.exec_driver_sql("DROP TABLE IF EXISTS rs_new")
    conn.execute(text(f"""
        CREATE TEMPORARY TABLE rs_new AS
        SELECT c.* FROM rs_cur c LEFT JOIN rs_open o ON o.loan_id = c.loan_id WHERE {changed}
    """))
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_rs_new_loan ON rs_new (loan_id)")
    if prev_key is not None:
        conn.execute(text(f"""
            UPDATE loan_snapshot SET valid_to = :d
            WHERE valid_to IS NULL AND valid_from >= :k
              AND loan_id IN (SELECT loan_id FROM rs_new){pf_s.replace('s.loan_id', 'loan_id')}
        """), params)
    cols = ", ".join(STATE_COLS)
    res.rows_written = conn.execute(text(f"""
        INSERT INTO loan_snapshot (valid_from, loan_id, valid_to, {cols}, keyframe)
        SELECT :d, loan_id, NULL, {cols}, :kf FROM rs_new
    """), {**params, "kf": keyframe}).rowcount
    for t in ("rs_new", "rs_cur", "rs_open"):
        conn.exec_driver_sql(f"DROP TABLE {t}")
    session.add(SnapshotDay(business_date=day, partition=part, keyframe=keyframe, loans=res.loans,
                            rows_written=res.rows_written))
    session.flush()
    return res


# ---------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class AsOf:
    requested: dt.date
    snapshot_date: dt.date | None     # latest business date <= requested with a snapshot
    keyframe: dt.date | None          # the rows to read start on or after this date

    @property
    def empty(self) -> bool:
        return self.snapshot_date is None


def no_jit(session: Session) -> None:
    """Switch PostgreSQL's JIT off for this transaction: the as-of scans (~10^5 rows) cost more than the
    planner's JIT threshold, and compiling them took 1.6 s of a 1.9 s roll-rate query in the bench
    (the query itself ~0.2 s)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        # The roll-rate GROUP BY over ~10^5 joined rows spilled to disk at the default 4 MB.
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def resolve(session: Session, day: dt.date) -> AsOf:
    no_jit(session)   # every report reads the snapshot through here first
    s = session.scalar(select(func.max(SnapshotDay.business_date)).where(SnapshotDay.business_date <= day))
    if s is None:
        return AsOf(day, None, None)
    # Per partition the latest keyframe <= s; the smallest of them bounds every current row.
    per_part = (select(SnapshotDay.partition, func.max(SnapshotDay.business_date).label("k"))
                .where(SnapshotDay.keyframe.is_(True), SnapshotDay.business_date <= s)
                .group_by(SnapshotDay.partition).subquery())
    k = session.scalar(select(func.min(per_part.c.k)))
    return AsOf(day, s, k or s)


def state_sql(session: Session, at: AsOf, name: str) -> tuple[str, dict]:
    """A subquery (FROM-able text) of every loan's snapshot row current at ``at.snapshot_date``, with
    ``dpd`` derived, and its parameters (suffixed by ``name`` so two can be joined)."""
    dialect = session.get_bind().dialect.name
    s, k = f"s_{name}", f"k_{name}"
    days = days_sql(dialect, ":" + s, "x.oldest_unpaid_due_on")
    dpd = f"CASE WHEN x.oldest_unpaid_due_on IS NULL THEN 0 ELSE {days} END"
    sql = (f"(SELECT x.*, {dpd} AS dpd FROM loan_snapshot x WHERE x.valid_from >= :{k} AND x.valid_from <= :{s} "
           f"AND (x.valid_to IS NULL OR x.valid_to > :{s}))")
    return sql, {s: _p(session, at.snapshot_date), k: _p(session, at.keyframe)}


def snapshot_dates(session: Session, start: dt.date, end: dt.date) -> list[dt.date]:
    return list(session.scalars(select(SnapshotDay.business_date).where(
        SnapshotDay.business_date >= start, SnapshotDay.business_date <= end)
        .group_by(SnapshotDay.business_date).order_by(SnapshotDay.business_date)).all())


__all__ = ["LoanSnapshot", "SnapshotDay", "write_snapshot", "resolve", "state_sql", "AsOf", "SnapshotResult"]
