"""The outbox dispatcher: claim due notices, gate them, record the attempt, send, store the result.

Exactly-once toward the provider rests on three things:
1. Claims are atomic (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite ``UPDATE ... RETURNING``), and a
   claim carries a token and a lease: only the holder of the token may record the outcome.
2. The attempt row is committed BEFORE the provider is called, and the SID is stored after.
3. A notice left in 'sending' past its lease with a started attempt and no SID (the process died, or
   the request timed out) is reconciled by listing the provider's messages to that recipient in the
   attempt's time window: found -> adopt the SID; not found -> retry. Never a blind resend.

Several dispatchers may run at once (threads or processes). The lease must outlive the provider's
HTTP timeout (the settings enforce lease > 2 x timeout).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from collections_svc.audit import service as audit
from collections_svc.auth.service import Actor
from collections_svc.cases.models import Case
from collections_svc.common.clock import Clock
from collections_svc.config import Settings
from collections_svc.db import session_scope
from collections_svc.loans.models import Borrower, Contact
from collections_svc.notices import compliance
from collections_svc.notices.channels.base import LetterRenderer, SendError, SendResult, SmsSender
from collections_svc.notices.channels.console import ConsoleSender
from collections_svc.notices.channels.letters import WeasyPrintRenderer, store_letter
from collections_svc.notices.models import DUE_STATUSES, Notice, NoticeAttempt
from collections_svc.notices.service import (
    FAILED_HOOKS,
    add_event,
    adopt_parked_events,
    adopt_parked_events_many,
    case_event,
    pick_contact,
)
from collections_svc.ops.instruments import dispatch_result

log = logging.getLogger("collections_svc.notices.dispatch")


def _by_id(s: Session, model, ids: set[int]) -> dict:
    return {o.id: o for o in s.scalars(select(model).where(model.id.in_(ids)))} if ids else {}


DISPATCH_ACTOR = Actor(id=None, username="notice-dispatcher", role=None)
PHONE_INVALID_CODES = {"21211", "21614"}
OPTED_OUT_CODES = {"21610"}


@dataclass
class DispatchCounts:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    reconciled_sent: int = 0
    reconciled_requeued: int = 0
    skipped: int = 0
    released: int = 0

    def add(self, other: DispatchCounts) -> None:
        for k, v in other.__dict__.items():
            setattr(self, k, getattr(self, k) + v)


@dataclass
class Job:
    notice_id: int
    attempt_no: int
    channel: str
    to: str | None
    body: str
    day: dt.date
    lease_until: dt.datetime
    result: SendResult | None = None
    error: SendError | None = None
    released: bool = False  # not sent because the worker is shutting down: the claim goes back


@dataclass
class Dispatcher:
    """The seams of one dispatcher; ``crash_at`` lets tests kill it between claim, send and record."""

    session_factory: sessionmaker[Session]
    sender: SmsSender
    clock: Clock
    settings: Settings
    letters: LetterRenderer = field(default_factory=WeasyPrintRenderer)
    worker: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    )
    status_callback: str | None = None
    on_failed: Callable[[Session, Notice], None] | None = None
    crash_at: Callable[[str, int], None] | None = None
    rng: random.Random = field(default_factory=random.Random)
    concurrency: int = 8  # parallel provider calls per batch (I/O bound); letters render one at a time
    # Set by a worker on SIGTERM: calls already made finish and are recorded, the rest are released.
    should_stop: Callable[[], bool] = field(default=lambda: False)

    # -- claiming ---------------------------------------------------------------------------------
    def claim(self, limit: int) -> tuple[list[int], str]:
        now = self.clock.now()
        token = uuid.uuid4().hex
        values = {
            "status": "sending",
            "claim_token": token,
            "lease_until": now + dt.timedelta(seconds=self.settings.notices.lease_seconds),
        }
        due = (Notice.status.in_(DUE_STATUSES), Notice.next_attempt_at <= now)
        with session_scope(self.session_factory) as s:
            if s.get_bind().dialect.name == "postgresql":
                ids = list(
                    s.scalars(
                        select(Notice.id)
                        .where(*due)
                        .order_by(Notice.next_attempt_at, Notice.id)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                )
                if ids:
                    s.execute(
                        update(Notice)
                        .where(Notice.id.in_(ids))
                        .values(**values)
                        .execution_options(synchronize_session=False)
                    )
            else:
                sub = (
                    select(Notice.id)
                    .where(*due)
                    .order_by(Notice.next_attempt_at, Notice.id)
                    .limit(limit)
                    .scalar_subquery()
                )
                ids = list(
                    s.scalars(
                        update(Notice)
                        .where(Notice.id.in_(sub))
                        .values(**values)
                        .returning(Notice.id)
                        .execution_options(synchronize_session=False)
                    )
                )
        return sorted(ids), token

    def _crash(self, point: str, notice_id: int) -> None:
        if self.crash_at is not None:
            self.crash_at(point, notice_id)

    def _held(self, s: Session, notice_id: int, token: str) -> Notice | None:
        n = s.get(Notice, notice_id, populate_existing=True)
        if n is None or n.status != "sending" or n.claim_token != token:
            return None
        return n

    # -- one notice ----------------------------------------------------------------------------------
    def prepare(self, ids: list[int], token: str, counts: DispatchCounts) -> list[Job]:
        """Phase 1, one transaction: gate each claimed notice; defer it, or commit its attempt row."""
        ns = self.settings.notices
        jobs: list[Job] = []
        with session_scope(self.session_factory) as s:
            now = self.clock.now()
            held = self._held_many(s, ids, token)
            counts.skipped += len(ids) - len(held)
            contacts = _by_id(s, Contact, {n.contact_id for n in held if n.contact_id})
            cases = _by_id(s, Case, {n.case_id for n in held})
            borrowers = _by_id(s, Borrower, {c.borrower_id for c in cases.values()})
            tally = compliance.SendTally(s, held, now, ns)
            for n in held:
                contact = contacts.get(n.contact_id) if n.contact_id else None
                case = cases.get(n.case_id)
                borrower = borrowers.get(case.borrower_id) if case else None
                if contact is None and n.channel != "letter" and borrower is not None:
                    contact = pick_contact(borrower, n.channel, self.settings)
                    if contact is not None:
                        n.contact_id = contact.id
                gate = compliance.check(s, n, contact, borrower, now, self.settings, tally)
                if not gate.ok:
                    self._defer(s, n, gate.reason or "gated", gate.until or now, now)
                    counts.deferred += 1
                    continue
                if n.channel != "letter":
                    n.to_address = contact.phone
                    tally.add(n, now)  # the next notice of this batch counts this one as in flight
                n.attempts += 1
                s.add(NoticeAttempt(notice_id=n.id, number=n.attempts, worker=self.worker, started_at=now))
                n.lease_until = now + dt.timedelta(seconds=ns.lease_seconds)
                jobs.append(
                    Job(n.id, n.attempts, n.channel, n.to_address, n.body, n.business_date, n.lease_until)
                )
        return jobs

    def send_one(self, job: Job) -> Job:
        """Phase 2, no transaction open: one provider call (or one PDF)."""
        ns = self.settings.notices
        if self.should_stop():
            job.released = True  # shutting down: never start a provider call we might not record
            return job
        self._crash("after_attempt", job.notice_id)
        margin = dt.timedelta(seconds=ns.http_timeout_seconds)
        if self.clock.now() + margin >= job.lease_until:
            # Stalled so long that reconciliation may take this notice over: do not call out now.
            job.error = SendError(
                "the claim's lease ran out before sending; not sent", code="lease", retryable=True
            )
            return job
        try:
            if job.channel == "letter":
                path = store_letter(self.settings, job.notice_id, job.day, self.letters.render_pdf(job.body))
                job.result = SendResult(sid="", status=str(path))
            else:
                sender = (
                    self.sender
                    if job.channel == "sms"
                    else ConsoleSender(ns.console_outbox, now=self.clock.now)
                )
                job.result = sender.send(job.to, job.body, status_callback=self.status_callback)
        except SendError as exc:
            job.error = exc
        except Exception as exc:  # a renderer or client bug: retry like a transient error, keep the reason
            log.exception("notice %s: unexpected send error", job.notice_id)
            job.error = SendError(f"{type(exc).__name__}: {exc}", code="internal", retryable=True)
        self._crash("after_send", job.notice_id)
        return job

    def record(self, jobs: list[Job], token: str, counts: DispatchCounts) -> None:
        """Phase 3, one transaction: store SIDs and outcomes. If this never commits (crash), the notices
        stay 'sending' with started attempts and are reconciled after the lease."""
        with session_scope(self.session_factory) as s:
            held = {n.id: n for n in self._held_many(s, [j.notice_id for j in jobs], token)}
            attempts = (
                {
                    (a.notice_id, a.number): a
                    for a in s.scalars(select(NoticeAttempt).where(NoticeAttempt.notice_id.in_(list(held))))
                }
                if held
                else {}
            )
            now = self.clock.now()
            sent: list[Notice] = []
            for job in jobs:
                n = held.get(job.notice_id)
                if n is None:
                    log.warning(
                        "notice %s: claim lost before recording (reconciled elsewhere)", job.notice_id
                    )
                    counts.skipped += 1
                    continue
                attempt = attempts.get((n.id, job.attempt_no))
                if job.released:
                    self._release(s, n, attempt, now)
                    counts.released += 1
                elif job.result is not None:
                    self._mark_sent(s, n, attempt, job.result, now, outcome="sent", adopt=False)
                    sent.append(n)
                    counts.sent += 1
                else:
                    assert job.error is not None
                    self._mark_error(s, n, attempt, job.error, now, counts)
            s.flush()
            adopt_parked_events_many(s, [n for n in sent if n.provider_sid], now, self.settings)

    def process(self, ids: list[int], token: str, counts: DispatchCounts) -> None:
        jobs = self.prepare(ids, token, counts)
        sms = [j for j in jobs if j.channel != "letter"]
        letters = [j for j in jobs if j.channel == "letter"]
        if self.concurrency > 1 and len(sms) > 1:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(sms))) as pool:
                done = list(pool.map(self.send_one, sms))
        else:
            done = [self.send_one(j) for j in sms]
        done += [self.send_one(j) for j in letters]  # WeasyPrint is not thread-safe: one at a time
        self.record(done, token, counts)

    def _held_many(self, s: Session, ids: list[int], token: str) -> list[Notice]:
        if not ids:
            return []
        rows = s.scalars(
            select(Notice)
            .where(Notice.id.in_(ids))
            .order_by(Notice.id)
            .execution_options(populate_existing=True)
        )
        return [n for n in rows if n.status == "sending" and n.claim_token == token]

    def _defer(self, s: Session, n: Notice, reason: str, until: dt.datetime, now: dt.datetime) -> None:
        dispatch_result("deferred", reason.split(":")[0][:40])
        if n.defer_reason != reason or n.status != "deferred":
            add_event(s, n, "deferred", "dispatcher", now, detail=f"{reason}; next try {until.isoformat()}")
        n.status = "deferred"
        n.defer_reason = reason
        n.next_attempt_at = until
        n.claim_token = None
        n.lease_until = None

    def _mark_sent(
        self,
        s: Session,
        n: Notice,
        attempt: NoticeAttempt | None,
        result: SendResult,
        now: dt.datetime,
        *,
        outcome: str,
        adopt: bool = True,
    ) -> None:
        dispatch_result(outcome)
        n.status = "sent"
        n.sent_at = now
        n.claim_token = None
        n.lease_until = None
        n.defer_reason = None
        if n.channel == "letter":
            n.document_path = result.status
        else:
            n.provider_sid = result.sid
        if attempt is not None:
            attempt.outcome = outcome
            attempt.finished_at = now
            attempt.provider_sid = result.sid or None
        add_event(
            s,
            n,
            "sent",
            "reconcile" if outcome.startswith("reconciled") else "dispatcher",
            now,
            detail=result.sid or n.document_path,
        )
        case_event(s, n, "sent", now, self.settings)
        if adopt and n.provider_sid:
            s.flush()
            adopt_parked_events(s, n, now, self.settings)

    def _release(self, s: Session, n: Notice, attempt: NoticeAttempt | None, now: dt.datetime) -> None:
        """Give a claimed notice back (graceful stop): no provider call was made, so it is due again now."""
        dispatch_result("released")
        n.status = "queued"
        n.next_attempt_at = now
        n.claim_token = None
        n.lease_until = None
        if attempt is not None:
            attempt.outcome = "released"
            attempt.finished_at = now
        add_event(s, n, "released", "dispatcher", now, detail="worker stopping; not sent, back in the queue")

    def _fail(self, s: Session, n: Notice, reason: str, code: str | None, now: dt.datetime) -> None:
        n.status = "failed"
        n.final_at = now
        n.claim_token = None
        n.lease_until = None
        n.error_code = code
        n.last_error = reason
        add_event(s, n, "failed", "dispatcher", now, detail=reason, error_code=code)
        case_event(s, n, "failed", now, self.settings, reason=f"{n.template} failed: {reason}")
        s.flush()
        for hook in [*FAILED_HOOKS, *([self.on_failed] if self.on_failed else [])]:
            hook(s, n)

    def _mark_error(
        self,
        s: Session,
        n: Notice,
        attempt: NoticeAttempt | None,
        err: SendError,
        now: dt.datetime,
        counts: DispatchCounts,
    ) -> None:
        ns = self.settings.notices
        if attempt is not None:
            attempt.finished_at = now
            attempt.error_code = err.code
            attempt.error = str(err)[:2000]
        n.error_code = err.code
        n.last_error = str(err)[:2000]
        if err.unknown:
            # Maybe sent: keep 'sending' and let reconciliation look it up once the request is surely over.
            if attempt is not None:
                attempt.outcome = "unknown"
            n.lease_until = now + dt.timedelta(seconds=ns.http_timeout_seconds)
            n.claim_token = None
            add_event(s, n, "unknown", "dispatcher", now, detail=str(err)[:500], error_code=err.code)
            dispatch_result("unknown", err.code)
            counts.unknown += 1
            return
        if err.retryable:
            if attempt is not None:
                attempt.outcome = "retry"
            self._retry_or_fail(s, n, str(err), err.code, now, counts)
            return
        if attempt is not None:
            attempt.outcome = "failed"
        dispatch_result("failed", err.code)
        contact = s.get(Contact, n.contact_id) if n.contact_id else None
        if contact is not None and err.code in PHONE_INVALID_CODES | OPTED_OUT_CODES:
            field_name = "phone_invalid" if err.code in PHONE_INVALID_CODES else "opted_out"
            if not getattr(contact, field_name):
                setattr(contact, field_name, True)
                audit.record(
                    s,
                    DISPATCH_ACTOR,
                    f"contact.{field_name}",
                    "contact",
                    contact.id,
                    before={field_name: False},
                    after={field_name: True, "error_code": err.code, "notice_id": n.id},
                )
        self._fail(s, n, f"permanent provider error {err.code}: {err}", err.code, now)
        counts.failed += 1

    def _retry_or_fail(
        self, s: Session, n: Notice, reason: str, code: str | None, now: dt.datetime, counts: DispatchCounts
    ) -> None:
        ns = self.settings.notices
        dispatch_result("failed" if n.attempts >= ns.max_attempts else "retry", code)
        if n.attempts >= ns.max_attempts:
            self._fail(s, n, f"gave up after {n.attempts} attempts; last error: {reason}", code, now)
            counts.failed += 1
            return
        delay = min(ns.backoff_max_seconds, ns.backoff_base_seconds * (2 ** max(0, n.attempts - 1)))
        delay = self.rng.uniform(delay / 2, delay)  # jitter: spread retries of a burst
        n.status = "queued"
        n.next_attempt_at = now + dt.timedelta(seconds=delay)
        n.claim_token = None
        n.lease_until = None
        add_event(
            s,
            n,
            "retry",
            "dispatcher",
            now,
            detail=f"{reason[:300]}; retry at {n.next_attempt_at.isoformat()}",
            error_code=code,
        )
        counts.retried += 1

    # -- reconciliation ------------------------------------------------------------------------------
    def reconcile(self, limit: int) -> DispatchCounts:
        """Settle notices stuck in 'sending' past their lease: adopt the provider's message or retry."""
        counts = DispatchCounts()
        ns = self.settings.notices
        now = self.clock.now()
        with session_scope(self.session_factory) as s:
            ids = list(
                s.scalars(
                    select(Notice.id)
                    .where(Notice.status == "sending", Notice.lease_until <= now)
                    .order_by(Notice.lease_until)
                    .limit(limit)
                )
            )
        for nid in ids:
            token = uuid.uuid4().hex
            with session_scope(self.session_factory) as s:
                took = s.execute(
                    update(Notice)
                    .where(
                        Notice.id == nid,
                        Notice.status == "sending",
                        Notice.lease_until <= now,
                    )
                    .values(claim_token=token, lease_until=now + dt.timedelta(seconds=ns.lease_seconds))
                    .execution_options(synchronize_session=False)
                ).rowcount
            if took != 1:
                continue  # another dispatcher is reconciling it
            with session_scope(self.session_factory) as s:
                n = self._held(s, nid, token)
                if n is None:
                    continue
                attempt = s.scalar(
                    select(NoticeAttempt)
                    .where(NoticeAttempt.notice_id == nid, NoticeAttempt.outcome.in_(("started", "unknown")))
                    .order_by(NoticeAttempt.id.desc())
                    .limit(1)
                )
                if attempt is None or n.channel == "letter":
                    # Died before calling out (or a letter: rendering again is harmless): requeue.
                    if attempt is not None:
                        attempt.outcome = "reconciled_not_sent"
                        attempt.finished_at = now
                    n.status = "queued"
                    n.next_attempt_at = now
                    n.claim_token = None
                    n.lease_until = None
                    add_event(s, n, "requeued", "reconcile", now, detail="dispatcher stopped before sending")
                    dispatch_result("reconciled_requeued")
                    counts.reconciled_requeued += 1
                    continue
                to, body, channel = n.to_address, n.body, n.channel
                since = attempt.started_at - dt.timedelta(seconds=ns.reconcile_skew_seconds)
                until = now + dt.timedelta(seconds=ns.reconcile_skew_seconds)
                attempt_id = attempt.id
            sender = self.sender if channel == "sms" else ConsoleSender(ns.console_outbox, now=self.clock.now)
            try:
                sids = sender.find_sent(to, body, since, until)
            except SendError as exc:
                log.warning("notice %s: reconciliation lookup failed: %s", nid, exc)
                with session_scope(self.session_factory) as s:
                    n = self._held(s, nid, token)
                    if n is not None:
                        n.lease_until = now + dt.timedelta(seconds=ns.http_timeout_seconds)
                        n.claim_token = None
                counts.unknown += 1
                continue
            with session_scope(self.session_factory) as s:
                n = self._held(s, nid, token)
                if n is None:
                    continue
                attempt = s.get(NoticeAttempt, attempt_id)
                taken = (
                    set(s.scalars(select(Notice.provider_sid).where(Notice.provider_sid.in_(sids))))
                    if sids
                    else set()
                )
                free = [x for x in sids if x not in taken]
                if free:
                    self._mark_sent(
                        s, n, attempt, SendResult(sid=free[-1], status="sent"), now, outcome="reconciled_sent"
                    )
                    counts.reconciled_sent += 1
                else:
                    attempt.outcome = "reconciled_not_sent"
                    attempt.finished_at = now
                    add_event(
                        s,
                        n,
                        "not_found",
                        "reconcile",
                        now,
                        detail="the provider has no such message: safe to send again",
                    )
                    self._retry_or_fail(
                        s,
                        n,
                        n.last_error or "outcome unknown, not found at provider",
                        n.error_code,
                        now,
                        counts,
                    )
                    counts.reconciled_requeued += 1
                    dispatch_result("reconciled_requeued")
        return counts

    def run_batch(self, limit: int = 50) -> DispatchCounts:
        counts = self.reconcile(limit)
        if self.should_stop():
            return counts
        ids, token = self.claim(limit)
        counts.claimed += len(ids)
        if ids:
            self.process(ids, token, counts)
        return counts


def dispatch_batch(
    session_factory: sessionmaker[Session],
    sender: SmsSender,
    clock: Clock,
    settings: Settings,
    limit: int = 50,
    **kw,
) -> DispatchCounts:
    """Reconcile stale 'sending' notices, then claim up to ``limit`` due notices and send them.

    Each notice gets its own short transactions (claim, attempt, outcome), so this commits; call it
    from a job, never inside a request transaction. Keyword arguments go to ``Dispatcher``
    (letters=, status_callback=, on_failed=, worker=, crash_at=, rng=).
    """
    kw.setdefault("status_callback", status_callback_url(settings))
    return Dispatcher(session_factory, sender, clock, settings, **kw).run_batch(limit)


def reconcile(
    session_factory: sessionmaker[Session],
    sender: SmsSender,
    clock: Clock,
    settings: Settings,
    limit: int = 100,
    **kw,
) -> DispatchCounts:
    """Only the reconciliation pass (dispatch_batch runs it too)."""
    return Dispatcher(session_factory, sender, clock, settings, **kw).reconcile(limit)


def status_callback_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + "/api/v1/webhooks/twilio/status"
