"""Reports API under /api/v1/reports: portfolio analytics from the daily snapshot, as JSON, CSV or XLSX.

Read by supervisors, risk officers, admins and auditors. A collector may read only the collectors
report, and sees only their own row there (their KPIs are theirs to know; the others' are not).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from collections_svc.auth.deps import DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.common.clock import request_business_date as _today
from collections_svc.common.dates import add_months
from collections_svc.errors import ValidationFailed
from collections_svc.reports import analytics, export
from collections_svc.reports.schemas import (
    MAX_DAY_POINTS,
    MAX_MONTHS,
    By,
    Format,
    Interval,
    check_period,
    parse_month,
)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
READ_ROLES = (Role.supervisor, Role.risk_officer, Role.admin, Role.auditor)
Reader = Annotated[User, Depends(allow(*READ_ROLES))]
CollectorsReader = Annotated[User, Depends(allow(Role.collector, *READ_ROLES))]
FormatQ = Annotated[Format, Query(description="json (default), csv or xlsx (a download)")]
FromQ = Annotated[dt.date | None, Query(alias="from", description="first day of the period (YYYY-MM-DD)")]
ToQ = Annotated[dt.date | None, Query(alias="to", description="last day of the period (YYYY-MM-DD)")]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)    # money stays exact: "1234.50", as elsewhere in the API
    if isinstance(v, dict):
        return {str(k) if k is not None else None: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _respond(report: str, result: dict, fmt: Format, name: str, params: dict[str, Any]) -> Response:
    if fmt == Format.json:
        return JSONResponse(_plain(result))
    filename = f"{report}_{name}.{fmt.value}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == Format.csv:
        return Response(export.to_csv(report, result), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(export.to_xlsx(report, result, params), media_type=XLSX, headers=headers)


def _period(request: Request, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    end = end or _today(request)
    start = start or end.replace(day=1)
    check_period(start, end)
    return start, end


@router.get("/aging", summary="Aging as of a date: buckets, categories, PAR30/90, optionally per dimension")
def aging(request: Request, session: DbSession, _: Reader, as_of: dt.date | None = None, by: By | None = None,
          product: str | None = None, region: str | None = None, industry: str | None = None,
          team: str | None = None, format: FormatQ = Format.json):
    as_of = as_of or _today(request)
    filters = {"product": product, "region": region, "industry": industry, "team": team}
    res = analytics.aging(session, request.app.state.settings, as_of, by.value if by else None, filters)
    return _respond("aging", res, format, as_of.isoformat() + (f"_by_{by.value}" if by else ""),
                    {"as_of": as_of, "snapshot_date": res["snapshot_date"], "by": by, **filters})


def _months(from_month: str, to_month: str) -> tuple[dt.date, dt.date]:
    a, b = parse_month(from_month, "from"), parse_month(to_month, "to")
    if a >= b:
        raise ValidationFailed(f"Choose two different months: 'to' ({b:%Y-%m}) must be later than 'from' ({a:%Y-%m}).",
                               errors=[{"field": "from", "message": "must be an earlier month than to"}])
    return a, b


@router.get("/roll-rates", summary="Roll-rate matrix between two month-ends (IND-03)")
def roll_rates(request: Request, session: DbSession, _: Reader,
               from_month: Annotated[str, Query(alias="from", description="YYYY-MM (or a date in that month)")],
               to_month: Annotated[str, Query(alias="to", description="YYYY-MM (or a date in that month)")],
               format: FormatQ = Format.json):
    a, b = _months(from_month, to_month)
    res = analytics.roll_rates(session, request.app.state.settings, a, b)
    return _respond("roll-rates", res, format, f"{a:%Y-%m}_{b:%Y-%m}",
                    {"from": res["from"]["snapshot_date"], "to": res["to"]["snapshot_date"]})


@router.get("/roll-rates/trend", summary="Roll-forward and stay rates per month over N months")
def roll_rate_trend(request: Request, session: DbSession, _: Reader,
                    to_month: Annotated[str | None, Query(alias="to", description="last month, YYYY-MM")] = None,
                    months: Annotated[int, Query(ge=1, le=MAX_MONTHS)] = 12, format: FormatQ = Format.json):
    b = parse_month(to_month, "to") if to_month else _today(request).replace(day=1)
    res = analytics.roll_rate_trend(session, request.app.state.settings, b, months)
    return _respond("roll-rates-trend", res, format, f"{b:%Y-%m}_{months}m", {"to": f"{b:%Y-%m}", "months": months})


@router.get("/migration", summary="Five-category migration rates (IND-08) between two dates")
def migration(request: Request, session: DbSession, _: Reader, start: FromQ = None, end: ToQ = None,
              format: FormatQ = Format.json):
    if start is None and end is None:   # default: the last full month
        end = _today(request).replace(day=1) - dt.timedelta(days=1)
        start = end.replace(day=1) - dt.timedelta(days=1)
    start, end = _period(request, start, end)
    res = analytics.migration(session, request.app.state.settings, start, end)
    return _respond("migration", res, format, f"{start}_{end}", {"from": start, "to": end})


@router.get("/rates", summary="Cure, promise-kept, recovery and right-party-contact rates in a period")
def rates(request: Request, session: DbSession, _: Reader, start: FromQ = None, end: ToQ = None,
          format: FormatQ = Format.json):
    start, end = _period(request, start, end)
    res = analytics.rates(session, request.app.state.settings, start, end)
    return _respond("rates", res, format, f"{start}_{end}", {"from": start, "to": end})


@router.get("/collectors", summary="Collector and team KPIs in a period (IND-07; never ranked on amount alone)")
def collectors(request: Request, session: DbSession, user: CollectorsReader, start: FromQ = None,
               end: ToQ = None, team: str | None = None, format: FormatQ = Format.json):
    start, end = _period(request, start, end)
    own = user.id if user.role == Role.collector else None
    res = analytics.collectors(session, request.app.state.settings, start, end, only_user_id=own, team=team)
    return _respond("collectors", res, format, f"{start}_{end}", {"from": start, "to": end, "team": team})


@router.get("/notices", summary="Notice statistics in a period: queued, sent, delivered, failed, deferred")
def notices(request: Request, session: DbSession, _: Reader, start: FromQ = None, end: ToQ = None,
            channel: str | None = None, format: FormatQ = Format.json):
    start, end = _period(request, start, end)
    res = analytics.notices(session, start, end, channel)
    return _respond("notices", res, format, f"{start}_{end}", {"from": start, "to": end, "channel": channel})


@router.get("/stages", summary="Open cases by stage as of a date (from the snapshot)")
def stages(request: Request, session: DbSession, _: Reader, as_of: dt.date | None = None, by: By | None = None,
           format: FormatQ = Format.json):
    as_of = as_of or _today(request)
    res = analytics.stages(session, request.app.state.settings, as_of, by.value if by else None)
    return _respond("stages", res, format, as_of.isoformat(), {"as_of": as_of, "by": by})


@router.get("/trend", summary="Portfolio trend: loans, outstanding, overdue, PAR30/90, balance per bucket")
def trend(request: Request, session: DbSession, _: Reader, start: FromQ = None, end: ToQ = None,
          interval: Interval = Interval.month, format: FormatQ = Format.json):
    end = end or _today(request)
    if start is None:
        start = add_months(end.replace(day=1), -11) if interval == Interval.month else end - dt.timedelta(
            days=30)
    check_period(start, end)
    if interval == Interval.day and (end - start).days + 1 > MAX_DAY_POINTS:
        raise ValidationFailed(f"A daily trend covers at most {MAX_DAY_POINTS} days; "
                               "choose a shorter period or the monthly view.",
                               errors=[{"field": "from", "message": f"at most {MAX_DAY_POINTS} days"}])
    if interval == Interval.month and (end.year - start.year) * 12 + end.month - start.month + 1 > MAX_MONTHS:
        raise ValidationFailed(f"A monthly trend covers at most {MAX_MONTHS} months.",
                               errors=[{"field": "from", "message": f"at most {MAX_MONTHS} months"}])
    res = analytics.trend(session, request.app.state.settings, start, end, interval.value)
    return _respond("trend", res, format, f"{start}_{end}_{interval.value}",
                    {"from": start, "to": end, "interval": interval})
