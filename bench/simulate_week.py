"""A simulated week of business on one PostgreSQL database with real processes (issue 10).

    .venv/bin/python bench/simulate_week.py --loans 300 --actions 150 --payments 40

Starts 2 API processes (`collections-svc serve`), 2 schedulers and 3 notice dispatchers
(`collections-svc dispatch`) against a fake Twilio on 127.0.0.1, then drives business days: every
process except the dispatchers reads "now" from a test clock file (``COLLECTIONS_TEST_CLOCK_FILE``,
refused unless ``COLLECTIONS_ENV=test``); moving it to the next morning makes the active scheduler
sweep the date that closed (``scheduler.catch_up_every_seconds``). During each day collectors log
contacts (some with promises) through the API with optimistic locking, retrying each 409 on a fresh
version, and the bank's integration account posts payments. On the kill day the active scheduler and
one dispatcher are SIGKILLed; the standby scheduler takes over and reconciliation settles the dead
dispatcher's claims. Dispatchers keep the real clock (their leases and the provider's log are real time).

Checks at the end (``check``): exactly one sweep per date (run ledger), every notice sent exactly once
and none lost (the fake Twilio's log is the witness), no lost update (contacts and payments in the
database = the API's 201 answers), one open case per loan, each case's stage-change events chain to its
current stage. tests/ops/test_simulate_week.py runs a small version in the normal suite.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from collections_svc.migrate import upgrade  # noqa: E402

PASSWORD = "correct-horse-battery"  # noqa: S105 - the simulated users of a throw-away database
EXE = str(Path(sys.executable).with_name("collections-svc"))


@dataclass
class Params:
    loans: int = 24
    days: int = 5                     # business days driven (Monday onwards)
    start: dt.date = dt.date(2026, 3, 30)  # a Monday
    collectors: int = 4
    actions: int = 12                 # contact logs per day (spread over the collectors)
    payments: int = 4                 # payments per day
    kill_day: int = 2                 # SIGKILL the active scheduler and one dispatcher after this day's sweep
    seed: int = 7
    timeout: float = 60.0             # seconds to wait for a sweep or for the outbox to drain


@dataclass
class Tally:
    contacts_ok: int = 0
    conflicts: int = 0
    payments_ok: int = 0
    paid_cents: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _wait(pred, timeout: float, what: str, poll: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")


def seed(url: str, p: Params) -> list[str]:
    """Users, and loans whose first installment fell due 1..60 days before the first day."""
    from tests.factories import make_loan

    from collections_svc.auth.models import Role
    from collections_svc.auth.service import create_user
    from collections_svc.db import make_engine, make_sessionmaker
    from collections_svc.loans.models import Borrower, ContactRole
    engine = make_engine(url)
    ext = []
    with make_sessionmaker(engine)() as s:
        for i in range(p.collectors):
            create_user(s, username=f"sim_c{i}", password=PASSWORD, role=Role.admin, display_name=f"催收员{i}")
        create_user(s, username="sim_bank", password=PASSWORD, role=Role.integration)
        for i in range(p.loans):
            due = p.start - dt.timedelta(days=1 + (i * 7) % 60)
            loan = make_loan(s, schedule=[(due.isoformat(), "100000.00", "2000.00"),
                                          ((p.start + dt.timedelta(days=200)).isoformat(), "100000.00", "2000.00")])
            contact = s.get(Borrower, loan.borrower_id).contacts[0]
            contact.phone = f"+86139{i:08d}"
            contact.role = ContactRole.legal_representative
            ext.append(loan.external_id)
        s.commit()
    engine.dispose()
    return ext


class World:
    """The processes of one simulation and their logs."""

    def __init__(self, url: str, twilio_base: str, work: Path, lock_key: int):
        self.work = work
        self.clock_file = work / "clock.txt"
        self.env = {
            **os.environ,
            "COLLECTIONS_ENV": "test",
            "COLLECTIONS_DATABASE__URL": url,
            "COLLECTIONS_DATABASE__POOL_SIZE": "4",
            "COLLECTIONS_TEST_CLOCK_FILE": str(self.clock_file),
            "COLLECTIONS_PUBLIC_BASE_URL": "https://collections.example.com",
            "COLLECTIONS_TWILIO__ACCOUNT_SID": "ACsimweek",
            "COLLECTIONS_TWILIO__AUTH_TOKEN": "sim-auth-token",
            "COLLECTIONS_TWILIO__FROM_NUMBER": "+15005550006",
            "COLLECTIONS_TWILIO__API_BASE_URL": twilio_base,
            "COLLECTIONS_NOTICES__ALLOWED_START": "00:00",
            "COLLECTIONS_NOTICES__ALLOWED_END": "23:59",
            "COLLECTIONS_NOTICES__HOLIDAYS_ENABLED": "false",
            "COLLECTIONS_NOTICES__MAX_SMS_PER_CONTACT": "1000",
            "COLLECTIONS_NOTICES__MAX_SMS_PER_CASE": "1000",
            "COLLECTIONS_NOTICES__HTTP_TIMEOUT_SECONDS": "0.5",
            "COLLECTIONS_NOTICES__LEASE_SECONDS": "1.5",
            "COLLECTIONS_NOTICES__RECONCILE_SKEW_SECONDS": "5",
            "COLLECTIONS_NOTICES__BACKOFF_BASE_SECONDS": "0.05",
            "COLLECTIONS_NOTICES__BACKOFF_MAX_SECONDS": "0.3",
            "COLLECTIONS_NOTICES__LETTERS_DIR": str(work / "letters"),
            "COLLECTIONS_NOTICES__CONSOLE_OUTBOX": str(work / "outbox.log"),
            "COLLECTIONS_SCHEDULER__LEADER_POLL_SECONDS": "0.3",
            "COLLECTIONS_SCHEDULER__ADVISORY_LOCK_KEY": str(lock_key),
            "COLLECTIONS_SCHEDULER__CATCH_UP_EVERY_SECONDS": "0.5",
            "COLLECTIONS_SCHEDULER__NOTICE_DISPATCH_SECONDS": "3600",  # the dispatch workers send
            "COLLECTIONS_SCHEDULER__PROMISE_CHECK_MINUTES": "600",
        }
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: list[int] = []

    def set_day(self, day: dt.date) -> None:
        at = dt.datetime.combine(day, dt.time(10, 0), dt.timezone(dt.timedelta(hours=8)))
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(at.isoformat())
        os.replace(tmp, self.clock_file)

    def start(self, name: str, *args: str) -> None:
        log = (self.work / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen([EXE, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.work)

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text()

    def start_all(self) -> None:
        for i in range(2):
            port = _free_port()
            self.ports.append(port)
            self.start(f"api{i}", "serve", "--port", str(port))
        for i in range(2):
            self.start(f"scheduler{i}", "scheduler")
        for i in range(3):
            self.start(f"dispatch{i}", "dispatch", "--interval", "0.2", "--limit", "10")
        for port in self.ports:
            _wait(lambda port=port: _ok(f"http://127.0.0.1:{port}/health"), 60, f"API on {port}")

    def active_scheduler(self) -> str:
        return _wait(lambda: next((n for n in ("scheduler0", "scheduler1") if n in self.procs
                                   and self.procs[n].poll() is None and self._leads(n)), None), 30, "a leader")

    def _leads(self, name: str) -> bool:
        text = self.log(name)
        return text.rfind("became the active scheduler") > text.rfind("no longer the active scheduler")

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(10)
        del self.procs[name]

    def stop_all(self) -> dict[str, int | None]:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = {}
        for n, p in self.procs.items():
            try:
                codes[n] = p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                codes[n] = None
        return codes


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def collector(base: list[str], username: str, n: int, day: dt.date, rng: random.Random, t: Tally) -> None:
    with httpx.Client(timeout=30) as c:
        tok = c.post(f"{base[0]}/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        for _ in range(n):
            api = rng.choice(base)
            items = c.get(f"{api}/api/v1/cases", params={"limit": 100}, headers=h).json()["items"]
            if not items:
                return
            # Several collectors on few cases: conflicts are likely, which is the point.
            case_id = rng.choice(items[: max(1, len(items) // 3)])["id"]
            for _attempt in range(20):
                version = c.get(f"{api}/api/v1/cases/{case_id}", headers=h).json()["version"]
                time.sleep(rng.uniform(0, 0.08))  # on the phone: others may change the case meanwhile
                body = {"channel": "phone", "outcome": "promised" if rng.random() < 0.3 else "no_answer",
                        "note": f"{username} {day}", "version": version}
                if body["outcome"] == "promised":
                    body["promise"] = {"amount": "1000.00", "due_on": (day + dt.timedelta(days=3)).isoformat()}
                r = c.post(f"{api}/api/v1/cases/{case_id}/contacts", json=body, headers=h)
                if r.status_code == 201:
                    with t.lock:
                        t.contacts_ok += 1
                    break
                if r.status_code == 409:  # someone else changed the case: re-read and retry
                    with t.lock:
                        t.conflicts += 1
                    continue
                raise AssertionError(f"contact log answered {r.status_code}: {r.text[:500]}")
            else:
                raise AssertionError("20 conflicts in a row")


def payments(base: list[str], loans: list[str], n: int, day: dt.date, rng: random.Random, t: Tally) -> None:
    with httpx.Client(timeout=30) as c:
        tok = c.post(f"{base[0]}/api/v1/auth/token", json={"username": "sim_bank", "password": PASSWORD})
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        for _ in range(n):
            cents = rng.randint(1000, 60000) * 100
            r = c.post(f"{rng.choice(base)}/api/v1/payments", headers=h, json={
                "external_id": f"SIMP-{uuid.uuid4().hex[:12]}", "loan_external_id": rng.choice(loans),
                "paid_on": day.isoformat(), "amount": f"{cents / 100:.2f}"})
            assert r.status_code == 201, r.text[:500]
            with t.lock:
                t.payments_ok += 1
                t.paid_cents += cents


def simulate(p: Params, work: Path, fake, url: str) -> dict:
    """Run the week on an empty database at URL with FAKE (a started tests.fakes FakeTwilio)."""
    upgrade(url)
    loans = seed(url, p)
    lock_key = random.Random(p.seed).randint(1, 2**40)
    world = World(url, fake.base_url, work, lock_key)
    rng = random.Random(p.seed)
    tally = Tally()
    days = []
    d = p.start
    while len(days) < p.days:
        if d.weekday() < 5:
            days.append(d)
        d += dt.timedelta(days=1)
    killed: list[str] = []
    world.set_day(days[0])
    t0 = time.monotonic()
    try:
        world.start_all()
        base = [f"http://127.0.0.1:{port}" for port in world.ports]
        for i, day in enumerate(days):
            world.set_day(day)
            closed = day - dt.timedelta(days=1)
            _wait(lambda closed=closed: _swept(url, closed), p.timeout, f"the sweep of {closed}")
            if i == p.kill_day:
                leader = world.active_scheduler()
                world.kill(leader)
                world.kill("dispatch0")
                killed += [leader, "dispatch0"]
            errors: list[BaseException] = []
            threads = [threading.Thread(target=_guarded(collector, errors),
                                        args=(base, f"sim_c{k}", p.actions // p.collectors, day,
                                              random.Random(rng.random()), tally)) for k in range(p.collectors)]
            threads.append(threading.Thread(target=_guarded(payments, errors), args=(
                base, loans, p.payments, day, random.Random(rng.random()), tally)))
            for th in threads:
                th.start()
            for th in threads:
                th.join(120)
            if errors:
                raise errors[0]
        # The evening after the last day closes it too.
        last = days[-1] + dt.timedelta(days=1)
        world.set_day(last)
        _wait(lambda: _swept(url, days[-1]), p.timeout, f"the sweep of {days[-1]}")
        _wait(lambda: _outbox_drained(url), p.timeout, "the outbox to drain")
        codes = world.stop_all()
    finally:
        for proc in world.procs.values():
            if proc.poll() is None:
                proc.kill()
    took = time.monotonic() - t0
    return {"days": [x.isoformat() for x in days], "killed": killed, "exit_codes": codes, "seconds": round(took, 1),
            "contacts_ok": tally.contacts_ok, "conflicts_retried": tally.conflicts,
            "payments_ok": tally.payments_ok, "paid_cents": tally.paid_cents,
            "took_over": [n for n in ("scheduler0", "scheduler1") if n not in killed
                          and "became the active scheduler" in world.log(n)]}


def _guarded(fn, errors: list[BaseException]):
    def run(*a):
        try:
            fn(*a)
        except BaseException as exc:  # re-raised by the driver after the day's threads joined
            errors.append(exc)
    return run


def _swept(url: str, day: dt.date) -> bool:
    with psycopg.connect(_dsn(url), autocommit=True) as c:
        return bool(c.execute("SELECT COUNT(*) FROM sweep_run WHERE business_date = %s AND status IN "
                              "('succeeded', 'completed_with_errors')", (day,)).fetchone()[0])


def _outbox_drained(url: str) -> bool:
    with psycopg.connect(_dsn(url), autocommit=True) as c:
        return c.execute("SELECT COUNT(*) FROM notice WHERE status IN ('queued', 'sending')").fetchone()[0] == 0


def check(url: str, report: dict, fake) -> dict:
    """The invariants; returns figures for the report. Raises AssertionError on a violation."""
    with psycopg.connect(_dsn(url), autocommit=True) as c:
        q = c.execute
        runs = q("SELECT business_date, partition, status FROM sweep_run ORDER BY business_date").fetchall()
        per_date = collections.Counter((r[0], r[1]) for r in runs)
        assert all(v == 1 for v in per_date.values()), per_date
        assert {r[2] for r in runs} <= {"succeeded"}, runs
        swept = [r[0] for r in runs]
        assert swept == [swept[0] + dt.timedelta(days=i) for i in range(len(swept))], swept  # no gap
        for d in report["days"]:
            assert dt.date.fromisoformat(d) in swept, (d, swept)

        notices = q("SELECT id, status, provider_sid FROM notice WHERE channel = 'sms'").fetchall()
        statuses = collections.Counter(n[1] for n in notices)
        assert statuses["queued"] == 0 and statuses["sending"] == 0, statuses
        sids = collections.Counter(m["sid"] for m in fake.messages)
        recorded = [n[2] for n in notices if n[2]]
        assert len(recorded) == len(set(recorded)), "two notices share a provider message"
        assert set(recorded) == set(sids), "a message Twilio accepted is not recorded, or the reverse"
        per_body = collections.Counter((m["to"], m["body"]) for m in fake.messages)
        assert max(per_body.values(), default=1) == 1, "a notice reached Twilio twice"

        contacts = q("SELECT COUNT(*) FROM contact_log WHERE note LIKE 'sim_c%%'").fetchone()[0]
        assert contacts == report["contacts_ok"], (contacts, report["contacts_ok"])
        pays = q("SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payment WHERE external_id LIKE 'SIMP-%%'"
                 ).fetchone()
        assert (pays[0], pays[1]) == (report["payments_ok"], report["paid_cents"]), pays

        dup = q("SELECT loan_id, COUNT(*) FROM collection_case WHERE is_open GROUP BY loan_id HAVING COUNT(*) > 1"
                ).fetchall()
        assert dup == [], dup
        cases = dict(q("SELECT id, stage FROM collection_case").fetchall())
        chains = collections.defaultdict(list)
        for case_id, frm, to in q("SELECT case_id, from_stage, to_stage FROM case_event WHERE kind = "
                                  "'stage_change' ORDER BY id").fetchall():
            chains[case_id].append((frm, to))
        for case_id, stage in cases.items():
            at = "classified"
            for frm, to in chains.get(case_id, []):
                assert frm == at, (case_id, chains[case_id])
                at = to
            assert at == stage, (case_id, stage, chains.get(case_id))
    return {"sweeps": len(runs), "sms_sent": len(recorded), "twilio_messages": len(fake.messages),
            "notice_statuses": dict(statuses), "cases": len(cases),
            "stage_changes": sum(len(v) for v in chains.values())}


def main() -> None:
    from tests.fakes.twilio_fake import FakeTwilio
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loans", type=int, default=300)
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--actions", type=int, default=150, help="contact logs per day")
    ap.add_argument("--payments", type=int, default=40, help="payments per day")
    ap.add_argument("--collectors", type=int, default=8)
    ap.add_argument("--work", default=str(ROOT / "var" / "simulate_week"))
    a = ap.parse_args()
    p = Params(loans=a.loans, days=a.days, actions=a.actions, payments=a.payments, collectors=a.collectors,
               timeout=300)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    url, drop = scratch_database("postgresql", "cs_sim")
    fake = FakeTwilio(seed=p.seed)
    fake.base_url = fake.start()
    try:
        report = simulate(p, work, fake, url)
        report.update(check(url, report, fake))
        print(json.dumps(report, indent=2, default=str))
    finally:
        fake.stop()
        drop()


if __name__ == "__main__":
    main()
