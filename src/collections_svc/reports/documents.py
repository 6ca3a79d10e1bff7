"""Report documents (issue 9, the documents half): the post-loan management report of a borrower
(贷后管理报告), the risk-warning report of a period (风险预警报告) and the monthly portfolio report.

Each document is built in two steps: a ``*_data`` function reads the database into plain dicts and
Decimals (the figures a test compares with the API), then ``render_*`` turns them into PDF (or XLSX)
through ``documents_render``. Reads are per borrower or per period with a handful of queries each
(IN lists, no per-row queries). Nothing here writes to the database.

The portfolio figures come from the analytics half of the issue (``reports.analytics``, which reads
the daily snapshot); ``portfolio_figures`` maps their results to what the document shows and
computes nothing itself.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from collections_svc.audit.models import AuditEvent
from collections_svc.auth.models import User
from collections_svc.cases.models import Case, CaseEvent, ContactLog, Promise, Visit
from collections_svc.common.dates import month_end
from collections_svc.config import Settings
from collections_svc.errors import NotFound, ValidationFailed
from collections_svc.loans.models import Borrower, BucketHistory, Installment, Loan
from collections_svc.monitoring.models import (
    RANK,
    ClassificationHistory,
    EarlyWarning,
    LoanClassification,
    ReviewReport,
    ReviewTask,
    WatchlistEntry,
)
from collections_svc.monitoring.settings import CATEGORIES, SEVERITIES
from collections_svc.notices.models import Notice
from collections_svc.reports import documents_render as R

CENT = Decimal("0.01")
MAX_WARNING_PERIOD_DAYS = 366


def _cents(v: Any) -> Decimal:
    return Decimal(v or 0).quantize(CENT)


def check_locale(locale: str) -> str:
    if locale not in R.LOCALES:
        raise ValidationFailed(
            f"Unknown locale {locale!r}.", errors=[{"field": "locale", "message": "one of zh_CN, en"}]
        )
    return locale


# ====================================================================== 1. post-loan management report


def post_loan_data(session: Session, settings: Settings, borrower_id: int, as_of: dt.date,
                   conclusion: str | None = None) -> dict[str, Any]:
    """Everything the 贷后管理报告 shows about one borrower, as of a business date."""
    b = session.get(Borrower, borrower_id)
    if b is None:
        raise NotFound(f"Borrower {borrower_id} does not exist.")
    loans = session.scalars(select(Loan).where(Loan.borrower_id == b.id).order_by(Loan.id)).all()
    loan_ids = [ln.id for ln in loans]
    contracts = {ln.id: ln.contract_no for ln in loans}
    cls = {c.loan_id: c for c in session.scalars(
        select(LoanClassification).where(LoanClassification.loan_id.in_(loan_ids)))} if loan_ids else {}
    rm = session.get(User, b.relationship_manager_id) if b.relationship_manager_id else None
    on_watch = session.scalar(select(WatchlistEntry.id).where(
        WatchlistEntry.borrower_id == b.id, WatchlistEntry.removed_on.is_(None))) is not None

    exposure = []
    for ln in loans:
        c = cls.get(ln.id)
        exposure.append({
            "loan_id": ln.id, "contract_no": ln.contract_no, "product": str(ln.product), "currency": ln.currency,
            "principal": _cents(ln.principal), "outstanding": _cents(ln.principal - ln.principal_paid),
            "disbursed_on": ln.disbursed_on, "maturity_on": ln.maturity_on, "status": str(ln.status),
            "dpd": ln.dpd, "overdue_amount": _cents(ln.overdue_amount), "bucket": ln.bucket,
            "category": c.category if c else None, "stage": c.ifrs9_stage if c else None,
        })
    total_outstanding = sum((e["outstanding"] for e in exposure), Decimal("0.00"))
    total_overdue = sum((e["overdue_amount"] for e in exposure), Decimal("0.00"))

    # Repayment behaviour: every installment due on or before the as-of date.
    due = session.scalars(select(Installment).where(
        Installment.loan_id.in_(loan_ids), Installment.due_on <= as_of).order_by(Installment.due_on)).all() \
        if loan_ids else []
    on_time = late = unpaid = 0
    max_days_late = 0
    for i in due:
        if i.settled_on is not None and i.settled_on <= as_of:
            days = (i.settled_on - i.due_on).days
            if days <= 0:
                on_time += 1
            else:
                late += 1
        else:
            unpaid += 1
            days = (as_of - i.due_on).days
        max_days_late = max(max_days_late, days)
    buckets = [
        {"contract_no": contracts[h.loan_id], "bucket": h.bucket, "entered_on": h.entered_on, "left_on": h.left_on}
        for h in session.scalars(select(BucketHistory).where(
            BucketHistory.loan_id.in_(loan_ids), BucketHistory.entered_on <= as_of)
            .order_by(BucketHistory.entered_on, BucketHistory.id))
    ] if loan_ids else []

    history = [
        {"date": h.business_date, "contract_no": contracts[h.loan_id], "from": h.from_category,
         "to": h.to_category, "from_stage": h.from_stage, "to_stage": h.to_stage,
         "rules": ", ".join(h.rule_ids or []), "source": h.source}
        for h in session.scalars(select(ClassificationHistory).where(
            ClassificationHistory.loan_id.in_(loan_ids), ClassificationHistory.business_date <= as_of)
            .order_by(ClassificationHistory.business_date, ClassificationHistory.id))
    ] if loan_ids else []

    reviews = [
        {"date": r.review_date, "type": r.review_type, "on_site": r.on_site,
         "findings": [(k, v) for k, v in (r.findings or {}).items() if v not in (None, "")],
         "conclusion": r.conclusion, "recommended": r.recommended_category, "author": r.author}
        for r in session.scalars(select(ReviewReport).where(
            ReviewReport.borrower_id == b.id, ReviewReport.review_date <= as_of)
            .order_by(ReviewReport.review_date, ReviewReport.id))
    ]
    warnings = [_warning_row(w, contracts) for w in session.scalars(select(EarlyWarning).where(
        EarlyWarning.borrower_id == b.id, EarlyWarning.raised_on <= as_of)
        .order_by(EarlyWarning.raised_on, EarlyWarning.id))]

    collection = _collection_history(session, b.id, contracts, as_of)

    # Conclusion: computed from the figures above, plus the officer's own words (escaped like all text).
    ranks = [RANK[e["category"]] for e in exposure if e["category"] and e["status"] == "active"]
    current = CATEGORIES[max(ranks)] if ranks else None
    first = {}
    for h in history:  # the earliest known category of each loan
        first.setdefault(h["contract_no"], h["from"] or h["to"])
    start_ranks = [RANK[c] for c in first.values() if c]
    if not ranks or not start_ranks or max(ranks) == max(start_ranks):
        trend = "trend_flat"
    else:
        trend = "trend_down" if max(ranks) > max(start_ranks) else "trend_up"
    open_warnings = sum(1 for w in warnings if w["status"] != "closed")
    return {
        "as_of": as_of,
        "bank_name": settings.bank.name,
        "bank_name_en": settings.bank.name_en,
        "borrower": {"id": b.id, "name": b.name, "uscc": b.uscc, "industry": b.industry, "region": b.region,
                     "segment": b.segment, "group_id": b.group_id, "rm": rm.display_name if rm else None,
                     "on_watchlist": on_watch},
        "exposure": exposure,
        "total_outstanding": total_outstanding,
        "total_overdue": total_overdue,
        "repayment": {"installments_due": len(due), "on_time": on_time, "late": late, "unpaid": unpaid,
                      "max_dpd": max_days_late, "buckets": buckets},
        "classification_history": history,
        "reviews": reviews,
        "warnings": warnings,
        "collection": collection,
        "conclusion": {"current_category": current, "trend": trend, "open_warnings": open_warnings,
                       "total_outstanding": total_outstanding, "total_overdue": total_overdue,
                       "text": conclusion or ""},
    }


def _warning_row(w: EarlyWarning, contracts: dict[int, str]) -> dict[str, Any]:
    return {"id": w.id, "raised_on": w.raised_on, "code": w.code, "rule_id": w.rule_id, "kind": w.kind,
            "severity": w.severity, "status": w.status, "evidence": w.evidence or {}, "note": w.note,
            "closed_on": w.closed_on, "contract_no": contracts.get(w.loan_id) if w.loan_id else None,
            "borrower_id": w.borrower_id}


def _collection_history(session: Session, borrower_id: int, contracts: dict[int, str],
                        as_of: dt.date) -> dict[str, Any]:
    cases = session.scalars(select(Case).where(Case.borrower_id == borrower_id, Case.opened_on <= as_of)
                            .order_by(Case.opened_on, Case.id)).all()
    ids = [c.id for c in cases]
    if not ids:
        return {"cases": [], "events": [], "contacts": [], "promises": [], "visits": [], "notices": []}
    events = session.scalars(select(CaseEvent).where(
        CaseEvent.case_id.in_(ids), CaseEvent.kind == "stage_change", CaseEvent.business_date <= as_of)
        .order_by(CaseEvent.business_date, CaseEvent.id)).all()
    contacts = session.scalars(select(ContactLog).where(
        ContactLog.case_id.in_(ids), ContactLog.business_date <= as_of)
        .order_by(ContactLog.business_date, ContactLog.id)).all()
    promises = session.scalars(select(Promise).where(Promise.case_id.in_(ids), Promise.promised_on <= as_of)
                               .order_by(Promise.promised_on, Promise.id)).all()
    visits = session.scalars(select(Visit).where(Visit.case_id.in_(ids), Visit.scheduled_on <= as_of)
                             .order_by(Visit.scheduled_on, Visit.id)).all()
    notices = session.scalars(select(Notice).where(Notice.case_id.in_(ids), Notice.business_date <= as_of)
                              .order_by(Notice.business_date, Notice.id)).all()
    return {
        "cases": [{"id": c.id, "contract_no": contracts.get(c.loan_id), "stage": c.stage, "opened_on": c.opened_on,
                   "closed_on": c.closed_on, "team": c.team} for c in cases],
        "events": [{"case_id": e.case_id, "date": e.business_date, "from": e.from_stage, "to": e.to_stage,
                    "actor": e.actor, "reason": e.reason} for e in events],
        "contacts": [{"case_id": x.case_id, "date": x.business_date, "channel": x.channel, "outcome": x.outcome,
                      "actor": x.actor, "note": x.note} for x in contacts],
        "promises": [{"case_id": p.case_id, "promised_on": p.promised_on, "due_on": p.due_on,
                      "amount": _cents(p.amount), "paid_amount": _cents(p.paid_amount), "status": p.status}
                     for p in promises],
        "visits": [{"case_id": v.case_id, "scheduled_on": v.scheduled_on, "visited_on": v.visited_on,
                    "status": v.status, "findings": v.findings} for v in visits],
        "notices": [{"case_id": n.case_id, "date": n.business_date, "channel": n.channel, "template": n.template,
                     "status": n.status} for n in notices],
    }


def render_post_loan_pdf(data: dict[str, Any], locale: str) -> bytes:
    return R.html_to_pdf(R.render_html("post_loan.html.j2", check_locale(locale), {"d": data}))


# ====================================================================== 2. risk-warning report


def check_period(start: dt.date | None, end: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    end = end or today
    start = start or end.replace(day=1)
    errors = []
    if start > end:
        errors.append({"field": "from", "message": "must be on or before 'to'"})
    elif (end - start).days > MAX_WARNING_PERIOD_DAYS:
        errors.append({"field": "to", "message": f"the period may span at most {MAX_WARNING_PERIOD_DAYS} days"})
    if errors:
        raise ValidationFailed("The report period is invalid.", errors=errors)
    return start, end


def warning_report_data(session: Session, settings: Settings, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Warnings raised in [start, end], grouped by severity (worst first) then borrower, each with its
    evidence and the actions taken on it: status changes and notes (audit trail), the review task it
    created, the review report filed on that task, and the watchlist entry it caused."""
    ws = session.scalars(select(EarlyWarning).where(EarlyWarning.raised_on.between(start, end))
                         .order_by(EarlyWarning.raised_on, EarlyWarning.id)).all()
    wids = [w.id for w in ws]
    borrowers = {b.id: b for b in session.scalars(
        select(Borrower).where(Borrower.id.in_({w.borrower_id for w in ws})))} if ws else {}
    contracts = dict(session.execute(select(Loan.id, Loan.contract_no).where(
        Loan.id.in_({w.loan_id for w in ws if w.loan_id}))).all()) if ws else {}
    actions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    bank_tz = ZoneInfo(settings.bank.timezone)  # audit timestamps are UTC; the report speaks bank dates
    if wids:
        for ev in session.scalars(select(AuditEvent).where(
                AuditEvent.entity == "warning", AuditEvent.entity_id.in_([str(i) for i in wids]),
                AuditEvent.action == "warning.status").order_by(AuditEvent.at, AuditEvent.id)):
            after = ev.after or {}
            actions[int(ev.entity_id)].append({
                "kind": "action_status", "date": ev.at.astimezone(bank_tz).date(), "actor": ev.actor,
                "values": [(ev.before or {}).get("status"), after.get("status")], "due_on": None,
                "note": after.get("note")})
        tasks = session.scalars(select(ReviewTask).where(
            ReviewTask.dedupe_key.in_([f"warning:{i}" for i in wids]))).all()
        reports = {r.task_id: r for r in session.scalars(select(ReviewReport).where(
            ReviewReport.task_id.in_([t.id for t in tasks])))} if tasks else {}
        for t in tasks:
            wid = int(t.dedupe_key.split(":", 1)[1])
            actions[wid].append({"kind": "action_task", "date": t.created_on, "actor": "system",
                                 "values": [t.kind, t.status], "due_on": t.due_on, "note": None})
            r = reports.get(t.id)
            if r is not None:
                actions[wid].append({"kind": "action_review", "date": r.review_date, "actor": r.author,
                                     "values": [r.review_type], "due_on": None, "note": r.conclusion})
        for e in session.scalars(select(WatchlistEntry).where(WatchlistEntry.warning_id.in_(wids))):
            actions[e.warning_id].append({"kind": "action_watch", "date": e.added_on, "actor": e.added_by,
                                          "values": [], "due_on": None, "note": e.reason})
    groups = []
    for sev in reversed(SEVERITIES):
        by_b: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for w in ws:
            if w.severity == sev:
                row = _warning_row(w, contracts)
                row["actions"] = sorted(actions.get(w.id, []), key=lambda a: a["date"])
                by_b[w.borrower_id].append(row)
        if by_b:
            groups.append({"severity": sev, "count": sum(len(v) for v in by_b.values()), "borrowers": [
                {"id": bid, "name": borrowers[bid].name, "uscc": borrowers[bid].uscc, "warnings": rows}
                for bid, rows in sorted(by_b.items(), key=lambda kv: borrowers[kv[0]].name)]})
    by_status = Counter(w.status for w in ws)
    return {
        "from": start, "to": end, "bank_name": settings.bank.name, "bank_name_en": settings.bank.name_en,
        "total": len(ws),
        "by_severity": {s: sum(1 for w in ws if w.severity == s) for s in reversed(SEVERITIES)},
        "by_status": {s: by_status.get(s, 0) for s in ("open", "acknowledged", "closed")},
        "borrowers": len({w.borrower_id for w in ws}),
        "groups": groups,
    }


def render_warnings_pdf(data: dict[str, Any], locale: str) -> bytes:
    return R.html_to_pdf(R.render_html("warnings.html.j2", check_locale(locale), {"d": data}))


# ====================================================================== 3. monthly portfolio report


@dataclass
class PortfolioFigures:
    """The analytics the monthly report shows, taken from ``reports.analytics`` (the daily snapshot).
    Amounts are Decimal yuan; rates are Decimal shares (0..1), or None when there is no denominator."""

    month: str  # YYYY-MM
    as_of: dt.date  # the month-end
    snapshot_date: dt.date | None  # the snapshot the month-end figures come from (None: no snapshot yet)
    aging: list[dict[str, Any]]  # {bucket, label, count, balance, share}
    by_category: list[dict[str, Any]]  # {category, count, balance, share}
    total_count: int
    total_balance: Decimal
    par30: Decimal | None
    par90: Decimal | None
    roll_columns: list[str]  # bucket codes + paid_off + written_off
    roll_rates: dict[str, dict[str, Decimal | None]]  # from bucket -> to column -> share of the row's balance
    migration_rates: list[dict[str, Any]]  # IND-08: {category, opening_balance, migrated_balance, denominator, rate}
    migration_columns: list[str]  # categories + paid_off + written_off
    migration: dict[str, dict[str, Decimal]]  # opening category -> end category/exit -> opening balance
    rates: dict[str, Decimal | None]  # cure_rate, ptp_kept_rate, recovery_rate, rpc_rate
    collectors: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)  # per channel and template
    notice_failures: list[dict[str, Any]] = field(default_factory=list)  # {channel, error_code, count}
    notice_deferrals: list[dict[str, Any]] = field(default_factory=list)  # {channel, gate, events, notices}


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    try:
        if len(month) != 7:
            raise ValueError(month)
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValidationFailed(f"{month!r} is not a month: write it as YYYY-MM, for example 2026-10.",
                               errors=[{"field": "month", "message": "format YYYY-MM"}]) from None
    return first, month_end(first)


def _share(x: float | None) -> Decimal | None:
    """The analytics return rates as floats rounded to 6 places; the documents show exact decimals."""
    return None if x is None else Decimal(str(x))


def portfolio_figures(session: Session, settings: Settings, month: str) -> PortfolioFigures:
    """The month's figures from the analytics service functions (``reports.analytics``), the same
    functions behind ``/api/v1/reports/...``, with the same arguments the API uses for a month:
    aging as of the month-end; roll rates between the previous and this month-end; IND-08 migration
    from the previous month-end to this one; rates, collector KPIs and notices over the month."""
    from collections_svc.reports import analytics as A

    first, last = month_bounds(month)
    prev_end = first - dt.timedelta(days=1)
    ag = A.aging(session, settings, last)
    tot = ag["total"]
    rr = A.roll_rates(session, settings, prev_end.replace(day=1), first)
    mg = A.migration(session, settings, prev_end, last)
    rt = A.rates(session, settings, first, last)
    kp = A.collectors(session, settings, first, last)
    nt = A.notices(session, first, last)
    return PortfolioFigures(
        month=month, as_of=last,
        snapshot_date=dt.date.fromisoformat(ag["snapshot_date"]) if ag["snapshot_date"] else None,
        aging=[{"bucket": b["bucket"], "label": b["label"], "count": b["loans"], "balance": b["outstanding"],
                "share": _share(b["share"])} for b in tot["buckets"]],
        by_category=[{"category": c["category"], "count": c["loans"], "balance": c["outstanding"],
                      "share": _share(c["share"])} for c in tot["categories"]
                     if c["category"] != "unclassified" or c["loans"]],
        total_count=tot["loans"], total_balance=tot["outstanding"],
        par30=_share(tot["par30"]), par90=_share(tot["par90"]),
        roll_columns=list(rr["columns"]),
        roll_rates={r["bucket"]: {c: _share(r["rates_balance"][c]) for c in rr["columns"]} for r in rr["rows"]},
        migration_rates=[{**m, "rate": _share(m["rate"])} for m in mg["rates"]],
        migration_columns=list(mg["columns"]),
        migration={m["category"]: dict(m["balances"]) for m in mg["matrix"]},
        rates={"cure_rate": _share(rt["cure"]["rate_balance"]), "ptp_kept_rate": _share(rt["promise_kept"]["rate"]),
               "recovery_rate": _share(rt["recovery"]["rate"]), "rpc_rate": _share(rt["right_party_contact"]["rate"])},
        collectors=[{"collector": c["name"] or c["username"], "team": c["team"],
                     "cases_worked": c["cases_worked"], "contacts": c["contacts"],
                     "promises_taken": c["promises_taken"], "promises_kept": c["promises_kept"],
                     "collected": c["amount_collected"], "cures": c["cures"], "rolls_forward": c["rolls_forward"],
                     "compliance_blocks": c["compliance_blocks"], "score": _share(c["score"])}
                    for c in kp["collectors"]],
        notices=[{"channel": n["channel"], "template": n["template"], "queued": n["queued"], "sent": n["sent"],
                  "delivered": n["delivered"], "failed": n["failed"], "deferred": n["ever_deferred"]}
                 for n in nt["by_template"]],
        notice_failures=list(nt["failures"]),
        notice_deferrals=list(nt["deferrals"]),
    )


def _charts(f: PortfolioFigures, locale: str) -> dict[str, Any]:
    t = R.LABELS[locale]
    return {
        "aging": R.bar_chart_svg([(a["bucket"], a["balance"]) for a in f.aging], title=t["aging"],
                                 value_text=[R.fmt_number(a["balance"], locale) for a in f.aging]),
        "category": R.bar_chart_svg([(R.label(locale, c["category"]), c["balance"]) for c in f.by_category],
                                    title=t["by_category"],
                                    value_text=[R.fmt_number(c["balance"], locale) for c in f.by_category]),
    }


def render_portfolio_pdf(f: PortfolioFigures, locale: str, bank_name: str) -> bytes:
    locale = check_locale(locale)
    return R.html_to_pdf(R.render_html("portfolio.html.j2", locale,
                                       {"f": f, "charts": _charts(f, locale), "bank_name": bank_name}))


COLLECTOR_COLUMNS = ("collector", "team", "score", "cases_worked", "contacts", "promises_taken", "promises_kept",
                     "collected", "cures", "rolls_forward", "compliance_blocks")


def render_portfolio_xlsx(f: PortfolioFigures, locale: str = "zh_CN") -> bytes:
    """One sheet per table; amounts and rates as numbers (rates as shares 0..1, not percent strings)."""
    check_locale(locale)
    lab = lambda k: R.label(locale, k)  # noqa: E731
    sheets = [
        ("aging", ["bucket", "label", "count", "balance", "share"],
         [[a["bucket"], a["label"], a["count"], a["balance"], a["share"]] for a in f.aging]),
        ("by_category", ["category", "name", "count", "balance", "share"],
         [[c["category"], lab(c["category"]), c["count"], c["balance"], c["share"]] for c in f.by_category]),
        ("par", ["metric", "value"], [["as_of", f.as_of], ["snapshot_date", f.snapshot_date],
                                      ["total_count", f.total_count], ["total_balance", f.total_balance],
                                      ["par30", f.par30], ["par90", f.par90]]),
        ("roll_rates", ["from", *f.roll_columns],
         [[b, *[f.roll_rates[b][c] for c in f.roll_columns]] for b in f.roll_rates]),
        ("migration_rates", ["category", "opening_balance", "migrated_balance", "denominator", "rate"],
         [[m["category"], m["opening_balance"], m["migrated_balance"], m["denominator"], m["rate"]]
          for m in f.migration_rates]),
        ("migration_matrix", ["from", *f.migration_columns],
         [[c, *[row[d] for d in f.migration_columns]] for c, row in f.migration.items()]),
        ("rates", ["metric", "value"], [[k, v] for k, v in f.rates.items()]),
        ("collectors", list(COLLECTOR_COLUMNS), [[c[k] for k in COLLECTOR_COLUMNS] for c in f.collectors]),
        ("notices", ["channel", "template", "queued", "sent", "delivered", "failed", "deferred"],
         [[n[k] for k in ("channel", "template", "queued", "sent", "delivered", "failed", "deferred")]
          for n in f.notices]),
        ("notice_failures", ["channel", "error_code", "count"],
         [[x["channel"], x["error_code"], x["count"]] for x in f.notice_failures]),
        ("notice_deferrals", ["channel", "gate", "events", "notices"],
         [[x["channel"], x["gate"], x["events"], x["notices"]] for x in f.notice_deferrals]),
    ]
    return R.workbook_bytes(sheets)


# ====================================================================== scheduled monthly report


@dataclass
class StoredReport:
    month: str
    paths: list[Path]
    written: list[Path]  # empty when every file already existed (a repeat run)


def monthly_report_paths(settings: Settings, month: str) -> list[Path]:
    base = Path(settings.report_documents.output_dir) / "portfolio"
    return [base / f"portfolio-{month}.{loc}.pdf" for loc in settings.report_documents.locales] + [
        base / f"portfolio-{month}.xlsx"]


def month_due(first_swept: dt.date | None, last_swept: dt.date | None) -> str | None:
    """The month whose report is due, given the first and latest completed sweeps: the month before the
    latest one (any completed sweep in a month means its first business day has been swept), unless
    the book was never swept by that month's end (a new installation has no figures for it)."""
    if first_swept is None or last_swept is None:
        return None
    last_month_end = last_swept.replace(day=1) - dt.timedelta(days=1)
    if first_swept > last_month_end:
        return None
    return f"{last_month_end:%Y-%m}"


def store_monthly_report(session: Session, settings: Settings, month: str) -> StoredReport:
    """Write the month's portfolio report (PDF per configured locale, one XLSX). Idempotent per month:
    files that exist are kept as they are, so a repeated or concurrent run writes nothing twice; each
    file is written to a temporary name and renamed, so a crash never leaves half a report."""
    paths = monthly_report_paths(settings, month)
    missing = [p for p in paths if not p.exists()]
    if not missing:
        return StoredReport(month, paths, [])
    f = portfolio_figures(session, settings, month)
    written = []
    for p in missing:
        if p.suffix == ".xlsx":
            content = render_portfolio_xlsx(f)
        else:
            loc = p.suffixes[-2].lstrip(".")
            content = render_portfolio_pdf(f, loc, settings.bank.name if loc == "zh_CN" else settings.bank.name_en)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".part")
        tmp.write_bytes(content)
        tmp.replace(p)
        written.append(p)
    return StoredReport(month, paths, written)
