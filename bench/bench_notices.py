"""Notice dispatch throughput against the local fake Twilio, and letter rendering time.

Builds a fresh database (SQLite file under bench/out/ or a throw-away PostgreSQL database), migrates it,
writes M outbox notices with distinct bodies, starts the fake Twilio (tests/fakes) and times:

  floor (SMS)    one process sending M messages straight through the real twilio client to the fake
                 (no database): what the fake + SDK can do per process
  dispatch xN    N dispatcher processes (collections_svc.notices.worker.run) draining the outbox:
                 claim, gates, attempt row committed before the call, send, SID stored after
  floor (PDF)    WeasyPrint rendering a one-line Chinese HTML page with the same font
  letter         the zh_CN first_demand letter (催收函), rendered to PDF

and prints messages/s and ms/letter with ratios to the floors. Checks that the fake saw every notice
exactly once. Goals (issue 5): >= 300 SMS/s, < 150 ms per letter, no duplicate.

  .venv/bin/python bench/bench_notices.py --notices 2000 --dispatchers 1,2,4 --backend sqlite
  .venv/bin/python bench/bench_notices.py --backend postgresql
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import multiprocessing as mp
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from tests.fakes.twilio_fake import FakeTwilio  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from collections_svc.cases.models import Case  # noqa: E402
from collections_svc.config import Settings  # noqa: E402
from collections_svc.db import make_engine, make_sessionmaker  # noqa: E402
from collections_svc.loans.models import Borrower, Contact, ContactRole, Loan, Product  # noqa: E402
from collections_svc.migrate import upgrade  # noqa: E402
from collections_svc.notices.models import Notice  # noqa: E402

OUT = ROOT / "bench" / "out"


def settings_for(url: str, fake_url: str) -> dict:
    return {
        "env": "test",
        "database": {"url": url},
        "public_base_url": "https://bench.example.com",
        "twilio": {
            "account_sid": "ACbench",
            "auth_token": "bench-token",
            "from_number": "+15005550006",
            "api_base_url": fake_url,
        },
        "notices": {
            "allowed_start": "00:00",
            "allowed_end": "23:59",
            "holidays_enabled": False,
            "letters_dir": str(OUT / "letters"),
            "console_outbox": str(OUT / "outbox.log"),
        },
    }


def seed(url: str, n: int, tag: str) -> None:
    """n borrowers, each with one contact, one loan, one open case and one queued SMS."""
    factory = make_sessionmaker(make_engine(url))
    now = dt.datetime.now(dt.UTC)
    common = {"created_at": now, "updated_at": now, "version": 1}
    with factory() as s:
        s.execute(
            insert(Borrower),
            [
                {
                    "id": i + 1,
                    "external_id": f"B{i}",
                    "name": f"基准测试{i}有限公司",
                    "uscc": f"91310000{i:09d}X",
                    "timezone": "Asia/Shanghai",
                    "language": "zh_CN",
                    **common,
                }
                for i in range(n)
            ],
        )
        s.execute(
            insert(Contact),
            [
                {
                    "id": i + 1,
                    "borrower_id": i + 1,
                    "role": ContactRole.legal_representative,
                    "name": f"联系人{i}",
                    "phone": f"+86139{i:08d}",
                    "sms_consent": True,
                    "opted_out": False,
                    "phone_invalid": False,
                    **common,
                }
                for i in range(n)
            ],
        )
        s.execute(
            insert(Loan),
            [
                {
                    "id": i + 1,
                    "external_id": f"L{i}",
                    "borrower_id": i + 1,
                    "contract_no": f"HT{i}",
                    "product": Product.other,
                    "currency": "CNY",
                    "principal": 1000,
                    "annual_rate": 0.04,
                    "disbursed_on": dt.date(2025, 1, 1),
                    "maturity_on": dt.date(2027, 1, 1),
                    **common,
                }
                for i in range(n)
            ],
        )
        s.execute(
            insert(Case),
            [
                {
                    "id": i + 1,
                    "loan_id": i + 1,
                    "borrower_id": i + 1,
                    "stage": "phone_reminder",
                    "is_open": True,
                    "opened_on": dt.date(2026, 1, 1),
                    "stage_entered_on": dt.date(2026, 1, 1),
                    **common,
                }
                for i in range(n)
            ],
        )
        s.execute(
            insert(Notice),
            [
                {
                    "case_id": i + 1,
                    "contact_id": i + 1,
                    "channel": "sms",
                    "template": "first_reminder",
                    "locale": "zh_CN",
                    "trigger_key": "bench",
                    "business_date": now.date(),
                    "to_address": f"+86139{i:08d}",
                    "body": f"bench message {tag} #{i}",
                    "status": "queued",
                    "due_at": now,
                    "next_attempt_at": now,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n)
            ],
        )
        s.commit()
        if s.get_bind().dialect.name == "postgresql":
            for t in ("borrower", "contact", "loan", "collection_case"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), {n})"))
            s.commit()


def _worker(cfg: dict) -> None:
    from collections_svc.notices.worker import run

    run(Settings(**cfg), limit=50, interval=0.01, idle_exit=True)


def floor_sms(cfg: dict, n: int) -> float:
    from collections_svc.notices.channels.twilio_sms import TwilioSmsSender

    sender = TwilioSmsSender(Settings(**cfg))
    t = time.perf_counter()
    for i in range(n):
        sender.send("+8613900000002", f"floor {i}")
    return n / (time.perf_counter() - t)


def bench_dispatch(backend: str, notices: int, dispatchers: list[int]) -> None:
    fake = FakeTwilio()
    fake_url = fake.start()
    try:
        floor = floor_sms(settings_for("sqlite://", fake_url), min(notices, 500))
        print(f"floor (SMS, 1 process, no DB)   {floor:8.0f} msg/s")
        for n_proc in dispatchers:
            url, drop = scratch_database(backend, "bench_notices")
            try:
                upgrade(url)
                tag = uuid.uuid4().hex[:9]
                seed(url, notices, tag)
                cfg = settings_for(url, fake_url)
                fake.messages.clear()
                ctx = mp.get_context("spawn")
                procs = [ctx.Process(target=_worker, args=(cfg,)) for _ in range(n_proc)]
                t = time.perf_counter()
                for p in procs:
                    p.start()
                for p in procs:
                    p.join()
                elapsed = time.perf_counter() - t
                bodies = collections.Counter(m["body"] for m in fake.messages if tag in m["body"])
                dups = sum(v - 1 for v in bodies.values() if v > 1)
                eng = make_engine(url)
                with eng.connect() as conn:
                    sent = conn.execute(text("SELECT count(*) FROM notice WHERE status = 'sent'")).scalar()
                eng.dispose()
                rate = notices / elapsed
                print(
                    f"dispatch {backend:10s} x{n_proc}      {rate:8.0f} msg/s  ({rate / floor:4.2f}x floor)  "
                    f"sent={sent}/{notices} seen_by_twilio={len(bodies)} duplicates={dups}  "
                    f"{elapsed:.1f}s (process start included)"
                )
            finally:
                drop()
    finally:
        fake.stop()


def bench_letters(count: int) -> None:
    from weasyprint import HTML

    from collections_svc.notices.channels.letters import WeasyPrintRenderer
    from collections_svc.notices.templates import render, sample_context

    s = Settings()
    html = render(s, "first_demand", "zh_CN", sample_context(s, "zh_CN")).body
    tiny = "<html><body style=\"font-family: 'WenQuanYi Micro Hei'\">催收函 示例</body></html>"
    r = WeasyPrintRenderer()
    r.render_pdf(html)  # warm-up: font loading, CSS parsing caches
    HTML(string=tiny).write_pdf()

    def ms(fn) -> float:
        times = []
        for _ in range(count):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        return times[len(times) // 2]

    floor = ms(lambda: HTML(string=tiny).write_pdf())
    letter = ms(lambda: r.render_pdf(html))
    print(f"floor (PDF, one line)            {floor:8.1f} ms (median of {count})")
    print(f"letter first_demand zh_CN        {letter:8.1f} ms ({letter / floor:4.2f}x floor)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--notices", type=int, default=2000)
    p.add_argument("--dispatchers", default="1,2,4")
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--letters", type=int, default=15)
    p.add_argument("--skip-letters", action="store_true")
    a = p.parse_args()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
    if a.notices:
        bench_dispatch(a.backend, a.notices, [int(x) for x in a.dispatchers.split(",")])
    if not a.skip_letters:
        bench_letters(a.letters)
    print(json.dumps({"note": "ratios compare with floors measured in this run"}))


if __name__ == "__main__":
    main()
