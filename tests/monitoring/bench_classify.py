"""Benchmark: classify_book over a synthetic book (not collected by pytest).

    .venv/bin/python -m tests.monitoring.bench_classify --loans 100000 [--url postgresql://...]

Prints seconds for the first run (every loan new: state rows + history), a re-run (nothing changes),
and a run after 5% of the loans moved DPD, each also as a ratio to a floor measured in the same run:
one plain ``UPDATE loan SET dpd = dpd`` over the whole book.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path

from sqlalchemy import text

from collections_svc.config import Settings
from collections_svc.db import make_engine, make_sessionmaker, session_scope
from collections_svc.loans.validators import uscc_check_char
from collections_svc.migrate import upgrade
from collections_svc.monitoring.classification import classify_book


def build(url: str, loans: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    eng = make_engine(url)
    borrowers = max(1, loans // 3)
    now = dt.datetime(2026, 1, 1)
    with eng.begin() as c:
        c.execute(
            text("""INSERT INTO borrower (id, external_id, name, uscc, group_id, timezone, language, version,
                          created_at, updated_at)
                          VALUES (:id, :ext, :name, :uscc, :g, 'Asia/Shanghai', 'zh_CN', 1,
                          :now, :now)"""),
            [
                {
                    "id": i,
                    "ext": f"B{i}",
                    "name": f"企业{i}",
                    "uscc": (b := f"91310000{i:09d}") + uscc_check_char(b),
                    "g": f"G{i // 5}" if i % 4 == 0 else None,
                    "now": now,
                }
                for i in range(1, borrowers + 1)
            ],
        )
        rows = []
        for i in range(1, loans + 1):
            r = rnd.random()
            dpd = 0 if r < 0.85 else rnd.randint(1, 30) if r < 0.93 else rnd.randint(31, 400)
            rows.append(
                {
                    "id": i,
                    "ext": f"L{i}",
                    "b": rnd.randint(1, borrowers),
                    "p": rnd.randint(10**6, 10**9),
                    "dpd": dpd,
                    "od": dpd * 1000,
                    "rst": rnd.random() < 0.01,
                    "now": now,
                }
            )
        c.execute(
            text("""INSERT INTO loan (id, external_id, borrower_id, contract_no, product, currency, principal,
                          annual_rate, disbursed_on, maturity_on, status, principal_paid, scheduled_principal,
                          overpayment, dpd, overdue_amount, restructured, restructure_count, version,
                          created_at,
                          updated_at)
                          VALUES (:id, :ext, :b, :ext, 'working_capital', 'CNY', :p, 0.04, '2024-01-01',
                          '2027-12-31', 'active', 0, :p, 0, :dpd, :od, :rst,
                          CASE WHEN :rst THEN 1 ELSE 0 END, 1,
                          :now, :now)"""),
            rows,
        )
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loans", type=int, default=100_000)
    ap.add_argument("--url", default="sqlite:///./var/bench_classify.db")
    a = ap.parse_args()
    if a.url.startswith("sqlite"):
        Path(a.url.split("///", 1)[1]).unlink(missing_ok=True)
    upgrade(a.url)
    t = time.perf_counter()
    build(a.url, a.loans)
    print(f"built {a.loans} loans in {time.perf_counter() - t:.1f}s")
    settings = Settings(database={"url": a.url})
    factory = make_sessionmaker(make_engine(a.url))
    with session_scope(factory) as s:
        t = time.perf_counter()
        s.execute(text("UPDATE loan SET dpd = dpd"))
        floor = time.perf_counter() - t
    d = dt.date(2026, 4, 1)
    for label, day in (("first run", d), ("re-run", d), ("after 5% moved", d + dt.timedelta(days=1))):
        if label.startswith("after"):
            with session_scope(factory) as s:
                s.execute(text("UPDATE loan SET dpd = dpd + 100 WHERE id % 20 = 0"))
        with session_scope(factory) as s:
            t = time.perf_counter()
            res = classify_book(s, day, settings)
            secs = time.perf_counter() - t
        print(
            f"{label:>15}: {secs:6.2f}s  ({secs / floor:5.1f}x floor {floor:.2f}s)  "
            f"changes={res.category_changes} new={res.new_loans} by_category={res.by_category}"
        )


if __name__ == "__main__":
    main()
