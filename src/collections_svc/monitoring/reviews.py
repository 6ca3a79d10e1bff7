"""Post-loan reviews (贷后检查): plans, due tasks, overdue flags and review reports.

Review plans are settings per product (``"*"`` = default) with a cadence per classification
(CN-PLM-02 gives no numeric frequency, so this is bank policy; CN-PLM-06 names the check types):

- ``first_check``: the first check after disbursement, due ``first_check_days`` after it (per loan);
- ``routine``: every ``routine_months`` per category, per borrower, counted from the last review
  report of the borrower (or its first disbursement); the worst category and the strictest product
  plan of its active loans decide the cadence, so worse loans are checked more often;
- ``pre_maturity``: the repayment-source check ``pre_maturity_days`` before maturity (per loan);
- ``info_update``: the borrower's latest financial statement is older than ``statements_max_age_days``,
  or its contacts were last updated more than ``contacts_max_age_days`` ago.

``generate_due_reviews`` is set-based and idempotent (dedupe keys in the schema); tasks go to the
borrower's relationship manager. ``flag_overdue_reviews`` flags open tasks past their due date and
names a supervisor of the manager's team.
"""

# ruff: noqa: S608  -- SQL is assembled only from integers and names taken from validated settings.
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from collections_svc.audit.service import record
from collections_svc.auth.service import Actor
from collections_svc.config import Settings
from collections_svc.errors import Conflict, NotFound, ValidationFailed
from collections_svc.loans.models import Borrower, Loan
from collections_svc.monitoring.models import ReviewReport, ReviewTask
from collections_svc.monitoring.settings import CATEGORIES, ReviewPlan

LEAD_DAYS = 7  # a task appears this many days before its due date


@dataclass
class ReviewRunResult:
    business_date: dt.date
    first_check: int = 0
    routine: int = 0
    pre_maturity: int = 0
    info_update: int = 0
    overdue_flagged: int = 0


def _plan_case(plans: list[ReviewPlan], value) -> str:
    """A CASE over ``l.product`` choosing a plan's value; the ``*`` plan is the default."""
    default = next((p for p in plans if p.product == "*"), ReviewPlan())
    parts = [
        f"WHEN l.product = '{p.product}' THEN {int(value(p))}"
        for p in plans
        if p.product != "*" and p.product.replace("_", "").isalnum()
    ]
    return f"(CASE {' '.join(parts)} ELSE {int(value(default))} END)" if parts else str(int(value(default)))


def generate_due_reviews(session: Session, business_date: dt.date, settings: Settings) -> ReviewRunResult:
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    plans = settings.monitoring.review_plans
    res = ReviewRunResult(business_date)
    horizon = business_date + dt.timedelta(days=LEAD_DAYS)
    p = {
        "d": business_date.isoformat() if sqlite else business_date,
        "h": horizon.isoformat() if sqlite else horizon,
        "now": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
        if sqlite
        else dt.datetime.now(dt.UTC),
    }

    def plus_days(col: str, n: str) -> str:
        return (
            f"date({col}, '+' || CAST({n} AS TEXT) || ' days')" if sqlite else f"(CAST({col} AS date) + {n})"
        )

    def minus_days(col: str, n: str) -> str:
        return (
            f"date({col}, '-' || CAST({n} AS TEXT) || ' days')" if sqlite else f"(CAST({col} AS date) - {n})"
        )

    def plus_months(col: str, n: str) -> str:
        return (
            f"date({col}, '+' || CAST({n} AS TEXT) || ' months')"
            if sqlite
            else f"CAST(CAST({col} AS date) + make_interval(months => {n}) AS date)"
        )

    def insert(kind: str, select_sql: str) -> int:
        return conn.execute(
            text(f"""
            INSERT INTO review_task (borrower_id, loan_id, kind, due_on, status, assignee_id, rule_id, reason,
                   created_on, dedupe_key, version, created_at, updated_at)
            SELECT x.borrower_id, x.loan_id, '{kind}', x.due_on, 'open', b.relationship_manager_id,
                   'CN-PLM-06',
                   x.reason, :d, x.dedupe_key, 1, :now, :now
            FROM ({select_sql}) x JOIN borrower b ON b.id = x.borrower_id
            WHERE x.due_on <= :h
              AND NOT EXISTS (SELECT 1 FROM review_task t WHERE t.dedupe_key = x.dedupe_key)
        """),
            p,
        ).rowcount

    first_days = _plan_case(plans, lambda pl: pl.first_check_days)
    res.first_check = insert(
        "first_check",
        f"""
        SELECT l.borrower_id AS borrower_id, l.id AS loan_id,
               {plus_days("l.disbursed_on", first_days)} AS due_on,
               'First check after disbursement of loan ' || l.contract_no AS reason,
               'first_check:' || CAST(l.id AS TEXT) AS dedupe_key
        FROM loan l WHERE l.status = 'active'
    """,
    )
    pre_days = _plan_case(plans, lambda pl: pl.pre_maturity_days)
    res.pre_maturity = insert(
        "pre_maturity",
        f"""
        SELECT l.borrower_id AS borrower_id, l.id AS loan_id,
               {minus_days("l.maturity_on", pre_days)} AS due_on,
               'Repayment-source check before maturity of loan ' || l.contract_no AS reason,
               'pre_maturity:' || CAST(l.id AS TEXT) AS dedupe_key
        FROM loan l WHERE l.status = 'active' AND l.maturity_on > :d
    """,
    )
    # Routine: months per (product, category) for each loan, the smallest per borrower.
    month_case = (
        "(CASE "
        + " ".join(
            f"WHEN COALESCE(c.category, 'normal') = '{cat}' THEN "
            f"{_plan_case(plans, lambda pl, cat=cat: pl.routine_months.get(cat, 12))}"
            for cat in CATEGORIES
        )
        + " ELSE 12 END)"
    )
    res.routine = insert(
        "routine",
        f"""
        SELECT r.borrower_id AS borrower_id, CAST(NULL AS INTEGER) AS loan_id,
               {plus_months("r.last_on", "r.months")} AS due_on,
               'Routine post-loan check' AS reason,
               'routine:' || CAST(r.borrower_id AS TEXT) || ':'
                   || CAST({plus_months("r.last_on", "r.months")} AS TEXT)
                   AS dedupe_key
        FROM (
            SELECT l.borrower_id AS borrower_id, MIN({month_case}) AS months,
                   COALESCE((SELECT MAX(rr.review_date) FROM review_report rr
                             WHERE rr.borrower_id = l.borrower_id),
                            MIN(l.disbursed_on)) AS last_on
            FROM loan l LEFT JOIN loan_classification c ON c.loan_id = l.id
            WHERE l.status = 'active' GROUP BY l.borrower_id
        ) r
        WHERE NOT EXISTS (SELECT 1 FROM review_task t
                          WHERE t.borrower_id = r.borrower_id AND t.kind = 'routine'
                          AND t.status = 'open')
    """,
    )
    max_age = int(settings.monitoring.statements_max_age_days)
    res.info_update = insert(
        "info_update",
        f"""
        SELECT s.borrower_id AS borrower_id, CAST(NULL AS INTEGER) AS loan_id, :d AS due_on,
               'Financial statements are out of date; obtain the latest ones' AS reason,
               'info_update:' || CAST(s.borrower_id AS TEXT) || ':'
                   || COALESCE(CAST(s.latest AS TEXT), 'none')
                   AS dedupe_key
        FROM (
            SELECT l.borrower_id AS borrower_id, MIN(l.disbursed_on) AS first_on,
                   (SELECT MAX(f.period_end) FROM financial_statement f
                    WHERE f.borrower_id = l.borrower_id) AS latest
            FROM loan l WHERE l.status = 'active' GROUP BY l.borrower_id
        ) s
        WHERE COALESCE(s.latest, s.first_on) < {minus_days(":d", str(max_age))}
    """,
    )
    contact_age = int(settings.monitoring.contacts_max_age_days)
    latest_contact = "date(MAX(c.updated_at))" if sqlite else "CAST(MAX(c.updated_at) AS date)"
    res.info_update += insert(
        "info_update",
        f"""
        SELECT s.borrower_id AS borrower_id, CAST(NULL AS INTEGER) AS loan_id, :d AS due_on,
               'Contact details are out of date; confirm the borrower''s contacts' AS reason,
               'contacts:' || CAST(s.borrower_id AS TEXT) || ':' || COALESCE(CAST(s.latest AS TEXT), 'none')
                   AS dedupe_key
        FROM (
            SELECT l.borrower_id AS borrower_id, MIN(l.disbursed_on) AS first_on,
                   (SELECT {latest_contact} FROM contact c WHERE c.borrower_id = l.borrower_id) AS latest
            FROM loan l WHERE l.status = 'active' GROUP BY l.borrower_id
        ) s
        WHERE COALESCE(s.latest, s.first_on) < {minus_days(":d", str(contact_age))}
    """,
    )
    res.overdue_flagged = flag_overdue_reviews(session, business_date, settings)
    session.expire_all()
    return res


def flag_overdue_reviews(session: Session, business_date: dt.date, settings: Settings) -> int:
    """Flag open review tasks past due (plus grace) once, naming a supervisor of the assignee's team."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    cutoff = business_date - dt.timedelta(days=settings.monitoring.overdue_grace_days)
    return conn.execute(
        text("""
        UPDATE review_task SET overdue_flagged_on = :d,
               escalated_to_id = (SELECT MIN(s.id) FROM app_user s JOIN app_user a ON a.team = s.team
                                  WHERE a.id = review_task.assignee_id AND s.role = 'supervisor'
                                    AND s.active),
               version = version + 1
        WHERE status = 'open' AND due_on < :cutoff AND overdue_flagged_on IS NULL
    """),
        {
            "d": business_date.isoformat() if sqlite else business_date,
            "cutoff": cutoff.isoformat() if sqlite else cutoff,
        },
    ).rowcount


def submit_report(
    session: Session,
    actor: Actor,
    *,
    borrower_id: int,
    review_type: str,
    review_date: dt.date,
    on_site: bool,
    findings: dict,
    conclusion: str,
    recommended_category: str | None,
    task_id: int | None = None,
    loan_id: int | None = None,
    attachments: list | None = None,
    business_date: dt.date,
    settings: Settings | None = None,
) -> ReviewReport:
    """File a review report and complete its task. When the author may propose classification
    changes and recommends a category other than the loan's current one, a classification override
    proposal is submitted for a second person's approval (a blocked upgrade is noted, not fatal)."""
    if session.get(Borrower, borrower_id) is None:
        raise NotFound(f"Borrower {borrower_id} does not exist.")
    if loan_id is not None:
        loan = session.get(Loan, loan_id)
        if loan is None or loan.borrower_id != borrower_id:
            raise ValidationFailed(
                "The loan does not belong to this borrower.",
                errors=[{"field": "loan_id", "message": "not a loan of the borrower"}],
            )
    if review_date > business_date:
        raise ValidationFailed(
            "The review date is in the future.",
            errors=[{"field": "review_date", "message": f"after {business_date}"}],
        )
    task = None
    if task_id is not None:
        task = session.get(ReviewTask, task_id)
        if task is None or task.borrower_id != borrower_id:
            raise ValidationFailed(
                "The review task does not belong to this borrower.",
                errors=[{"field": "task_id", "message": "not a task of the borrower"}],
            )
        if task.status != "open":
            raise Conflict(f"Review task {task_id} is already {task.status}.")
    rep = ReviewReport(
        task_id=task_id,
        borrower_id=borrower_id,
        loan_id=loan_id or (task.loan_id if task else None),
        review_type=review_type,
        review_date=review_date,
        on_site=on_site,
        findings=findings,
        conclusion=conclusion,
        recommended_category=recommended_category,
        attachments=attachments or [],
        author=actor.username,
        author_id=actor.id,
    )
    session.add(rep)
    if task is not None:
        task.status, task.completed_on = "done", review_date
    session.flush()
    record(
        session,
        actor,
        "review.report",
        "borrower",
        borrower_id,
        after={
            "report_id": rep.id,
            "task_id": task_id,
            "type": review_type,
            "on_site": on_site,
            "recommended_category": recommended_category,
        },
    )
    if settings is not None and recommended_category and rep.loan_id is not None:
        _propose_from_report(session, settings, actor, rep, business_date)
    return rep


def _propose_from_report(
    session: Session, settings: Settings, actor: Actor, rep: ReviewReport, on: dt.date
) -> None:
    from collections_svc.errors import DomainError
    from collections_svc.monitoring import overrides
    from collections_svc.monitoring.models import LoanClassification

    if actor.role not in overrides.MAKERS:
        rep.override_note = "Recommendation recorded; a risk officer must propose the classification change."
        return
    state = session.get(LoanClassification, rep.loan_id)
    if state is not None and state.category == rep.recommended_category:
        return
    try:
        o = overrides.propose(
            session,
            settings,
            actor,
            loan_id=rep.loan_id,
            business_date=on,
            target_category=rep.recommended_category,
            reason=f"Review report {rep.id} ({rep.review_type}, {rep.review_date}): {rep.conclusion}"[:2000],
            evidence={"review_report_id": rep.id},
        )
        rep.override_id = o.id
    except DomainError as e:
        rep.override_note = e.detail
    session.flush()


def due_reviews(
    session: Session,
    business_date: dt.date,
    *,
    assignee_id: int | None = None,
    overdue_only: bool = False,
    limit: int = 500,
) -> list[ReviewTask]:
    stmt = select(ReviewTask).where(ReviewTask.status == "open")
    if assignee_id is not None:
        stmt = stmt.where(ReviewTask.assignee_id == assignee_id)
    if overdue_only:
        stmt = stmt.where(ReviewTask.due_on < business_date)
    return list(session.scalars(stmt.order_by(ReviewTask.due_on, ReviewTask.id).limit(limit)))
