"""The sweep's snapshot step (reports.snapshot.write_snapshot) on a whole book, against a floor.

Builds a fresh database with the synthetic book of bench/generate.py, runs the DPD pass for a date
(untimed), then times:

  floor      one bare ``UPDATE loan SET dpd = dpd + 0`` over every loan, committed (as bench_dpd.py)
  keyframe   ``write_snapshot`` on the first date of a month: a row for every loan
  next day   the DPD pass for the next business date (untimed), then ``write_snapshot``: only the loans
             whose state changed beyond the DPD tick get a row
  rerun      ``write_snapshot`` again for the same date (the ledger says done; nothing written)

  .venv/bin/python bench/bench_snapshot_write.py --loans 100000 --backend sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dpd import _maintain  # noqa: E402
from generate import generate  # noqa: E402
from scratch import scratch_database  # noqa: E402

from collections_svc.config import DpdSettings  # noqa: E402
from collections_svc.db import make_engine  # noqa: E402
from collections_svc.loans.dpd import run_dpd  # noqa: E402
from collections_svc.migrate import upgrade  # noqa: E402
from collections_svc.reports.snapshot import write_snapshot  # noqa: E402


def timed(engine, fn):
    start = time.perf_counter()
    with Session(engine) as s:
        out = fn(s)
        s.commit()
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=100_000)
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    url, drop = scratch_database(args.backend, "bench_snapshot")
    try:
        upgrade(url)
        engine = make_engine(url)
        d1, d2 = dt.date(2026, 4, 1), dt.date(2026, 4, 2)
        with engine.begin() as conn:
            generate(conn, args.loans, d1, log=lambda m: None)
        dpd = DpdSettings()
        timed(engine, lambda s: run_dpd(s, d1, dpd))
        _maintain(engine, args.backend)
        floor, _ = timed(engine, lambda s: s.connection().exec_driver_sql("UPDATE loan SET dpd = dpd + 0"))
        _maintain(engine, args.backend)
        t1, r1 = timed(engine, lambda s: write_snapshot(s, d1))
        timed(engine, lambda s: run_dpd(s, d2, dpd))
        _maintain(engine, args.backend)
        t2, r2 = timed(engine, lambda s: write_snapshot(s, d2))
        t3, r3 = timed(engine, lambda s: write_snapshot(s, d2))
        print(f"snapshot write, {args.loans:,} loans on {args.backend}; floor (UPDATE every loan) {floor:.2f} s")
        print(f"keyframe (first of month): {t1:.2f} s = {t1 / floor:.1f}x floor, {r1.rows_written:,} rows")
        print(f"next day:                  {t2:.2f} s = {t2 / floor:.1f}x floor, {r2.rows_written:,} rows")
        print(f"same day again:            {t3:.3f} s ({r3.status})")
        engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
