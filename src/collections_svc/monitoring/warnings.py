"""Financial statements, ratios and early warnings (风险预警), the watchlist.

Warning rules are data (``settings.monitoring.warnings``): a threshold per ratio (an industry-specific
rule replaces the general one for that ratio), deterioration between consecutive statements, DPD
events, and non-financial signals recorded by staff. Each warning has a severity, evidence, an owner
(the relationship manager) and a status. A new warning at or above ``review_task_from`` creates an
ad-hoc review task; at or above ``watchlist_from`` it puts the borrower on the watchlist.

Rule ids stored with warnings: EW-RATIO-<ratio>, EW-DET-revenue / EW-DET-profit, EW-DPD-<n>,
EW-SIG-<signal>. Re-evaluating the same statement, DPD episode or signal is harmless (dedupe keys).
"""

# ruff: noqa: S608  -- SQL is assembled only from integers and names taken from validated settings.
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from collections_svc.audit.service import record
from collections_svc.auth.service import Actor
from collections_svc.config import Settings
from collections_svc.db import utcnow
from collections_svc.errors import NotFound, ValidationFailed
from collections_svc.loans.models import Borrower
from collections_svc.monitoring.models import EarlyWarning, FinancialStatement, ReviewTask, WatchlistEntry
from collections_svc.monitoring.settings import RATIOS, SEVERITIES, SIGNALS, WarningRules

AMOUNT_FIELDS = (
    "total_assets",
    "total_liabilities",
    "current_assets",
    "current_liabilities",
    "inventory",
    "cash",
    "revenue",
    "operating_profit",
    "net_profit",
    "interest_expense",
    "operating_cash_flow",
)
# The documented CSV layout (UTF-8, header row required, amounts in yuan with up to 2 decimals).
CSV_COLUMNS = ("borrower_external_id", "period_end", "period_type", *AMOUNT_FIELDS)
PERIOD_TYPES = ("annual", "semiannual", "quarterly", "monthly")
Q4 = Decimal("0.0001")


def sev_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def _div(a: Decimal, b: Decimal) -> Decimal | None:
    if b == 0:
        return None
    return (a / b).quantize(Q4, rounding=ROUND_HALF_UP)


def compute_ratios(s: FinancialStatement, prev: FinancialStatement | None) -> dict[str, Decimal | None]:
    """The seven ratios of one statement; growth needs the previous statement of the same period type."""
    out: dict[str, Decimal | None] = {
        "debt_to_asset": _div(s.total_liabilities, s.total_assets),  # 资产负债率
        "current_ratio": _div(s.current_assets, s.current_liabilities),  # 流动比率
        "quick_ratio": _div(s.current_assets - s.inventory, s.current_liabilities),  # 速动比率
        "interest_coverage": _div(s.operating_profit, s.interest_expense),  # EBIT / interest
        "revenue_growth": None,
        "profit_growth": None,
        "ocf_to_current_liabilities": _div(s.operating_cash_flow, s.current_liabilities),
    }
    if prev is not None:
        out["revenue_growth"] = _div(s.revenue - prev.revenue, prev.revenue)
        out["profit_growth"] = _div(s.net_profit - prev.net_profit, abs(prev.net_profit))
    return out


def previous_statement(session: Session, s: FinancialStatement) -> FinancialStatement | None:
    return session.scalar(
        select(FinancialStatement)
        .where(
            FinancialStatement.borrower_id == s.borrower_id,
            FinancialStatement.period_type == s.period_type,
            FinancialStatement.period_end < s.period_end,
        )
        .order_by(FinancialStatement.period_end.desc())
        .limit(1)
    )


def _borrower(session: Session, borrower_id: int) -> Borrower:
    b = session.get(Borrower, borrower_id)
    if b is None:
        raise NotFound(f"Borrower {borrower_id} does not exist.")
    return b


def raise_warning(
    session: Session,
    settings: Settings,
    actor: Actor,
    borrower: Borrower,
    *,
    kind: str,
    code: str,
    rule_id: str,
    severity: str,
    evidence: dict,
    business_date: dt.date,
    dedupe_key: str,
    loan_id: int | None = None,
) -> tuple[EarlyWarning, bool]:
    """Create a warning (or return the one with the same dedupe key) and take its configured actions."""
    existing = session.scalar(select(EarlyWarning).where(EarlyWarning.dedupe_key == dedupe_key))
    if existing is not None:
        return existing, False
    w = EarlyWarning(
        borrower_id=borrower.id,
        loan_id=loan_id,
        kind=kind,
        code=code,
        rule_id=rule_id,
        severity=severity,
        status="open",
        evidence=evidence,
        owner_id=borrower.relationship_manager_id,
        raised_on=business_date,
        dedupe_key=dedupe_key,
    )
    session.add(w)
    session.flush()
    record(
        session,
        actor,
        "warning.raise",
        "borrower",
        borrower.id,
        after={"warning_id": w.id, "code": code, "severity": severity, "rule_id": rule_id},
    )
    rules = settings.monitoring.warnings
    if sev_rank(severity) >= sev_rank(rules.review_task_from):
        session.add(
            ReviewTask(
                borrower_id=borrower.id,
                loan_id=loan_id,
                kind="ad_hoc",
                due_on=business_date + dt.timedelta(days=rules.review_due_days),
                status="open",
                assignee_id=borrower.relationship_manager_id,
                rule_id=rule_id,
                reason=f"Early warning {code} ({severity}): check the borrower and report.",
                evidence={"warning_id": w.id, **evidence},
                created_on=business_date,
                dedupe_key=f"warning:{w.id}",
            )
        )
    if sev_rank(severity) >= sev_rank(rules.watchlist_from):
        add_to_watchlist(
            session, actor, borrower.id, f"Warning {code} ({severity})", business_date, warning_id=w.id
        )
    session.flush()
    return w, True


def add_to_watchlist(
    session: Session, actor: Actor, borrower_id: int, reason: str, on: dt.date, warning_id: int | None = None
) -> WatchlistEntry:
    entry = session.scalar(
        select(WatchlistEntry).where(
            WatchlistEntry.borrower_id == borrower_id, WatchlistEntry.removed_on.is_(None)
        )
    )
    if entry is not None:
        return entry
    entry = WatchlistEntry(
        borrower_id=borrower_id, added_on=on, reason=reason, warning_id=warning_id, added_by=actor.username
    )
    session.add(entry)
    session.flush()
    record(
        session,
        actor,
        "watchlist.add",
        "borrower",
        borrower_id,
        after={"reason": reason, "warning_id": warning_id},
    )
    return entry


def remove_from_watchlist(
    session: Session, actor: Actor, borrower_id: int, on: dt.date, reason: str
) -> WatchlistEntry:
    entry = session.scalar(
        select(WatchlistEntry).where(
            WatchlistEntry.borrower_id == borrower_id, WatchlistEntry.removed_on.is_(None)
        )
    )
    if entry is None:
        raise NotFound(f"Borrower {borrower_id} is not on the watchlist.")
    entry.removed_on = on
    session.flush()
    record(session, actor, "watchlist.remove", "borrower", borrower_id, after={"reason": reason})
    return entry


def _ratio_rules(rules: WarningRules, industry: str | None) -> list:
    out = []
    for ratio in RATIOS:
        specific = [r for r in rules.ratios if r.ratio == ratio and industry and r.industry == industry]
        out.extend(specific or [r for r in rules.ratios if r.ratio == ratio and r.industry is None])
    return out


def evaluate_statement(
    session: Session, settings: Settings, actor: Actor, s: FinancialStatement, business_date: dt.date
) -> list[EarlyWarning]:
    """Apply the ratio thresholds and the deterioration rules to one statement; return new warnings."""
    borrower = _borrower(session, s.borrower_id)
    prev = previous_statement(session, s)
    ratios = compute_ratios(s, prev)
    rules = settings.monitoring.warnings
    period = {"period_end": s.period_end.isoformat(), "period_type": s.period_type, "statement_id": s.id}
    created: list[EarlyWarning] = []
    for rule in _ratio_rules(rules, borrower.industry):
        value = ratios[rule.ratio]
        if value is None:
            continue
        breached = (rule.max is not None and value > rule.max) or (rule.min is not None and value < rule.min)
        if not breached:
            continue
        threshold = rule.max if rule.max is not None else rule.min
        w, new = raise_warning(
            session,
            settings,
            actor,
            borrower,
            kind="ratio",
            code=rule.ratio,
            rule_id=f"EW-RATIO-{rule.ratio}",
            severity=rule.severity,
            business_date=business_date,
            evidence={
                "ratio": rule.ratio,
                "value": str(value),
                "threshold": str(threshold),
                "direction": "above" if rule.max is not None else "below",
                "industry": rule.industry,
                **period,
            },
            dedupe_key=f"ratio:{s.borrower_id}:{rule.ratio}:{s.period_type}:{s.period_end.isoformat()}",
        )
        if new:
            created.append(w)
    for metric, drop, severity in (
        ("revenue", rules.revenue_drop, rules.revenue_drop_severity),
        ("profit", rules.profit_drop, rules.profit_drop_severity),
    ):
        growth = ratios[f"{metric}_growth"]
        if growth is None or growth >= -drop:
            continue
        w, new = raise_warning(
            session,
            settings,
            actor,
            borrower,
            kind="deterioration",
            code=f"{metric}_drop",
            rule_id=f"EW-DET-{metric}",
            severity=severity,
            business_date=business_date,
            evidence={
                "ratio": f"{metric}_growth",
                "value": str(growth),
                "threshold": str(-drop),
                "previous_period_end": prev.period_end.isoformat() if prev else None,
                **period,
            },
            dedupe_key=f"det:{s.borrower_id}:{metric}:{s.period_type}:{s.period_end.isoformat()}",
        )
        if new:
            created.append(w)
    return created


def submit_statement(
    session: Session,
    settings: Settings,
    actor: Actor,
    borrower_id: int,
    values: dict,
    business_date: dt.date,
    source: str = "api",
) -> tuple[FinancialStatement, list[EarlyWarning]]:
    """Store (or correct) one period's statement and evaluate the warning rules on it."""
    _borrower(session, borrower_id)
    s = session.scalar(
        select(FinancialStatement).where(
            FinancialStatement.borrower_id == borrower_id,
            FinancialStatement.period_type == values["period_type"],
            FinancialStatement.period_end == values["period_end"],
        )
    )
    if s is None:
        s = FinancialStatement(borrower_id=borrower_id, source=source, received_on=business_date, **values)
        session.add(s)
        action = "statement.create"
    else:
        for k, v in values.items():
            setattr(s, k, v)
        s.source, s.received_on = source, business_date
        action = "statement.update"
    session.flush()
    record(
        session,
        actor,
        action,
        "borrower",
        borrower_id,
        after={"statement_id": s.id, "period_end": str(s.period_end), "period_type": s.period_type},
    )
    return s, evaluate_statement(session, settings, actor, s, business_date)


def parse_statements_csv(data: bytes) -> list[tuple[int, str, dict]]:
    """Parse the documented CSV layout; all-or-nothing: raise ``ValidationFailed`` with row errors."""
    try:
        textdata = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(textdata))
    return _parse_rows(reader.fieldnames or [], reader)


def parse_statements_xlsx(data: bytes) -> list[tuple[int, str, dict]]:
    """The same layout as the CSV, on the first sheet of an XLSX workbook (header in row 1)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several types for a file that is not a workbook
        raise ValidationFailed("The file is not a readable XLSX workbook.") from None
    rows = wb.worksheets[0].iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]

    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, dt.datetime):
            return v.date().isoformat()
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, float):
            return str(Decimal(repr(v)))
        return str(v)

    dicts = (
        {h: cell(v) for h, v in zip(header, r, strict=False)} for r in rows if any(v is not None for v in r)
    )
    return _parse_rows(header, dicts)


def _parse_rows(fieldnames, rows) -> list[tuple[int, str, dict]]:
    from pydantic import ValidationError

    from collections_svc.monitoring.schemas import StatementIn

    missing = [c for c in CSV_COLUMNS if c not in fieldnames]
    if missing:
        raise ValidationFailed(
            f"The header is missing columns: {', '.join(missing)}.",
            errors=[{"field": c, "message": "missing column"} for c in missing],
        )
    out, errors = [], []
    for n, row in enumerate(rows, start=2):
        values: dict = {}
        row_errors = []
        try:
            values["period_end"] = dt.date.fromisoformat((row.get("period_end") or "").strip())
        except ValueError:
            row_errors.append({"row": n, "field": "period_end", "message": "not a date (YYYY-MM-DD)"})
        pt = (row.get("period_type") or "").strip()
        if pt not in PERIOD_TYPES:
            row_errors.append(
                {"row": n, "field": "period_type", "message": f"one of {', '.join(PERIOD_TYPES)}"}
            )
        values["period_type"] = pt
        for f in AMOUNT_FIELDS:
            try:
                v = Decimal((row.get(f) or "").strip().replace(",", ""))
                if not v.is_finite() or v != v.quantize(Decimal("0.01")):
                    raise InvalidOperation
                values[f] = v
            except (InvalidOperation, ValueError):
                row_errors.append({"row": n, "field": f, "message": "not an amount with at most 2 decimals"})
        if not row_errors:
            # The same rules as the API (non-negative balances, current assets within total assets...).
            try:
                values = StatementIn.model_validate(values).model_dump()
            except ValidationError as e:
                row_errors.extend(
                    {"row": n, "field": ".".join(str(x) for x in err["loc"]) or "row", "message": err["msg"]}
                    for err in e.errors()
                )
        errors.extend(row_errors)
        out.append((n, (row.get("borrower_external_id") or "").strip(), values))
    if errors:
        raise ValidationFailed(f"{len(errors)} problem(s) in the file; nothing was imported.", errors=errors)
    return out


def import_statements_csv(
    session: Session, settings: Settings, actor: Actor, data: bytes, business_date: dt.date, fmt: str = "csv"
) -> tuple[int, int]:
    """Import statements from the documented layout (``fmt`` csv or xlsx); all-or-nothing."""
    rows = parse_statements_xlsx(data) if fmt == "xlsx" else parse_statements_csv(data)
    ids = {r[1] for r in rows}
    borrowers = {
        b.external_id: b for b in session.scalars(select(Borrower).where(Borrower.external_id.in_(ids)))
    }
    unknown = [
        {"row": n, "field": "borrower_external_id", "message": f"unknown borrower {ext}"}
        for n, ext, _ in rows
        if ext not in borrowers
    ]
    if unknown:
        raise ValidationFailed(
            f"{len(unknown)} row(s) name unknown borrowers; nothing was imported.", errors=unknown
        )
    warnings = 0
    for _, ext, values in sorted(rows, key=lambda r: (r[1], r[2]["period_end"])):
        _, created = submit_statement(session, settings, actor, borrowers[ext].id, values, business_date, fmt)
        warnings += len(created)
    return len(rows), warnings


def record_signal(
    session: Session,
    settings: Settings,
    actor: Actor,
    borrower_id: int,
    *,
    signal: str,
    observed_on: dt.date,
    note: str,
    business_date: dt.date,
    severity: str | None = None,
) -> tuple[EarlyWarning, bool]:
    """A non-financial warning signal recorded by staff (litigation, management change, ...)."""
    if signal not in SIGNALS:
        raise ValidationFailed(
            f"Unknown signal {signal!r}.",
            errors=[{"field": "signal", "message": f"one of {', '.join(SIGNALS)}"}],
        )
    borrower = _borrower(session, borrower_id)
    sev = severity or settings.monitoring.warnings.signals.get(signal, "medium")
    return raise_warning(
        session,
        settings,
        actor,
        borrower,
        kind="signal",
        code=signal,
        rule_id=f"EW-SIG-{signal}",
        severity=sev,
        business_date=business_date,
        evidence={
            "signal": signal,
            "observed_on": observed_on.isoformat(),
            "note": note,
            "recorded_by": actor.username,
        },
        dedupe_key=f"signal:{borrower_id}:{signal}:{observed_on.isoformat()}",
    )


def set_status(
    session: Session,
    actor: Actor,
    warning_id: int,
    *,
    status: str,
    version: int,
    note: str | None,
    business_date: dt.date,
) -> EarlyWarning:
    from collections_svc.errors import StaleVersion

    w = session.get(EarlyWarning, warning_id)
    if w is None:
        raise NotFound(f"Warning {warning_id} does not exist.")
    if w.version != version:
        raise StaleVersion(
            "This warning was changed by someone else. Reload and try again.", current_version=w.version
        )
    before = {"status": w.status}
    w.status = status
    w.closed_on = business_date if status == "closed" else None
    if note:
        w.note = note
    w.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "warning.status",
        "warning",
        w.id,
        before=before,
        after={"status": status, "note": note},
    )
    return w


def raise_dpd_warnings(session: Session, business_date: dt.date, settings: Settings) -> int:
    """Set-based: one warning per loan, DPD threshold and delinquency episode, plus their actions."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    d = business_date.isoformat() if sqlite else business_date
    now = utcnow().replace(tzinfo=None).isoformat(sep=" ") if sqlite else utcnow()
    rules = settings.monitoring.warnings
    jobj = "json_object" if sqlite else "json_build_object"
    js = (lambda e: e) if sqlite else (lambda e: f"CAST({e} AS json)")  # noqa: E731
    created = 0
    for r in rules.dpd:
        key = f"'dpd:' || CAST(l.id AS TEXT) || ':{int(r.min_dpd)}:' || CAST(l.oldest_unpaid_due_on AS TEXT)"
        created += conn.execute(
            text(f"""
            INSERT INTO early_warning (borrower_id, loan_id, kind, code, rule_id, severity, status, evidence,
                   owner_id, raised_on, dedupe_key, version, created_at, updated_at)
            SELECT l.borrower_id, l.id, 'dpd', 'dpd_{int(r.min_dpd)}', 'EW-DPD-{int(r.min_dpd)}', '{
                r.severity
            }',
                   'open', {
                js(
                    f"{jobj}('dpd', l.dpd, 'threshold', {int(r.min_dpd)}, 'overdue_cents', "
                    "l.overdue_amount, 'oldest_unpaid_due_on', CAST(l.oldest_unpaid_due_on AS TEXT))"
                )
            },
                   b.relationship_manager_id, :d, {key}, 1, :now, :now
            FROM loan l JOIN borrower b ON b.id = l.borrower_id
            WHERE l.status = 'active' AND l.dpd >= {int(r.min_dpd)} AND l.oldest_unpaid_due_on IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM early_warning w WHERE w.dedupe_key = {key})
        """),
            {"d": d, "now": now},
        ).rowcount
    due = business_date + dt.timedelta(days=rules.review_due_days)
    task_sev = ", ".join(f"'{s}'" for s in SEVERITIES if sev_rank(s) >= sev_rank(rules.review_task_from))
    watch_sev = ", ".join(f"'{s}'" for s in SEVERITIES if sev_rank(s) >= sev_rank(rules.watchlist_from))
    conn.execute(
        text(f"""
        INSERT INTO review_task (borrower_id, loan_id, kind, due_on, status, assignee_id, rule_id, reason,
               evidence,
               created_on, dedupe_key, version, created_at, updated_at)
        SELECT w.borrower_id, w.loan_id, 'ad_hoc', :due, 'open', w.owner_id, w.rule_id,
               'Early warning ' || w.code || ' (' || w.severity || '): check the borrower and report.',
               {js(f"{jobj}('warning_id', w.id)")}, :d, 'warning:' || CAST(w.id AS TEXT), 1, :now, :now
        FROM early_warning w
        WHERE w.kind = 'dpd' AND w.raised_on = :d AND w.severity IN ({task_sev})
          AND NOT EXISTS (SELECT 1 FROM review_task t WHERE t.dedupe_key = 'warning:' || CAST(w.id AS TEXT))
    """),
        {"d": d, "due": due.isoformat() if sqlite else due, "now": now},
    )
    conn.execute(
        text(f"""
        INSERT INTO watchlist_entry (borrower_id, added_on, reason, warning_id, added_by)
        SELECT w.borrower_id, :d, 'DPD warning', MIN(w.id), 'system'
        FROM early_warning w
        WHERE w.kind = 'dpd' AND w.raised_on = :d AND w.severity IN ({watch_sev})
          AND NOT EXISTS (SELECT 1 FROM watchlist_entry e
                          WHERE e.borrower_id = w.borrower_id AND e.removed_on IS NULL)
        GROUP BY w.borrower_id
    """),
        {"d": d},
    )
    session.expire_all()
    return created
