"""Prometheus metrics at GET /metrics.

Two kinds of metrics:

* Request latency, recorded by a small ASGI middleware into a process-wide histogram labelled by the
  route's path template (``/api/v1/cases/{case_id}``, never the raw path), the method and the status
  class (2xx, 4xx, ...), so the number of series stays bounded. With ``PROMETHEUS_MULTIPROC_DIR`` set
  (several uvicorn workers), prometheus-client keeps the values in files there and a scrape merges every
  process's values through ``MultiProcessCollector``.
* Book and queue gauges computed from the database at scrape time (cheap COUNT queries): outbox depth
  by status, age of the oldest queued/deferred notice, open cases per stage, the latest sweep's status
  and finish time. They are the same whichever process answers, so they need no multiprocess handling.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collections_svc.auth.deps import DbSession, allow
from collections_svc.auth.models import Role, User

REQUEST_LATENCY = Histogram(
    "collections_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
UNMATCHED = "<unmatched>"  # 404s and anything no route answered: one series, whatever the path


class MetricsMiddleware:
    """Pure ASGI middleware: times each HTTP request and labels it by the route template that answered."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            if route is not None and not hasattr(route, "endpoint"):  # a Mount (the UI's static files)
                template = (template.rstrip("/") or "") + "/*"
            REQUEST_LATENCY.labels(template, scope.get("method", ""), f"{status[0] // 100}xx").observe(
                time.perf_counter() - start)


class DatabaseCollector(Collector):
    """Gauges read from the database on each scrape."""

    def __init__(self, session: Session, now: Callable[[], dt.datetime]) -> None:
        self.session = session
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from collections_svc.cases.models import OPEN_STAGES, Case
        from collections_svc.notices.models import DUE_STATUSES, STATUSES, Notice
        from collections_svc.sweep.models import SweepRun
        s = self.session

        depth = GaugeMetricFamily("collections_outbox_notices", "Notices in the outbox by status.",
                                  labels=["status"])
        counts = dict(s.execute(select(Notice.status, func.count()).group_by(Notice.status)).all())
        for status in (*STATUSES, *sorted(set(counts) - set(STATUSES))):
            depth.add_metric([status], counts.get(status, 0))
        yield depth

        oldest = s.scalar(select(func.min(Notice.created_at)).where(Notice.status.in_(DUE_STATUSES)))
        age = GaugeMetricFamily("collections_outbox_oldest_pending_age_seconds",
                                "Age of the oldest queued or deferred notice (0 when none is pending).")
        age.add_metric([], max(0.0, (self.now() - _aware(oldest)).total_seconds()) if oldest else 0.0)
        yield age

        cases = GaugeMetricFamily("collections_open_cases", "Open collection cases per stage.", labels=["stage"])
        per_stage = dict(s.execute(select(Case.stage, func.count()).where(Case.is_open.is_(True))
                                   .group_by(Case.stage)).all())
        for stage in (*OPEN_STAGES, *sorted(set(per_stage) - set(OPEN_STAGES))):
            cases.add_metric([stage], per_stage.get(stage, 0))
        yield cases

        last_date = s.scalar(select(func.max(SweepRun.business_date)))
        runs = s.execute(select(SweepRun.partition, SweepRun.status, SweepRun.finished_at)
                         .where(SweepRun.business_date == last_date)).all() if last_date else []
        status = GaugeMetricFamily("collections_sweep_last_run_status",
                                   "Status of each partition's run for the latest swept business date (1 = "
                                   "this status).", labels=["business_date", "partition", "status"])
        for partition, st, _ in runs:
            status.add_metric([last_date.isoformat(), partition, st], 1)
        yield status
        finished = [f for _, _, f in runs if f is not None]
        done = GaugeMetricFamily("collections_sweep_last_finished_timestamp_seconds",
                                 "When the latest swept business date's last partition finished (Unix time; "
                                 "0 when none finished).")
        done.add_metric([], max(_aware(f) for f in finished).timestamp() if finished else 0.0)
        yield done
        day = GaugeMetricFamily("collections_sweep_last_business_date_timestamp_seconds",
                                "The latest business date with a sweep run (midnight UTC of that date, Unix "
                                "time; 0 when never swept).")
        day.add_metric([], dt.datetime.combine(last_date, dt.time(), dt.UTC).timestamp() if last_date else 0.0)
        yield day


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def process_metrics_text() -> bytes:
    """This process's metrics, or every worker's merged when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


router = APIRouter(tags=["ops"])


@router.get("/metrics", summary="Prometheus metrics (admin or integration account)",
            response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request, session: DbSession,
            _user: Annotated[User, Depends(allow(Role.admin, Role.integration))]) -> Response:
    db = CollectorRegistry(auto_describe=False)
    db.register(DatabaseCollector(session, request.app.state.clock.now))
    return Response(process_metrics_text() + generate_latest(db), media_type=CONTENT_TYPE_LATEST)


def install(app) -> None:
    """Mount /metrics and the latency middleware on the application."""
    app.include_router(router)
    app.add_middleware(MetricsMiddleware)
