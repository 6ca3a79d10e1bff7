"""Prometheus metrics at GET /metrics.

Two kinds of metrics:

* Request latency, recorded by a small ASGI middleware into a process-wide histogram labelled by the
  route's path template (``/api/v1/cases/{case_id}``, never the raw path), the method and the status
  class (2xx, 4xx, ...), so the number of series stays bounded. With ``PROMETHEUS_MULTIPROC_DIR`` set
  (several uvicorn workers), prometheus-client keeps the values in files there and a scrape merges every
  process's values through ``MultiProcessCollector``.
* Process instruments (ops/instruments.py): dispatch results by outcome and error code, scheduler
  leadership (1/0 per process), statement/lock timeouts. Same multiprocess handling as the latency.
* Book and queue gauges computed from the database at scrape time (cheap COUNT queries): outbox depth
  by status, age of the oldest queued/deferred notice, open cases per stage, the latest sweep's status,
  finish time, duration, per-step seconds and counts (from the run ledger), and how many scheduler
  processes hold the leader lock (PostgreSQL: pg_locks). They are the same whichever process
  answers, so they need no multiprocess handling and work across machines.

Authentication: a signed-in admin or integration user, or the long-lived scrape token
``COLLECTIONS_SECURITY__METRICS_TOKEN`` sent as ``Authorization: Bearer <token>`` (it opens /metrics
and nothing else).
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import time
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from collections_svc.auth.deps import DbSession, RoleGuard, current_user
from collections_svc.auth.models import Role
from collections_svc.ops import instruments  # noqa: F401 - registers the process instruments

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

    def __init__(self, session: Session, now: Callable[[], dt.datetime], lock_key: int | None = None) -> None:
        self.session = session
        self.now = now
        self.lock_key = lock_key

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
        yield from self._sweep_detail(last_date)
        yield from self._leaders()
        day = GaugeMetricFamily("collections_sweep_last_business_date_timestamp_seconds",
                                "The latest business date with a sweep run (midnight UTC of that date, Unix "
                                "time; 0 when never swept).")
        day.add_metric([], dt.datetime.combine(last_date, dt.time(), dt.UTC).timestamp() if last_date else 0.0)
        yield day


    def _sweep_detail(self, last_date: dt.date | None) -> Iterator[GaugeMetricFamily]:
        from collections_svc.sweep.models import SweepRun
        from collections_svc.sweep.service import COUNT_FIELDS
        runs = self.session.scalars(select(SweepRun).where(SweepRun.business_date == last_date)).all() \
            if last_date else []
        duration = GaugeMetricFamily("collections_sweep_last_duration_seconds",
                                     "Wall time of each partition's run for the latest swept business date.",
                                     labels=["business_date", "partition"])
        steps = GaugeMetricFamily("collections_sweep_last_step_seconds",
                                  "Seconds spent in each sweep step (dpd, classification, open, cure, promises, "
                                  "strategy, ...) for the latest swept business date.",
                                  labels=["business_date", "partition", "step"])
        counts = GaugeMetricFamily("collections_sweep_last_count",
                                   "What the latest swept business date's run did, per partition: loans "
                                   "evaluated, cases opened/escalated/cured, notices queued, promises broken, "
                                   "errors.", labels=["business_date", "partition", "figure"])
        for r in runs:
            key = [r.business_date.isoformat(), r.partition]
            if r.finished_at is not None:
                duration.add_metric(key, (_aware(r.finished_at) - _aware(r.started_at)).total_seconds())
            for step, secs in ((r.stats or {}).get("seconds") or {}).items():
                steps.add_metric([*key, step], float(secs))
            for f in (*COUNT_FIELDS, "error_count"):
                counts.add_metric([*key, f], float(getattr(r, f, 0) or 0))
        yield duration
        yield steps
        yield counts

    def _leaders(self) -> Iterator[GaugeMetricFamily]:
        if self.session.get_bind().dialect.name != "postgresql" or self.lock_key is None:
            return
        held = self.session.execute(text(
            # This database only: other databases on the cluster (staging, tests) use the same key.
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((classid::bigint << 32) | objid::bigint) = :k"), {"k": self.lock_key}).scalar_one()
        g = GaugeMetricFamily("collections_scheduler_leaders",
                              "Scheduler processes holding the leader lock (PostgreSQL advisory lock); "
                              "1 is healthy, 0 means no scheduler is active.")
        g.add_metric([], float(held))
        yield g


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


class ScrapeGuard(RoleGuard):
    """The scrape token (if configured) or a signed-in admin / integration user. A RoleGuard, so the
    route table (tests/auth/test_route_table.py) sees who may call /metrics."""

    def __call__(self, request: Request, session: DbSession) -> None:  # type: ignore[override]
        token = request.app.state.settings.security.metrics_token.get_secret_value()
        header = request.headers.get("authorization", "")
        if token and header[:7].lower() == "bearer " and hmac.compare_digest(header[7:].strip().encode(),
                                                                             token.encode()):
            return
        super().__call__(current_user(request, session))


scrape_guard = ScrapeGuard((Role.admin, Role.integration))


@router.get("/metrics", summary="Prometheus metrics (scrape token, admin or integration account)",
            response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request, session: DbSession, _auth: Annotated[None, Depends(scrape_guard)]) -> Response:
    settings = request.app.state.settings
    db = CollectorRegistry(auto_describe=False)
    db.register(DatabaseCollector(session, request.app.state.clock.now, settings.scheduler.advisory_lock_key))
    return Response(process_metrics_text() + generate_latest(db), media_type=CONTENT_TYPE_LATEST)


def install(app) -> None:
    """Mount /metrics and the latency middleware on the application."""
    app.include_router(router)
    app.add_middleware(MetricsMiddleware)
