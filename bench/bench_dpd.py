"""Whole-book DPD pass against a floor measured in the same run.

Builds a fresh database (SQLite file under bench/out/, or a throw-away PostgreSQL database that is
dropped at the end), migrates it with Alembic, generates a synthetic book (bench/generate.py), then times:

  floor         one bare ``UPDATE loan SET dpd = dpd + 0`` over every loan (the cheapest statement that
                touches every row of the table the pass writes), committed; run before every pass and
                the median taken, so load on the machine hits floor and passes alike
  first pass    ``loans.dpd.run_dpd`` on a book that was never computed (every loan gets a bucket)
  next day      ``run_dpd`` for each of the next three business dates (what the nightly sweep does)
  same day      ``run_dpd`` again for the last date (idempotent re-run, e.g. a retried sweep)

and prints each time with its ratio to the floor. Goal: the DPD pass within 3x of the floor.

  .venv/bin/python bench/bench_dpd.py --loans 100000 --backend sqlite
  .venv/bin/python bench/bench_dpd.py --loans 1000000 --backend postgresql
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402
from scratch import scratch_database  # noqa: E402

from collections_svc.config import DpdSettings  # noqa: E402
from collections_svc.db import make_engine  # noqa: E402
from collections_svc.loans.dpd import run_dpd  # noqa: E402
from collections_svc.migrate import upgrade  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
NIGHTS = 3  # consecutive business dates after the first pass


def main() -> None:
    ap = argparse.ArgumentParser(description="Whole-book DPD pass vs one bare UPDATE (the floor).")
    ap.add_argument("--loans", type=int, default=100_000)
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--as-of", default="2026-04-01")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards (prints its URL)")
    args = ap.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)

    url, drop = scratch_database(args.backend, "bench_dpd")
    try:
        _run(url, args.backend, args.loans, as_of)
    finally:
        if args.keep:
            print(f"database kept: {url}")
        else:
            drop()


def _maintain(engine, backend: str) -> None:
    """Untimed housekeeping between measurements so each starts from a clean table (no dead rows)."""
    if backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE loan")
            c.exec_driver_sql("VACUUM ANALYZE loan_bucket_history")
    else:
        with engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _timed(engine, fn) -> tuple[float, object]:
    start = time.perf_counter()
    with Session(engine) as s:
        out = fn(s)
        s.commit()
    return time.perf_counter() - start, out


def _run(url: str, backend: str, loans: int, as_of: dt.date) -> None:
    print(f"DPD benchmark: {loans:,} loans on {backend} (as of {as_of})")
    upgrade(url)
    engine = make_engine(url)
    t = time.perf_counter()
    with engine.begin() as conn:
        counts = generate(conn, loans, as_of)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE")
    print(f"  generated {counts} in {time.perf_counter() - t:.1f}s")
    settings = DpdSettings()

    def floor(s: Session) -> int:
        return s.execute(text("UPDATE loan SET dpd = dpd + 0")).rowcount

    def dpd_on(day: dt.date):
        return lambda s: run_dpd(s, day, settings)

    # Floors interleave with the passes so that load on the machine hits both alike.
    steps = [("floor", floor), ("run_dpd first pass (fresh book)", dpd_on(as_of))]
    for k in range(1, NIGHTS + 1):
        steps += [("floor", floor), (f"run_dpd next day (+{k})", dpd_on(as_of + dt.timedelta(days=k)))]
    last = as_of + dt.timedelta(days=NIGHTS)
    steps += [("floor", floor), (f"run_dpd same day again (+{NIGHTS})", dpd_on(last))]
    results = []
    for name, fn in steps:
        _maintain(engine, backend)
        secs, out = _timed(engine, fn)
        results.append((name, secs, out))
        print(f"  {name}: {secs:.2f}s")
    floor_s = statistics.median(secs for name, secs, _ in results if name == "floor")
    nightly = statistics.median(secs for name, secs, _ in results if name.startswith("run_dpd next day"))

    with engine.connect() as c:
        spread = c.execute(text("SELECT bucket, COUNT(*) FROM loan GROUP BY bucket ORDER BY bucket")).all()
    engine.dispose()

    print()
    print(f"{'step':<40} {'seconds':>8} {'x floor':>8}  rows")
    print("-" * 78)
    for name, secs, out in results:
        rows = out if isinstance(out, int) else (
            f"changed {out.loans_changed:,}, reset {out.loans_reset:,}, moves {out.bucket_moves:,}")
        print(f"{name:<40} {secs:>8.2f} {secs / floor_s:>8.2f}  {rows}")
    print("-" * 78)
    print(f"floor = {floor_s:.2f}s: median of {NIGHTS + 2} runs of UPDATE loan SET dpd = dpd + 0 "
          f"over {loans:,} loans")
    print(f"nightly DPD pass = {nightly:.2f}s (median of {NIGHTS}) = {nightly / floor_s:.2f}x floor; "
          "goal within 3.0x")
    print("buckets after the run: " + ", ".join(f"{b}={n:,}" for b, n in spread))


if __name__ == "__main__":
    main()
