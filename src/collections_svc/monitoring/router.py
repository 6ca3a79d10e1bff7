"""Monitoring API under /api/v1/monitoring: classification, overrides, statements, warnings,
watchlist and reviews. Risk officers, supervisors and admins write; staff and auditors read."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from collections_svc.approvals.models import Proposal
from collections_svc.approvals.router import out as approvals_out
from collections_svc.approvals.schemas import ProposalDetail
from collections_svc.audit.service import record
from collections_svc.auth.deps import READERS, DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.common.clock import request_business_date as _today
from collections_svc.errors import NotFound, ValidationFailed
from collections_svc.loans.dpd import run_dpd
from collections_svc.loans.models import Borrower, Loan
from collections_svc.monitoring import overrides, reviews, warnings
from collections_svc.monitoring.classification import classify_book, migration_matrix
from collections_svc.monitoring.models import (
    ClassificationHistory,
    EarlyWarning,
    FinancialStatement,
    LoanClassification,
    ReviewReport,
    WatchlistEntry,
)
from collections_svc.monitoring.schemas import (
    BorrowerWarningReport,
    ClassificationOut,
    HistoryOut,
    ImportResult,
    MigrationOut,
    OverrideIn,
    ReviewReportIn,
    ReviewReportOut,
    ReviewRunOut,
    ReviewTaskOut,
    RunIn,
    RunOut,
    SignalIn,
    StatementIn,
    StatementOut,
    StatementResult,
    WarningOut,
    WarningUpdate,
    WatchlistIn,
    WatchlistOut,
)

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"])
Reader = Annotated[User, Depends(allow(*READERS))]
Writer = Annotated[User, Depends(allow(Role.risk_officer, Role.supervisor, Role.admin))]
Runner = Annotated[User, Depends(allow(Role.risk_officer, Role.admin))]
Maker = Annotated[User, Depends(allow(*overrides.MAKERS))]
Reporter = Annotated[User, Depends(allow(Role.collector, Role.risk_officer, Role.supervisor, Role.admin))]

STATEMENT_LAYOUT = (
    "Financial statements import layout: CSV (UTF-8, comma separated) or XLSX (first sheet), one header\n"
    "row, one row per borrower and period.\n"
    "Columns (all required):\n"
    "  borrower_external_id   the borrower's id in the core system\n"
    "  period_end             last day of the period, YYYY-MM-DD\n"
    "  period_type            annual | semiannual | quarterly | monthly\n"
    "  total_assets, total_liabilities, current_assets, current_liabilities, inventory, cash, revenue,\n"
    "  operating_profit, net_profit, interest_expense, operating_cash_flow\n"
    "                         amounts in yuan with at most 2 decimals;\n"
    "                         profits and cash flow may be negative\n"
    "The import is all-or-nothing: any bad row rejects the file with row-level errors.\n"
    "A row for a period that already exists corrects it. Ratios and warnings are evaluated for every row.\n"
)


def _statement_out(session, s: FinancialStatement) -> StatementOut:
    out = StatementOut.model_validate(s)
    out.ratios = warnings.compute_ratios(s, warnings.previous_statement(session, s))
    return out


# --- classification -----------------------------------------------------------------------


@router.get(
    "/classification/loans/{loan_id}",
    response_model=ClassificationOut,
    summary="Current five-category classification, IFRS 9 stage and EU default flag of a loan",
)
def loan_classification(loan_id: int, session: DbSession, _: Reader):
    if session.get(Loan, loan_id) is None:
        raise NotFound(f"Loan {loan_id} does not exist.")
    state = session.get(LoanClassification, loan_id)
    if state is None:
        raise NotFound(
            f"Loan {loan_id} has not been classified yet; "
            "the nightly run (or a classification run) will classify it."
        )
    return state


@router.get(
    "/classification/loans/{loan_id}/history",
    response_model=list[HistoryOut],
    summary="Classification history of a loan with rule ids and evidence",
)
def loan_history(loan_id: int, session: DbSession, _: Reader):
    if session.get(Loan, loan_id) is None:
        raise NotFound(f"Loan {loan_id} does not exist.")
    return session.scalars(
        select(ClassificationHistory)
        .where(ClassificationHistory.loan_id == loan_id)
        .order_by(ClassificationHistory.business_date, ClassificationHistory.id)
    ).all()


@router.post(
    "/classification/run",
    response_model=RunOut,
    summary="Recompute DPD and classify the whole book as of a business date (default: today)",
)
def run_classification(body: RunIn, request: Request, session: DbSession, user: Runner):
    day = body.business_date or _today(request)
    if day > _today(request):
        raise ValidationFailed(
            "The business date is in the future.",
            errors=[{"field": "business_date", "message": "after today"}],
        )
    settings = request.app.state.settings
    # The rules read the DPD stored on the loan: bring it to the same business date first.
    run_dpd(session, day, settings.dpd)
    res = classify_book(session, day, settings)
    record(
        session,
        actor_of(user),
        "classification.run",
        "book",
        None,
        after={"business_date": str(day), "changes": res.category_changes, "new": res.new_loans},
    )
    return RunOut(**res.__dict__)


@router.get(
    "/classification/migration",
    response_model=MigrationOut,
    summary="Migration matrix of categories between two dates (rows: from, columns: to)",
)
def migration(
    session: DbSession,
    _: Reader,
    from_: Annotated[dt.date, Query(alias="from")],
    to: Annotated[dt.date, Query()],
):
    if to < from_:
        raise ValidationFailed("'to' is before 'from'.", errors=[{"field": "to", "message": "before from"}])
    m = migration_matrix(session, from_, to)
    return MigrationOut(
        from_date=m.from_date,
        to_date=m.to_date,
        categories=list(m.categories),
        counts=m.counts,
        balances=m.balances,
        rates=m.rates,
    )


@router.post(
    "/classification/overrides",
    response_model=ProposalDetail,
    status_code=201,
    summary="Propose a manual category / IFRS 9 stage: an approvals proposal of kind classification_override "
    "(decided with POST /api/v1/approvals/{id}/approve|reject)",
)
def propose_override(body: OverrideIn, request: Request, session: DbSession, user: Maker):
    st = request.app.state
    now = st.clock.now()
    p = overrides.propose(
        session,
        st.settings,
        actor_of(user),
        loan_id=body.loan_id,
        business_date=_today(request),
        reason=body.reason,
        target_category=body.target_category,
        target_stage=body.target_stage,
        valid_until=body.valid_until,
        evidence=body.evidence,
        now=now,
    )
    return approvals_out(session, st.settings, p, user, now, detail=True)


@router.get(
    "/classification/overrides",
    response_model=list[ProposalDetail],
    summary="Classification change proposals in any state (approvals proposals of kind classification_override)",
)
def list_overrides(
    request: Request,
    session: DbSession,
    user: Reader,
    state: str | None = Query(None, pattern="^(draft|submitted|approved|rejected|withdrawn|expired)$"),
    loan_id: int | None = None,
):
    st = request.app.state
    now = st.clock.now()
    stmt = select(Proposal).where(Proposal.kind == overrides.KIND)
    if state:
        stmt = stmt.where(Proposal.state == state)
    if loan_id is not None:
        stmt = stmt.where(Proposal.loan_id == loan_id)
    rows = session.scalars(stmt.order_by(Proposal.id.desc()).limit(500)).all()
    return [approvals_out(session, st.settings, p, user, now, detail=True) for p in rows]


# --- statements -----------------------------------------------------------------------------


@router.get("/statements/layout", response_class=PlainTextResponse, summary="The documented CSV layout")
def statement_layout(_: Reader):
    return STATEMENT_LAYOUT


@router.post(
    "/borrowers/{borrower_id}/statements",
    response_model=StatementResult,
    status_code=201,
    summary="Submit a financial statement; ratios and warning rules are evaluated",
)
def submit_statement(borrower_id: int, body: StatementIn, request: Request, session: DbSession, user: Writer):
    s, created = warnings.submit_statement(
        session, request.app.state.settings, actor_of(user), borrower_id, body.model_dump(), _today(request)
    )
    return StatementResult(
        statement=_statement_out(session, s), warnings=[WarningOut.model_validate(w) for w in created]
    )


@router.get(
    "/borrowers/{borrower_id}/statements",
    response_model=list[StatementOut],
    summary="A borrower's statements with ratios",
)
def list_statements(borrower_id: int, session: DbSession, _: Reader):
    rows = session.scalars(
        select(FinancialStatement)
        .where(FinancialStatement.borrower_id == borrower_id)
        .order_by(FinancialStatement.period_end)
    ).all()
    return [_statement_out(session, s) for s in rows]


@router.get(
    "/borrowers/{borrower_id}/statements.csv",
    response_class=PlainTextResponse,
    summary="A borrower's statements in the documented CSV layout",
)
def export_statements(borrower_id: int, session: DbSession, _: Reader):
    import csv
    import io

    b = session.get(Borrower, borrower_id)
    if b is None:
        raise NotFound(f"Borrower {borrower_id} does not exist.")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(warnings.CSV_COLUMNS)
    for s in session.scalars(
        select(FinancialStatement)
        .where(FinancialStatement.borrower_id == borrower_id)
        .order_by(FinancialStatement.period_end)
    ):
        w.writerow(
            [
                b.external_id,
                s.period_end.isoformat(),
                s.period_type,
                *[str(getattr(s, f)) for f in warnings.AMOUNT_FIELDS],
            ]
        )
    return PlainTextResponse(buf.getvalue(), media_type="text/csv")


@router.post(
    "/statements/import",
    response_model=ImportResult,
    summary="Import statements from CSV or XLSX (documented layout; all-or-nothing)",
)
def import_statements(request: Request, session: DbSession, user: Writer, file: UploadFile = File(...)):
    limit = request.app.state.settings.import_max_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(
            "The file is too large.", errors=[{"field": "file", "message": f"over {limit} bytes"}]
        )
    fmt = "xlsx" if (file.filename or "").lower().endswith(".xlsx") else "csv"
    n, w = warnings.import_statements_csv(
        session, request.app.state.settings, actor_of(user), data, _today(request), fmt
    )
    return ImportResult(statements=n, warnings=w)


# --- warnings and watchlist ------------------------------------------------------------------


@router.get("/warnings", response_model=list[WarningOut], summary="Portfolio warning list")
def list_warnings(
    session: DbSession,
    _: Reader,
    status: str | None = Query(None, pattern="^(open|acknowledged|closed)$"),
    severity: str | None = Query(None, pattern="^(low|medium|high|severe)$"),
    borrower_id: int | None = None,
    limit: int = Query(200, ge=1, le=1000),
):
    stmt = select(EarlyWarning)
    if status:
        stmt = stmt.where(EarlyWarning.status == status)
    if severity:
        stmt = stmt.where(EarlyWarning.severity == severity)
    if borrower_id is not None:
        stmt = stmt.where(EarlyWarning.borrower_id == borrower_id)
    return session.scalars(
        stmt.order_by(EarlyWarning.raised_on.desc(), EarlyWarning.id.desc()).limit(limit)
    ).all()


@router.get(
    "/borrowers/{borrower_id}/warnings",
    response_model=BorrowerWarningReport,
    summary="Risk-warning report of a borrower (风险预警报告)",
)
def borrower_warnings(borrower_id: int, session: DbSession, _: Reader):
    b = session.get(Borrower, borrower_id)
    if b is None:
        raise NotFound(f"Borrower {borrower_id} does not exist.")
    entry = session.scalar(
        select(WatchlistEntry).where(
            WatchlistEntry.borrower_id == borrower_id, WatchlistEntry.removed_on.is_(None)
        )
    )
    latest = session.scalar(
        select(FinancialStatement)
        .where(FinancialStatement.borrower_id == borrower_id)
        .order_by(FinancialStatement.period_end.desc())
        .limit(1)
    )
    ws = session.scalars(
        select(EarlyWarning)
        .where(EarlyWarning.borrower_id == borrower_id)
        .order_by(EarlyWarning.raised_on.desc(), EarlyWarning.id.desc())
    ).all()
    cls = session.scalars(
        select(LoanClassification)
        .join(Loan, Loan.id == LoanClassification.loan_id)
        .where(Loan.borrower_id == borrower_id)
        .order_by(Loan.id)
    ).all()
    return BorrowerWarningReport(
        borrower_id=b.id,
        borrower_name=b.name,
        on_watchlist=entry is not None,
        watchlist=WatchlistOut.model_validate(entry) if entry else None,
        latest_statement=_statement_out(session, latest) if latest else None,
        warnings=[WarningOut.model_validate(w) for w in ws],
        loans=[ClassificationOut.model_validate(c) for c in cls],
    )


@router.post(
    "/borrowers/{borrower_id}/signals",
    response_model=WarningOut,
    status_code=201,
    summary="Record a non-financial warning signal (litigation, management change, ...)",
)
def record_signal(borrower_id: int, body: SignalIn, request: Request, session: DbSession, user: Writer):
    w, _ = warnings.record_signal(
        session,
        request.app.state.settings,
        actor_of(user),
        borrower_id,
        signal=body.signal,
        observed_on=body.observed_on,
        note=body.note,
        business_date=_today(request),
        severity=body.severity,
    )
    return w


@router.patch(
    "/warnings/{warning_id}", response_model=WarningOut, summary="Acknowledge, close or reopen a warning"
)
def update_warning(warning_id: int, body: WarningUpdate, request: Request, session: DbSession, user: Writer):
    return warnings.set_status(
        session,
        actor_of(user),
        warning_id,
        status=body.status,
        version=body.version,
        note=body.note,
        business_date=_today(request),
    )


@router.get("/watchlist", response_model=list[WatchlistOut], summary="Borrowers on the watchlist now")
def watchlist(session: DbSession, _: Reader):
    return session.scalars(
        select(WatchlistEntry)
        .where(WatchlistEntry.removed_on.is_(None))
        .order_by(WatchlistEntry.added_on.desc(), WatchlistEntry.id)
    ).all()


@router.post(
    "/watchlist", response_model=WatchlistOut, status_code=201, summary="Put a borrower on the watchlist"
)
def add_watch(body: WatchlistIn, request: Request, session: DbSession, user: Writer):
    if session.get(Borrower, body.borrower_id) is None:
        raise NotFound(f"Borrower {body.borrower_id} does not exist.")
    return warnings.add_to_watchlist(session, actor_of(user), body.borrower_id, body.reason, _today(request))


@router.delete(
    "/watchlist/{borrower_id}", response_model=WatchlistOut, summary="Take a borrower off the watchlist"
)
def remove_watch(
    borrower_id: int,
    request: Request,
    session: DbSession,
    user: Writer,
    reason: str = Query(..., min_length=3, max_length=500),
):
    return warnings.remove_from_watchlist(session, actor_of(user), borrower_id, _today(request), reason)


# --- reviews ---------------------------------------------------------------------------------


@router.get(
    "/reviews/due", response_model=list[ReviewTaskOut], summary="Open review tasks (optionally overdue only)"
)
def reviews_due(
    request: Request, session: DbSession, _: Reader, assignee_id: int | None = None, overdue: bool = False
):
    return reviews.due_reviews(session, _today(request), assignee_id=assignee_id, overdue_only=overdue)


@router.post(
    "/reviews/generate", response_model=ReviewRunOut, summary="Create due review tasks now (idempotent)"
)
def generate_reviews(body: RunIn, request: Request, session: DbSession, user: Runner):
    day = body.business_date or _today(request)
    res = reviews.generate_due_reviews(session, day, request.app.state.settings)
    record(
        session,
        actor_of(user),
        "reviews.generate",
        "book",
        None,
        after=dict(res.__dict__, business_date=str(day)),
    )
    return ReviewRunOut(**res.__dict__)


@router.post(
    "/reviews/reports",
    response_model=ReviewReportOut,
    status_code=201,
    summary="File a review report (completes its task)",
)
def file_report(body: ReviewReportIn, request: Request, session: DbSession, user: Reporter):
    return reviews.submit_report(
        session,
        actor_of(user),
        borrower_id=body.borrower_id,
        review_type=body.review_type,
        review_date=body.review_date,
        on_site=body.on_site,
        findings=body.findings.model_dump(),
        conclusion=body.conclusion,
        recommended_category=body.recommended_category,
        task_id=body.task_id,
        loan_id=body.loan_id,
        attachments=body.attachments,
        business_date=_today(request),
        settings=request.app.state.settings,
    )


@router.get(
    "/borrowers/{borrower_id}/reviews",
    response_model=list[ReviewReportOut],
    summary="Review reports of a borrower",
)
def borrower_reviews(borrower_id: int, session: DbSession, _: Reader):
    return session.scalars(
        select(ReviewReport)
        .where(ReviewReport.borrower_id == borrower_id)
        .order_by(ReviewReport.review_date.desc(), ReviewReport.id.desc())
    ).all()
