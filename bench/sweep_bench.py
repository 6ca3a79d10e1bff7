"""Benchmark the close-of-business sweep against a synthetic book, with a floor from the same run.

    .venv/bin/python bench/sweep_bench.py --backend postgresql --loans 250000,1000000
    .venv/bin/python bench/sweep_bench.py --backend sqlite --loans 25000,100000
    .venv/bin/python bench/sweep_bench.py --backend postgresql --loans 1000000 --workers 1,2,4

With ``--workers`` (PostgreSQL): the book is generated once into a template database; for each worker
count W a copy is made (CREATE DATABASE ... TEMPLATE) and W real ``collections-svc sweep --partition K/W``
processes sweep night 1 in parallel. Prints the wall time, the speed-up over one worker and the floor.
The speed-up is bounded by the cores of the machine (PostgreSQL's backends and our processes share
them): on a 2-core machine expect at most about 2x, whatever W.

For each size: builds a fresh database with the real migrations, generates the book with set-based
SQL (about --overdue of loans past due, DPD spread 1..100), then times
  floor   one bare UPDATE touching every loan (the cheapest possible pass over the book),
  night 1 the first sweep (DPD for the book, every overdue loan gets a case, strategy evaluation),
  night 2 the next date (steady state: DPD again, strategy over the open cases, few changes),
and prints seconds, the ratio to the floor and the process's peak RSS. Tests never assert times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.scratch import PG_ADMIN, scratch_database  # noqa: E402
from collections_svc.config import Settings  # noqa: E402
from collections_svc.db import make_engine, make_sessionmaker  # noqa: E402
from collections_svc.migrate import upgrade  # noqa: E402
from collections_svc.sweep.service import run_sweep_job  # noqa: E402

AS_OF = dt.date(2026, 6, 30)


def new_database(backend: str, tmp: Path) -> tuple[str, Callable[[], None]]:
    return scratch_database(backend, "cs_bench", sqlite_dir=tmp)


def _pg_defer_indexes(c, tables: tuple[str, ...]) -> list[str]:
    """Drop secondary indexes and foreign keys of TABLES; return the statements that rebuild them.
    Loading first and indexing once afterwards is several times faster than maintaining them row by row."""
    rebuild: list[str] = []
    for t in tables:
        for name, ddl in c.execute(text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"), {"t": t}).all():
            c.execute(text(f'ALTER TABLE {t} DROP CONSTRAINT "{name}"'))
            rebuild.append(f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {ddl}')
        for name, ddl in c.execute(text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = :t AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)"), {"t": t}).all():
            c.execute(text(f'DROP INDEX "{name}"'))
            rebuild.insert(0, ddl)  # indexes before the foreign keys that use them
    return rebuild


def generate(engine, n: int, overdue_every: int) -> None:
    pg = engine.dialect.name == "postgresql"
    series = "generate_series(1, :n) AS s(x)" if pg else "s"
    with_s = "" if pg else "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < :n) "
    pad = (lambda e, w: f"lpad(({e})::text, {w}, '0')") if pg else \
          (lambda e, w: f"substr('{'0' * w}' || ({e}), -{w})")
    def past(k):
        return f"(DATE '{AS_OF}' - ({k}))" if pg else f"date('{AS_OF}', '-' || ({k}) || ' days')"

    def future(k):
        return f"(DATE '{AS_OF}' + ({k}))" if pg else f"date('{AS_OF}', '+' || ({k}) || ' days')"

    d0, d1 = ("DATE '2025-06-30'", "DATE '2027-06-30'") if pg else ("'2025-06-30'", "'2027-06-30'")
    nb = max(1, n // 10)
    with engine.begin() as c:
        rebuild = _pg_defer_indexes(c, ("borrower", "loan", "installment")) if pg else []
        c.execute(text(f"""{with_s}INSERT INTO borrower (id, external_id, name, uscc, timezone, language,
                           version, created_at, updated_at, region, segment)
            SELECT x, 'B' || x, 'Bench borrower ' || x, '91' || {pad('x', 16)}, 'Asia/Shanghai', 'zh_CN', 1,
                   CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'region' || (x % 7), 'sme'
            FROM {series}"""), {"n": nb})
        c.execute(text(f"""{with_s}INSERT INTO loan (id, external_id, borrower_id, contract_no, product,
                           currency, principal, annual_rate, disbursed_on, maturity_on, status,
                           principal_paid,
                           scheduled_principal, overpayment, dpd, overdue_amount, restructured,
                           restructure_count, version, created_at, updated_at)
            SELECT x, 'L' || x, 1 + (x % {nb}), 'HT' || x, 'working_capital', 'CNY', 100000000, 0.0435,
                   {d0}, {d1}, 'active', 0, 100000000, 0, 0, 0, false, 0, 1,
                   CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
            FROM {series}"""), {"n": n})
        c.execute(text(f"""{with_s}INSERT INTO installment (loan_id, seq, due_on, principal_due, interest_due,
                           penalty_due, principal_paid, interest_paid, penalty_paid)
            SELECT x, 1, CASE WHEN x % {overdue_every} = 0 THEN {past('1 + x % 100')}
                              ELSE {future('1 + x % 28')} END,
                   50000000, 2000000, 0, 0, 0, 0 FROM {series}"""), {"n": n})
        c.execute(text(f"""{with_s}INSERT INTO installment (loan_id, seq, due_on, principal_due, interest_due,
                           penalty_due, principal_paid, interest_paid, penalty_paid)
            SELECT x, 2, {future('365')}, 50000000, 2000000, 0, 0, 0, 0 FROM {series}"""), {"n": n})
        for ddl in rebuild:
            c.execute(text(ddl))
        if pg:
            for t in ("borrower", "loan"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                               f"(SELECT MAX(id) FROM {t}))"))
    with engine.connect() as c:
        if pg:
            c.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            c.exec_driver_sql("ANALYZE")


def floor(engine) -> float:
    t = time.perf_counter()
    with engine.begin() as c:
        c.execute(text("UPDATE loan SET overdue_amount = overdue_amount"))
    return time.perf_counter() - t


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def partitioned(args) -> None:
    """The nightly sweep over one book with 1, 2, 4... parallel `collections-svc sweep --partition K/W`
    processes. Night 1 (every overdue loan opens a case: per-case work) runs once, whole-book, in the
    template; each copy then sweeps night 2 (the steady state every other night looks like)."""
    import subprocess
    workers = [int(x) for x in args.workers.split(",")]
    exe = str(Path(sys.executable).with_name("collections-svc"))
    day2 = AS_OF + dt.timedelta(days=1)
    print(f"load average before: {tuple(round(x, 1) for x in os.getloadavg())}; cores: {os.cpu_count()}")
    for n in [int(x) for x in args.loans.split(",")]:
        tmpl_url, drop_tmpl = new_database("postgresql", Path(args.tmp))
        try:
            upgrade(tmpl_url)
            engine = make_engine(tmpl_url, statement_timeout_ms=0)
            t = time.perf_counter()
            generate(engine, n, args.overdue_every)
            gen = time.perf_counter() - t
            settings = Settings(env="test", database={"url": tmpl_url}, sweep={"preview_limit": 0})
            t = time.perf_counter()
            r1 = run_sweep_job(make_sessionmaker(engine), AS_OF, settings)
            n1 = time.perf_counter() - t
            assert r1.status == "succeeded", r1.errors[:3]
            with engine.connect() as c:
                c.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            engine.dispose()
            print(f"{n:,} loans: generated in {gen:.1f} s; night 1 (one process, {r1.counts['cases_opened']:,} "
                  f"cases opened) {n1:.1f} s; steps {r1.stats.get('seconds')}", flush=True)
            print(f"{'loans':>9} {'workers':>7} {'floor s':>8} {'night2 s':>9} {'x floor':>8} {'speed-up':>8} "
                  f"{'load avg':>9}", flush=True)
            tmpl = tmpl_url.rsplit("/", 1)[1]
            base = None
            for w in workers:
                name = f"cs_bench_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                    c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"')
                url = tmpl_url.rsplit("/", 1)[0] + "/" + name
                try:
                    eng = make_engine(url, statement_timeout_ms=0)
                    fl = min(floor(eng) for _ in range(3))
                    env = {**os.environ, "COLLECTIONS_ENV": "test", "COLLECTIONS_DATABASE__URL": url,
                           "COLLECTIONS_SWEEP__PREVIEW_LIMIT": "0"}
                    t = time.perf_counter()
                    procs = [subprocess.Popen([exe, "sweep", "--as-of", day2.isoformat(), "--partition", f"{k}/{w}"],
                                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                             for k in range(w)]
                    for p in procs:
                        _, errout = p.communicate()
                        assert p.returncode == 0, errout.decode()[-2000:]
                    wall = time.perf_counter() - t
                    with eng.connect() as c:
                        runs = c.execute(text("SELECT status, errors FROM sweep_run WHERE business_date = :d"),
                                         {"d": day2}).all()
                    assert len(runs) == w and {r[0] for r in runs} == {"succeeded"}, [
                        (r[0], (r[1] or [])[:2]) for r in runs]
                    base = base or wall
                    print(f"{n:>9} {w:>7} {fl:>8.2f} {wall:>9.2f} {wall / fl:>8.1f} {base / wall:>8.2f} "
                          f"{os.getloadavg()[0]:>9.1f}", flush=True)
                    eng.dispose()
                finally:
                    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            drop_tmpl()
    print(f"The speed-up is bounded by the {os.cpu_count()} cores of this machine, which PostgreSQL, every "
          "sweep process and the other work on the machine share; partitions also take turns from the "
          "book-wide classification on (sweep/service.py _book_wide_turn).")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--loans", default="100000", help="comma-separated book sizes")
    ap.add_argument("--overdue-every", type=int, default=20, help="1 loan in N is overdue (20 = 5%%)")
    ap.add_argument("--tmp", default=str(ROOT / "var"))
    ap.add_argument("--workers", default="", help="e.g. 1,2,4: partitioned night 1 in parallel processes (PG)")
    args = ap.parse_args()
    if args.workers:
        partitioned(args)
        return
    print(f"backend={args.backend} overdue=1/{args.overdue_every}")
    print(f"{'loans':>9} {'gen s':>7} {'floor s':>8} {'night1 s':>9} {'x floor':>8} {'opened':>7} "
          f"{'night2 s':>9} {'x floor':>8} {'escal.':>7} {'peak MB':>8}")
    for n in [int(x) for x in args.loans.split(",")]:
        url, drop = new_database(args.backend, Path(args.tmp))
        try:
            upgrade(url)
            engine = make_engine(url, statement_timeout_ms=0)
            t = time.perf_counter()
            generate(engine, n, args.overdue_every)
            gen = time.perf_counter() - t
            fl = min(floor(engine) for _ in range(3))
            settings = Settings(env="test", database={"url": url}, sweep={"preview_limit": 0})
            factory = make_sessionmaker(engine)
            t = time.perf_counter()
            r1 = run_sweep_job(factory, AS_OF, settings)
            n1 = time.perf_counter() - t
            t = time.perf_counter()
            r2 = run_sweep_job(factory, AS_OF + dt.timedelta(days=1), settings)
            n2 = time.perf_counter() - t
            assert r1.status == "succeeded" and r2.status == "succeeded", (r1.errors[:3], r2.errors[:3])
            print(f"{n:>9} {gen:>7.1f} {fl:>8.2f} {n1:>9.2f} {n1 / fl:>8.1f} {r1.counts['cases_opened']:>7} "
                  f"{n2:>9.2f} {n2 / fl:>8.1f} {r2.counts['cases_escalated']:>7} {peak_mb():>8.0f}")
            print(f"          night1 steps {r1.stats.get('seconds')}; night2 steps {r2.stats.get('seconds')}")
            engine.dispose()
        finally:
            drop()


if __name__ == "__main__":
    main()
