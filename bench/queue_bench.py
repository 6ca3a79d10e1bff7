"""Queue endpoint benchmark on PostgreSQL: 100k open cases, 16 concurrent clients, one worker.

Prints p50/p99 latency and requests/s of GET /api/v1/cases (priority order, page of 50) next to a bare
FastAPI endpoint doing one indexed read, measured in the same run, and the ratios between them.
Goal (issue 3): queue p99 < 50 ms; queue throughput >= 40% of the bare endpoint's.

    .venv/bin/python -m bench.queue_bench [--cases 100000] [--clients 16] [--requests 2000]

Creates and drops its own database (COLLECTIONS_TEST_PG admin DSN, default postgres@127.0.0.1).
Traffic goes to 127.0.0.1 only; every loop is bounded by a request count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx
import psycopg
from scratch import scratch_database  # bench/ is on sys.path when run as a script

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user, issue_token
from collections_svc.db import make_engine, make_sessionmaker, session_scope
from collections_svc.migrate import upgrade

STAGES = ["classified", "phone_reminder", "letter", "visit", "restructuring", "legal"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def populate(url: str, n: int) -> None:
    """n borrowers, loans and open cases, set-based (generate_series), plus a supervisor's token."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(
            """
            INSERT INTO borrower (id, external_id, name, uscc, region, timezone, language, version,
                                  created_at, updated_at)
            SELECT g, 'B' || g, 'Borrower ' || g, lpad(g::text, 18, '0'), 'r' || (g %% 10),
                   'Asia/Shanghai', 'zh_CN', 1, now(), now()
            FROM generate_series(1, %(n)s) g""",
            {"n": n},
        )
        c.execute(
            """
            INSERT INTO loan (id, external_id, borrower_id, contract_no, product, currency, principal,
                              annual_rate, disbursed_on, maturity_on, status, principal_paid,
                              scheduled_principal, overpayment, dpd, overdue_amount, oldest_unpaid_due_on,
                              bucket, restructured, restructure_count, version, created_at, updated_at)
            SELECT g, 'L' || g, g, 'HT' || g, 'working_capital', 'CNY',
                   100000000 + (g %% 997) * 100000, 0.0435,
                   DATE '2025-01-01', DATE '2027-01-01', 'active', 0, 0, 0,
                   1 + (g::bigint * 7919) %% 400, ((g::bigint * 104729) %% 500000) * 100,
                   DATE '2026-01-01', 'M2', false, 0, 1, now(), now()
            FROM generate_series(1, %(n)s) g""",
            {"n": n},
        )
        c.execute(
            """
            INSERT INTO collection_case (loan_id, borrower_id, stage, is_open, opened_on, stage_entered_on,
                                         team, next_action_on, broken_promises, version, created_at,
                                         updated_at)
            SELECT g, g,
                   (ARRAY['classified', 'phone_reminder', 'letter', 'visit', 'restructuring',
                          'legal'])[1 + g %% 6],
                   true, DATE '2026-03-01', DATE '2026-03-01', 'team' || (g %% 20),
                   DATE '2026-04-01' + (g %% 30), g %% 4, 1, now(), now()
            FROM generate_series(1, %(n)s) g""",
            {"n": n},
        )
        for t in ("borrower", "loan", "collection_case"):
            c.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
        c.execute("ANALYZE")


def make_token(url: str) -> str:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as s:
        user = create_user(s, username="bench_sup", password="bench-password-1", role=Role.supervisor)  # noqa: S106
        secret, _, _ = issue_token(s, user, kind="api", ttl=dt.timedelta(hours=2))
    engine.dispose()
    return secret


def serve(target: str, url: str, port: int, factory: bool) -> subprocess.Popen:
    env = {**os.environ, "COLLECTIONS_DATABASE__URL": url, "COLLECTIONS_LOG_LEVEL": "WARNING"}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


def load(make_url, headers: dict, clients: int, total: int) -> tuple[list[float], float]:
    """``total`` requests spread over ``clients`` threads; returns latencies (s) and wall time (s)."""
    per = total // clients
    lat: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    barrier = threading.Barrier(clients + 1)

    def worker(k: int) -> None:
        rnd = random.Random(k)
        mine = []
        with httpx.Client(headers=headers, timeout=30) as cl:
            cl.get(make_url(rnd))  # connect and warm up
            barrier.wait()
            for _ in range(per):
                t0 = time.perf_counter()
                r = cl.get(make_url(rnd))
                mine.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return lat, wall


def pct(values: list[float], p: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()

    url, drop = scratch_database("postgresql", "cs_bench")
    procs: list[subprocess.Popen] = []
    try:
        t0 = time.perf_counter()
        upgrade(url)
        populate(url, args.cases)
        token = make_token(url)
        print(f"database: {args.cases} open cases ready in {time.perf_counter() - t0:.1f} s")
        headers = {"Authorization": f"Bearer {token}"}
        results = {}
        port = _free_port()
        procs.append(serve("bench.bare_app:app", url, port, factory=False))
        results["bare"] = load(
            lambda r: f"http://127.0.0.1:{port}/bare/{r.randint(1, args.cases)}",
            {},
            args.clients,
            args.requests,
        )
        procs.pop().terminate()
        port = _free_port()
        procs.append(serve("collections_svc.main:create_app", url, port, factory=True))

        def queue_url(r: random.Random) -> str:
            return f"http://127.0.0.1:{port}/api/v1/cases?page={r.randint(1, 5)}&size=50"

        results["queue"] = load(queue_url, headers, args.clients, args.requests)

        def team_url(r: random.Random) -> str:
            return (
                f"http://127.0.0.1:{port}/api/v1/cases?team=team{r.randint(0, 19)}&stage=letter"
                f"&dpd_min=30&sort=-overdue_amount&size=50"
            )

        results["queue_filtered"] = load(team_url, headers, args.clients, args.requests)
        print(f"{'endpoint':16} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'req/s vs bare':>14}")
        bare_rps = len(results["bare"][0]) / results["bare"][1]
        for k, (lat, wall) in results.items():
            rps = len(lat) / wall
            p50, p99 = pct(lat, 50) * 1000, pct(lat, 99) * 1000
            print(f"{k:16} {p50:8.1f} {p99:8.1f} {rps:8.0f} {rps / bare_rps:13.0%}")
        q99 = pct(results["queue"][0], 99) * 1000
        ratio = len(results["queue"][0]) / results["queue"][1] / bare_rps
        print(
            f"goal p99 < 50 ms: {'met' if q99 < 50 else 'NOT met'} ({q99:.1f} ms); "
            f"goal throughput >= 40% of bare: {'met' if ratio >= 0.4 else 'NOT met'} ({ratio:.0%})"
        )
    finally:
        for p in procs:
            p.terminate()
        drop()


if __name__ == "__main__":
    main()
