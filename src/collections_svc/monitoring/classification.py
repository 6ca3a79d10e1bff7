"""The five-category classification engine (五级分类), IFRS 9 stage and EU default flag.

Set-based over the book as of a business date (DESIGN.md rule 6): a handful of SQL statements into
temporary tables, one UPDATE and one INSERT for the loans whose figures changed, one INSERT into the
history for the loans whose category / stage / EU default changed. No per-loan Python.

Each rule yields a minimum category (as a rank 0 normal .. 4 loss) and is named by its RULES.md id:

- CN-CLS-02  dpd >= 1                                   -> special_mention
- CN-CLS-03  dpd > 90                                   -> substandard (collateral does not matter)
- CN-CLS-04  dpd > 270                                  -> doubtful
- CN-CLS-05  dpd > 360                                  -> loss
- CN-RST-03  restructured (in observation)              -> special_mention
- CN-RST-04  restructured again during observation      -> doubtful (restructure_count >= 2 while flagged)
- EW-CLS-01  open early warning of a configured severity -> the configured category (our own rule)
- CN-CLS-06  debtor level: NPL balance strictly more than 10% of the borrower's outstanding balance
             here -> every loan of the borrower at least substandard

Only the DPD tier that binds is recorded (a loan at DPD 361 carries CN-CLS-05, not also 02..04).
The loan gets the most severe minimum, but never better than its current category: the engine never
upgrades on its own (RULES.md convention). An approved ``classification_override`` proposal sets the category
or stage by hand; while it is in force, rule minima at or below what the rules demanded when it was
approved count as rebutted, and anything worse than that still applies.

IFRS 9 (IFRS9-02/03): presumed stage 2 above 30 DPD, stage 3 above 90 DPD; like the category it only
worsens unless an approved override (a rebuttal) says otherwise.

EU default (EU-DOD-01/02, off by default): obligor level; the past-due amount of the borrower must
exceed both the absolute and the relative threshold of its exposure, for more than 90 consecutive
days; then every facility of the borrower is in default. It is cleared only by an override.

CN-CLS-08: when a borrower in a group turns NPL, every other borrower of the group gets a review task
(no automatic downgrade).
"""

# ruff: noqa: S608  -- SQL is assembled only from integers and names taken from validated settings.
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from collections_svc.config import Settings
from collections_svc.monitoring.models import NPL_RANK, RANK
from collections_svc.monitoring.settings import CATEGORIES, SEVERITIES

DPD_RULES = ("CN-CLS-02", "CN-CLS-03", "CN-CLS-04", "CN-CLS-05")


@dataclass
class ClassificationResult:
    business_date: dt.date
    loans_evaluated: int = 0
    new_loans: int = 0
    category_changes: int = 0
    stage_changes: int = 0
    eu_default_changes: int = 0
    group_review_tasks: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_stage: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0


class _Sql:
    """The few spots where SQLite and PostgreSQL spell things differently."""

    def __init__(self, dialect: str):
        self.sqlite = dialect == "sqlite"

    def greatest(self, *args: str) -> str:
        return f"{'MAX' if self.sqlite else 'GREATEST'}({', '.join(args)})"

    def json(self, expr: str) -> str:
        return expr if self.sqlite else f"CAST({expr} AS json)"

    def json_text(self, expr: str) -> str:
        return expr if self.sqlite else f"CAST({expr} AS text)"

    @property
    def jobj(self) -> str:
        return "json_object" if self.sqlite else "json_build_object"

    def days_between(self, later: str, earlier: str) -> str:
        if self.sqlite:
            return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
        return f"(CAST({later} AS date) - CAST({earlier} AS date))"

    def minus_days(self, day: str, n: str) -> str:
        if self.sqlite:
            return f"date({day}, '-' || CAST({n} AS TEXT) || ' days')"
        return f"(CAST({day} AS date) - CAST({n} AS integer))"

    def param_date(self, d: dt.date) -> object:
        return d.isoformat() if self.sqlite else d


def _rank_case(expr: str) -> str:
    return "(CASE " + " ".join(f"WHEN {expr} = {i} THEN '{c}'" for i, c in enumerate(CATEGORIES)) + " END)"


def classify_book(session: Session, business_date: dt.date, settings: Settings) -> ClassificationResult:
    """Classify every active loan of the book as of ``business_date``. Only flushes; the caller commits."""
    return _classify(session, business_date, settings, None)


def classify_loans(
    session: Session, loan_ids: Sequence[int], business_date: dt.date, settings: Settings
) -> ClassificationResult:
    """Classify the given loans as of ``business_date``: all active loans of their borrowers are
    re-evaluated too, because the debtor-level rule (CN-CLS-06) looks at the borrower's whole exposure."""
    return _classify(session, business_date, settings, list(loan_ids))


def _classify(
    session: Session, d: dt.date, settings: Settings, loan_ids: list[int] | None
) -> ClassificationResult:
    started = time.perf_counter()
    session.flush()
    cfg = settings.classification
    conn = session.connection()
    q = _Sql(conn.dialect.name)
    res = ClassificationResult(business_date=d)
    if loan_ids is not None and not loan_ids:
        return res
    params = {"d": q.param_date(d)}
    scope = ""
    if loan_ids is not None:
        ids = ",".join(str(int(i)) for i in loan_ids)
        scope = f" AND l.borrower_id IN (SELECT borrower_id FROM loan WHERE id IN ({ids}))"

    for t in ("mon_ew", "mon_cls", "mon_deb", "mon_new"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {t}")

    # Early-warning floors (EW-CLS-01): the worst floor among the borrower's open warnings.
    floors = {s: RANK[c] for s, c in cfg.warning_floors.items() if s in SEVERITIES}
    if floors:
        sev_case = (
            "CASE " + " ".join(f"WHEN severity = '{s}' THEN {r}" for s, r in floors.items()) + " ELSE 0 END"
        )
        conn.exec_driver_sql(f"""
            CREATE TEMPORARY TABLE mon_ew AS
            SELECT borrower_id, MAX({sev_case}) AS floor FROM early_warning
            WHERE status IN ('open', 'acknowledged') GROUP BY borrower_id
        """)
    else:
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE mon_ew AS SELECT borrower_id, 0 AS floor FROM early_warning WHERE 1 = 0"
        )

    sm, sub, dbt, loss = (
        int(cfg.special_mention_dpd),
        int(cfg.substandard_over_dpd),
        int(cfg.doubtful_over_dpd),
        int(cfg.loss_over_dpd),
    )
    s2, s3 = int(cfg.ifrs9_stage2_over_dpd), int(cfg.ifrs9_stage3_over_dpd)
    active_override = "(c.override_id IS NOT NULL AND (c.override_until IS NULL OR c.override_until >= :d))"
    dpd_case = (
        f"CASE WHEN l.dpd > {loss} THEN 4 WHEN l.dpd > {dbt} THEN 3 WHEN l.dpd > {sub} THEN 2 "
        f"WHEN l.dpd >= {sm} THEN 1 ELSE 0 END"
    )
    rst_case = (
        "CASE WHEN l.restructured AND l.restructure_count >= 2 THEN 3 WHEN l.restructured THEN 1 ELSE 0 END"
    )
    ew_expr = "COALESCE(w.floor, 0)"
    cap_expr = f"CASE WHEN {active_override} THEN COALESCE(c.override_category_cap, 0) ELSE 0 END"
    # The loan-level floor, and the base rank: never better than the current category; loan-level
    # minima above the override cap apply. Computed once per loan here and stored in the temp table.
    lf_expr = q.greatest(dpd_case, rst_case, ew_expr)
    base_expr = q.greatest(
        "COALESCE(c.category_rank, 0)", f"CASE WHEN {lf_expr} > {cap_expr} THEN {lf_expr} ELSE 0 END"
    )
    # Step 1: loan-level minima, the current state and the override caps, one row per active loan.
    conn.execute(
        text(f"""
        CREATE TEMPORARY TABLE mon_cls AS
        SELECT l.id AS loan_id, l.borrower_id AS borrower_id, l.dpd AS dpd,
               l.principal - l.principal_paid AS outstanding, l.overdue_amount AS overdue,
               {dpd_case} AS dpd_floor,
               {rst_case} AS rst_floor,
               l.restructure_count AS restructure_count,
               {ew_expr} AS ew_floor,
               {lf_expr} AS loan_floor,
               {base_expr} AS base_rank,
               CASE WHEN c.loan_id IS NULL THEN 0 ELSE 1 END AS has_state,
               c.category AS prev_category,
               COALESCE(c.category_rank, 0) AS cur_rank,
               COALESCE(c.ifrs9_stage, 0) AS cur_stage,
               CASE WHEN c.eu_default THEN 1 ELSE 0 END AS cur_eu,
               c.eu_breach_since AS breach_since,
               {cap_expr} AS cat_cap,
               CASE WHEN {active_override} THEN COALESCE(c.override_stage_cap, 0) ELSE 0 END AS stage_cap,
               CASE WHEN {active_override} THEN c.override_id END AS override_id,
               CASE WHEN l.dpd > {s3} THEN 3 WHEN l.dpd > {s2} THEN 2 ELSE 1 END AS presumed_stage
        FROM loan l
        LEFT JOIN loan_classification c ON c.loan_id = l.id
        LEFT JOIN mon_ew w ON w.borrower_id = l.borrower_id
        WHERE l.status = 'active'{scope}
    """),
        params,
    )

    def loan_floor(p: str = "") -> str:
        return f"{p}loan_floor"

    def base(p: str = "") -> str:
        return f"{p}base_rank"

    # Step 2: per borrower, the NPL share of its outstanding balance after the loan-level rules
    # (CN-CLS-06, strictly more than the threshold; exact integer arithmetic on cents), and the
    # EU-DOD-02 materiality test at obligor level.
    bp = int((cfg.debtor_npl_share * 1_000_000).to_integral_value())
    eu = cfg.eu_default
    eu_abs = int((eu.materiality_absolute * 100).to_integral_value())
    eu_ppm = int((eu.materiality_relative * 1_000_000).to_integral_value())
    conn.execute(
        text(f"""
        CREATE TEMPORARY TABLE mon_deb AS
        SELECT x.borrower_id AS borrower_id, x.total AS total, x.npl AS npl, x.overdue AS overdue,
               x.max_dpd AS max_dpd, x.breach_since AS breach_since, x.prev_npl AS prev_npl,
               CASE WHEN x.overdue > {eu_abs} AND x.overdue * 1000000 > x.total * {eu_ppm} THEN 1 ELSE 0 END
                   AS eu_breach
        FROM (
            SELECT borrower_id, SUM(outstanding) AS total, SUM(overdue) AS overdue, MAX(dpd) AS max_dpd,
                   SUM(CASE WHEN {base()} >= {NPL_RANK} THEN outstanding ELSE 0 END) AS npl,
                   MAX(CASE WHEN cur_rank >= {NPL_RANK} AND has_state = 1 THEN 1 ELSE 0 END) AS prev_npl,
                   MIN(breach_since) AS breach_since
            FROM mon_cls GROUP BY borrower_id
        ) x
    """),
        params,
    )

    # Step 3: the new state of every loan in scope.
    # CN-CLS-06 acts on the claims that are performing on their own; it is recorded only there.
    # The share counts the other claims as they stand (this one as performing), so a loan held
    # non-performing by the no-upgrade rule does not trigger the debtor rule on itself.
    npl_others = f"(b.npl - CASE WHEN {base('m.')} >= {NPL_RANK} THEN m.outstanding ELSE 0 END)"
    deb_applies = (
        f"({loan_floor('m.')} < {NPL_RANK} AND {npl_others} > 0 AND {npl_others} * 1000000 > b.total * {bp})"
    )
    deb_floor = f"CASE WHEN {deb_applies} AND {NPL_RANK} > m.cat_cap THEN {NPL_RANK} ELSE 0 END"
    deb_floor_uncapped = f"CASE WHEN {deb_applies} THEN {NPL_RANK} ELSE 0 END"
    new_rank = q.greatest(base("m."), deb_floor)
    eff_stage = "CASE WHEN m.presumed_stage > m.stage_cap THEN m.presumed_stage ELSE 1 END"
    if eu.enabled:
        bootstrap = q.minus_days(":d", f"({q.greatest('b.max_dpd', '1')} - 1)")
        breach_since = f"CASE WHEN b.eu_breach = 1 THEN COALESCE(b.breach_since, {bootstrap}) END"
        eu_days = q.days_between(":d", breach_since) + " + 1"
        new_eu = (
            f"CASE WHEN m.cur_eu = 1 OR (b.eu_breach = 1 AND {eu_days} > {int(eu.days)}) THEN 1 ELSE 0 END"
        )
    else:
        breach_since, new_eu = "CAST(NULL AS DATE)", "m.cur_eu"
    dpd_rule = (
        "CASE m.dpd_floor WHEN 4 THEN '\"CN-CLS-05\",' WHEN 3 THEN '\"CN-CLS-04\",' "
        "WHEN 2 THEN '\"CN-CLS-03\",' WHEN 1 THEN '\"CN-CLS-02\",' ELSE '' END"
    )
    rst_rule = "CASE m.rst_floor WHEN 3 THEN '\"CN-RST-04\",' WHEN 1 THEN '\"CN-RST-03\",' ELSE '' END"
    stage_rule = (
        "CASE WHEN m.presumed_stage = 3 THEN '\"IFRS9-03\",' "
        "WHEN m.presumed_stage = 2 THEN '\"IFRS9-02\",' ELSE '' END"
    )
    conn.execute(
        text(f"""
        CREATE TEMPORARY TABLE mon_new AS
        SELECT m.loan_id AS loan_id, m.borrower_id AS borrower_id, m.has_state AS has_state,
               m.prev_category AS prev_category, m.cur_rank AS cur_rank, m.cur_stage AS cur_stage,
               m.cur_eu AS cur_eu, m.override_id AS override_id,
               {new_rank} AS new_rank,
               {q.greatest("m.cur_stage", eff_stage)} AS new_stage,
               {new_eu} AS new_eu,
               {breach_since} AS breach_since,
               {q.greatest("m.dpd_floor", "m.rst_floor", "m.ew_floor", deb_floor_uncapped)} AS floor_rank,
               '[' || rtrim({dpd_rule} || {rst_rule}
                   || CASE WHEN m.ew_floor > 0 THEN '"EW-CLS-01",' ELSE '' END
                   || CASE WHEN {deb_applies} THEN '"CN-CLS-06",' ELSE '' END
                   || {stage_rule}
                   || CASE WHEN {new_eu} = 1 THEN '"EU-DOD-02",' ELSE '' END, ',') || ']' AS rule_ids,
               m.dpd AS dpd, m.outstanding AS outstanding, m.overdue AS overdue,
               m.restructure_count AS restructure_count, m.ew_floor AS ew_floor,
               m.presumed_stage AS presumed_stage,
               b.total AS borrower_outstanding, b.npl AS borrower_npl, b.prev_npl AS borrower_prev_npl
        FROM mon_cls m JOIN mon_deb b ON b.borrower_id = m.borrower_id
    """),
        params,
    )

    def cat(expr: str) -> str:
        return _rank_case(expr)

    share = (
        "CASE WHEN n.borrower_outstanding > 0 THEN "
        "ROUND(CAST(n.borrower_npl AS NUMERIC) * 1.0 / n.borrower_outstanding, 6) END"
    )
    evidence = (
        f"{q.jobj}('dpd', n.dpd, 'outstanding_cents', n.outstanding, 'overdue_cents', n.overdue, "
        f"'borrower_outstanding_cents', n.borrower_outstanding, 'borrower_npl_cents', n.borrower_npl, "
        f"'borrower_npl_share', {share}, 'debtor_npl_threshold', {float(cfg.debtor_npl_share)}, "
        f"'restructure_count', n.restructure_count, 'warning_floor', {cat('n.ew_floor')}, "
        f"'floor_category', {cat('n.floor_rank')}, 'previous_category', n.prev_category, "
        f"'held_worse_than_rules', CASE WHEN n.new_rank > n.floor_rank THEN 1 ELSE 0 END, "
        f"'presumed_ifrs9_stage', n.presumed_stage, 'override_id', n.override_id)"
    )
    changed = (
        "n.has_state = 0 OR n.new_rank <> n.cur_rank OR n.new_stage <> n.cur_stage OR n.new_eu <> n.cur_eu"
    )
    true_false = "CASE WHEN n.new_eu = 1 THEN TRUE ELSE FALSE END"
    # History first (it needs the previous values), only for loans whose outcome changed.
    hist = conn.execute(
        text(f"""
        INSERT INTO classification_history (loan_id, business_date, from_category, to_category, from_stage,
               to_stage, eu_default, rule_ids, evidence, source, override_id, actor, at)
        SELECT n.loan_id, :d, n.prev_category, {cat("n.new_rank")},
               CASE WHEN n.has_state = 1 THEN n.cur_stage END, n.new_stage, {true_false},
               {q.json("n.rule_ids")}, {q.json(evidence)}, 'engine', n.override_id, 'system', :now
        FROM mon_new n WHERE {changed}
    """),
        {**params, "now": _now_param(q)},
    ).rowcount
    updated = conn.execute(
        text(f"""
        UPDATE loan_classification SET
            category = {cat("n.new_rank")}, category_rank = n.new_rank,
            since = CASE WHEN n.new_rank <> n.cur_rank THEN :d ELSE loan_classification.since END,
            ifrs9_stage = n.new_stage,
            ifrs9_since = CASE WHEN n.new_stage <> n.cur_stage THEN :d
                                ELSE loan_classification.ifrs9_since END,
            eu_default = {true_false}, eu_breach_since = n.breach_since,
            floor_rank = n.floor_rank, rule_ids = {q.json("n.rule_ids")}, classified_on = :d,
             updated_at = :now
        FROM mon_new n
        WHERE n.loan_id = loan_classification.loan_id AND n.has_state = 1
          AND (n.new_rank <> n.cur_rank OR n.new_stage <> n.cur_stage OR n.new_eu <> n.cur_eu
               OR n.floor_rank <> loan_classification.floor_rank
               OR {q.json_text("loan_classification.rule_ids")} <> n.rule_ids
               OR COALESCE(loan_classification.eu_breach_since, :d) <> COALESCE(n.breach_since, :d)
               OR (loan_classification.eu_breach_since IS NULL) <> (n.breach_since IS NULL))
    """),
        {**params, "now": _now_param(q)},
    ).rowcount
    inserted = conn.execute(
        text(f"""
        INSERT INTO loan_classification (loan_id, category, category_rank, since, ifrs9_stage, ifrs9_since,
               eu_default, eu_breach_since, floor_rank, rule_ids, classified_on, updated_at)
        SELECT n.loan_id, {cat("n.new_rank")}, n.new_rank, :d, n.new_stage, :d, {true_false}, n.breach_since,
               n.floor_rank, {q.json("n.rule_ids")}, :d, :now
        FROM mon_new n WHERE n.has_state = 0
    """),
        {**params, "now": _now_param(q)},
    ).rowcount
    del hist, updated

    stats = conn.execute(
        text("""
        SELECT COUNT(*),
               SUM(CASE WHEN has_state = 1 AND new_rank <> cur_rank THEN 1 ELSE 0 END),
               SUM(CASE WHEN has_state = 1 AND new_stage <> cur_stage THEN 1 ELSE 0 END),
               SUM(CASE WHEN new_eu <> cur_eu THEN 1 ELSE 0 END)
        FROM mon_new
    """)
    ).one()
    res.loans_evaluated = int(stats[0] or 0)
    res.new_loans = inserted
    res.category_changes, res.stage_changes, res.eu_default_changes = (
        int(stats[1] or 0),
        int(stats[2] or 0),
        int(stats[3] or 0),
    )
    res.by_category = {c: 0 for c in CATEGORIES}
    for rank, n in conn.execute(text("SELECT new_rank, COUNT(*) FROM mon_new GROUP BY new_rank")):
        res.by_category[CATEGORIES[int(rank)]] = int(n)
    res.by_stage = {
        int(s): int(n)
        for s, n in conn.execute(
            text("SELECT new_stage, COUNT(*) FROM mon_new GROUP BY new_stage ORDER BY new_stage")
        )
    }
    res.group_review_tasks = _group_reviews(conn, q, d, settings)

    for t in ("mon_ew", "mon_cls", "mon_deb", "mon_new"):
        conn.exec_driver_sql(f"DROP TABLE {t}")
    session.expire_all()
    res.seconds = round(time.perf_counter() - started, 3)
    return res


def _now_param(q: _Sql) -> object:
    now = dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=None).isoformat(sep=" ") if q.sqlite else now


def _group_reviews(conn, q: _Sql, d: dt.date, settings: Settings) -> int:
    """CN-CLS-08: a borrower that turned NPL today gets each of its group siblings a review task.

    No sibling is downgraded; the relationship manager assesses the effect and proposes an override
    if needed. The dedupe key makes a re-run of the same date harmless.
    """
    due = d + dt.timedelta(days=settings.monitoring.warnings.review_due_days)
    return conn.execute(
        text(f"""
        INSERT INTO review_task (borrower_id, loan_id, kind, due_on, status, assignee_id, rule_id, reason,
               evidence, created_on, dedupe_key, version, created_at, updated_at)
        SELECT s.id, NULL, 'group_npl', :due, 'open', s.relationship_manager_id, 'CN-CLS-08',
               'Group member ' || npl.name || ' turned non-performing; assess the effect on this borrower.',
               {
            q.json(
                f"{q.jobj}('group_id', s.group_id, 'npl_borrower_id', npl.id, 'business_date', "
                f"CAST(:dtext AS TEXT))"
            )
        },
               :d, 'CN-CLS-08:' || CAST(s.id AS TEXT) || ':' || CAST(npl.id AS TEXT)
                   || ':' || CAST(:dtext AS TEXT),
               1, :now, :now
        FROM (
            SELECT n.borrower_id FROM mon_new n
            GROUP BY n.borrower_id
            HAVING MAX(n.new_rank) >= {NPL_RANK} AND MAX(n.borrower_prev_npl) = 0
        ) turned
        JOIN borrower npl ON npl.id = turned.borrower_id AND npl.group_id IS NOT NULL
        JOIN borrower s ON s.group_id = npl.group_id AND s.id <> npl.id
        WHERE NOT EXISTS (SELECT 1 FROM review_task r WHERE r.dedupe_key =
              'CN-CLS-08:' || CAST(s.id AS TEXT) || ':' || CAST(npl.id AS TEXT)
                   || ':' || CAST(:dtext AS TEXT))
    """),
        {"d": q.param_date(d), "due": q.param_date(due), "dtext": d.isoformat(), "now": _now_param(q)},
    ).rowcount


# ---------------------------------------------------------------------------------------------
# Reading: migration matrix between two dates (from the history), per-loan state.


@dataclass(frozen=True)
class MigrationMatrix:
    from_date: dt.date
    to_date: dt.date
    categories: tuple[str, ...]
    counts: dict[str, dict[str, int]]
    balances: dict[str, dict[str, Decimal]]
    rates: dict[str, dict[str, float]]


def migration_matrix(session: Session, from_date: dt.date, to_date: dt.date) -> MigrationMatrix:
    """Loans by category at ``from_date`` (rows) and ``to_date`` (columns), from the history.

    A loan's category at a date is the ``to_category`` of its latest history row on or before it;
    loans not yet classified at ``from_date`` are left out. Balances are today's outstanding
    principal (the history does not keep past balances; period balances come from the reports'
    daily snapshot). Rates are row shares by count (IND-08 style, each row sums to 1).
    """
    q = _Sql(session.get_bind().dialect.name)
    latest = (
        "SELECT loan_id, to_category FROM (SELECT loan_id, to_category, ROW_NUMBER() OVER ("
        "PARTITION BY loan_id ORDER BY business_date DESC, id DESC) AS rn FROM classification_history "
        "WHERE business_date <= {p}) z WHERE rn = 1"
    )
    rows = session.execute(
        text(f"""
        SELECT a.to_category, b.to_category, COUNT(*), SUM(l.principal - l.principal_paid)
        FROM ({latest.format(p=":f")}) a
        JOIN ({latest.format(p=":t")}) b ON b.loan_id = a.loan_id
        JOIN loan l ON l.id = a.loan_id
        GROUP BY a.to_category, b.to_category
    """),
        {"f": q.param_date(from_date), "t": q.param_date(to_date)},
    ).all()
    counts = {c: {c2: 0 for c2 in CATEGORIES} for c in CATEGORIES}
    balances = {c: {c2: Decimal("0.00") for c2 in CATEGORIES} for c in CATEGORIES}
    for f, t, n, bal in rows:
        counts[f][t] = int(n)
        balances[f][t] = (Decimal(int(bal or 0)) / 100).quantize(Decimal("0.01"))
    rates = {}
    for c in CATEGORIES:
        total = sum(counts[c].values())
        rates[c] = {c2: (counts[c][c2] / total if total else 0.0) for c2 in CATEGORIES}
    return MigrationMatrix(from_date, to_date, CATEGORIES, counts, balances, rates)
