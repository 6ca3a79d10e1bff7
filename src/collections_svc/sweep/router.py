"""Sweep API: run or preview a close-of-business sweep; history, last status and next run time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from collections_svc.auth.deps import READERS, DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.common.clock import business_date
from collections_svc.errors import Forbidden, ValidationFailed
from collections_svc.scheduler.jobs import closed_business_date, next_sweep_at
from collections_svc.strategy import service as strategy_service
from collections_svc.strategy.rules import parse_strategy
from collections_svc.sweep import service
from collections_svc.sweep.schemas import SweepHistory, SweepRequest, SweepResult, SweepRunOut

router = APIRouter(prefix="/api/v1/sweeps", tags=["sweep"])
Runner = Annotated[User, Depends(allow(Role.admin, Role.supervisor))]
Reader = Annotated[User, Depends(allow(*READERS))]


@router.post("", response_model=SweepResult,
             summary="Run the sweep for a business date (admin), or preview it with dry_run "
                     "(admin, supervisor)")
def run_sweep(body: SweepRequest, request: Request, session: DbSession, user: Runner):
    st = request.app.state
    if not body.dry_run and user.role != Role.admin:
        raise Forbidden("Only an administrator may run the sweep for real; supervisors may preview it "
                        "with dry_run.")
    strategy = None
    if body.strategy_version:
        strategy = parse_strategy(strategy_service.get_version(session, body.strategy_version).document, None)
    day = body.as_of or closed_business_date(st.clock.now(), st.settings)
    today = business_date(st.clock.now(), st.settings.bank.timezone)
    if not body.dry_run and day > today:
        raise ValidationFailed(f"{day} has not begun yet (today is {today}); only a dry run may look ahead.",
                               errors=[{"field": "as_of", "message": "a future business date"}])
    report = service.run_sweep(session, day, st.settings, partition=service.Partition.parse(body.partition),
                               dry_run=body.dry_run, actor=actor_of(user), strategy=strategy)
    return SweepResult(**{k: v for k, v in report.as_dict().items()
                          if k in SweepResult.model_fields})


@router.get("", response_model=SweepHistory,
            summary="Sweep history, the last run's status and the next run time")
def sweep_history(request: Request, session: DbSession, _: Reader,
                  limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)):
    st = request.app.state
    rows, total = service.history(session, limit, offset)
    now = st.clock.now()
    last = rows[0] if rows and offset == 0 else None
    return SweepHistory(items=[SweepRunOut.model_validate(r) for r in rows], total=total,
                        last_run=SweepRunOut.model_validate(last) if last else None,
                        next_run_at=next_sweep_at(st.settings, now),
                        pending_dates=service.pending_dates(session, closed_business_date(now, st.settings),
                                                            st.settings))
