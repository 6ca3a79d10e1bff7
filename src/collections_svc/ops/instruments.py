"""Process-side Prometheus instruments (counters and gauges that live in one process).

Kept free of web imports so the dispatcher, the scheduler and db.py can record without pulling in
FastAPI. With ``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts), prometheus-client writes
these values to files in that directory and ``GET /metrics`` merges every process on the machine
(serve workers, dispatch workers, schedulers) through ``MultiProcessCollector``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DISPATCH_RESULTS = Counter(
    "collections_notice_dispatch_results",
    "Outcomes of notice dispatch by this process: sent, retry, failed, unknown, deferred, released, "
    "reconciled_sent, reconciled_requeued; error_code is the provider's code (or the gate's reason).",
    ["outcome", "error_code"],
)
SCHEDULER_LEADER = Gauge(
    "collections_scheduler_is_leader",
    "1 while this scheduler process holds the leader lock, 0 while it is standby.",
    multiprocess_mode="liveall",
)
DB_TIMEOUTS = Counter(
    "collections_db_timeouts",
    "Statements cancelled by PostgreSQL's statement_timeout or lock_timeout, by kind.",
    ["kind"],
)


def dispatch_result(outcome: str, error_code: str | None = None) -> None:
    DISPATCH_RESULTS.labels(outcome, error_code or "").inc()
