"""Report documents on demand under /api/v1/reports/documents: the post-loan management report of a
borrower, the risk-warning report of a period and the monthly portfolio report (PDF and XLSX).

Supervisors, risk officers, admins and auditors; collectors are refused (these are management
documents spanning borrowers and teams). Each generation is recorded in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from collections_svc.audit.service import record
from collections_svc.auth.deps import DbSession, allow
from collections_svc.auth.models import User
from collections_svc.auth.service import actor_of
from collections_svc.common.clock import request_business_date as _today
from collections_svc.reports import documents as docs
from collections_svc.reports.router import READ_ROLES

router = APIRouter(prefix="/api/v1/reports/documents", tags=["reports"])
Reader = Annotated[User, Depends(allow(*READ_ROLES))]
LocaleQ = Annotated[Literal["zh_CN", "en"], Query(description="Language of the document")]
# Checked by documents.month_bounds, whose message a person can read (a regex pattern error is not).
MonthP = Annotated[str, Path(description="YYYY-MM, e.g. 2026-10")]
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content=content, media_type=media_type,
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/borrowers/{borrower_id}/post-loan.pdf", response_class=Response,
            summary="Post-loan management report of a borrower (贷后管理报告), PDF")
def post_loan_pdf(
    borrower_id: int, request: Request, session: DbSession, user: Reader,
    locale: LocaleQ = "zh_CN",
    as_of: dt.date | None = Query(None, description="Business date of the report; default today"),
    conclusion: str | None = Query(None, max_length=2000, description="The officer's conclusion (free text)"),
):
    as_of = as_of or _today(request)
    data = docs.post_loan_data(session, request.app.state.settings, borrower_id, as_of, conclusion)
    pdf = docs.render_post_loan_pdf(data, locale)
    record(session, actor_of(user), "report.post_loan", "borrower", borrower_id,
           after={"as_of": as_of.isoformat(), "locale": locale})
    return _file(pdf, PDF, f"post-loan-{borrower_id}-{as_of.isoformat()}.pdf")


@router.get("/warnings.pdf", response_class=Response, summary="Risk-warning report of a period (风险预警报告), PDF")
def warnings_pdf(
    request: Request, session: DbSession, user: Reader,
    locale: LocaleQ = "zh_CN",
    start: dt.date | None = Query(None, alias="from", description="First day; default the 1st of 'to''s month"),
    end: dt.date | None = Query(None, alias="to", description="Last day; default today"),
):
    start, end = docs.check_period(start, end, _today(request))
    data = docs.warning_report_data(session, request.app.state.settings, start, end)
    pdf = docs.render_warnings_pdf(data, locale)
    record(session, actor_of(user), "report.warnings", "report", None,
           after={"from": start.isoformat(), "to": end.isoformat(), "locale": locale})
    return _file(pdf, PDF, f"risk-warnings-{start.isoformat()}-{end.isoformat()}.pdf")


@router.get("/portfolio/{month}.pdf", response_class=Response, summary="Monthly portfolio report, PDF")
def portfolio_pdf(month: MonthP, request: Request, session: DbSession, user: Reader, locale: LocaleQ = "zh_CN"):
    s = request.app.state.settings
    f = docs.portfolio_figures(session, s, month)
    pdf = docs.render_portfolio_pdf(f, locale, s.bank.name if locale == "zh_CN" else s.bank.name_en)
    record(session, actor_of(user), "report.portfolio", "report", month, after={"format": "pdf", "locale": locale})
    return _file(pdf, PDF, f"portfolio-{month}.pdf")


@router.get("/portfolio/{month}.xlsx", response_class=Response, summary="Monthly portfolio report, XLSX")
def portfolio_xlsx(month: MonthP, request: Request, session: DbSession, user: Reader, locale: LocaleQ = "zh_CN"):
    f = docs.portfolio_figures(session, request.app.state.settings, month)
    content = docs.render_portfolio_xlsx(f, locale)
    record(session, actor_of(user), "report.portfolio", "report", month, after={"format": "xlsx"})
    return _file(content, XLSX, f"portfolio-{month}.xlsx")
