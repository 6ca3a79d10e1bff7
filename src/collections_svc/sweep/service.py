"""The close-of-business sweep (日终批处理) for one business date, its run ledger and catch-up.

One run per (business date, partition), recorded in ``sweep_run``. The run is one transaction: the
ledger row, the DPD pass, every case opened, cured or escalated and every notice queued commit
together or not at all, so a crash leaves nothing half done and a rerun for a finished date
changes nothing and says so. A failure on one case is confined to a SAVEPOINT, recorded in the
ledger and the run goes on.

Steps (DESIGN.md rule 6, set-based first, then per case in batches):
1. DPD, overdue amounts and buckets for the whole book (one set-based pass), then the monitoring
   engine (warnings, five-category classification, due reviews) when it is installed.
2. Open cases for loans that are overdue and have no open case (one query, then ``open_case``).
3. Cure open cases whose loan has nothing overdue (one query, then ``fire(cure)``).
4. Evaluate promises to pay (cases package).
5. Evaluate the active strategy for every open case not on hold, with facts read per page of
   cases by a few set-based queries; fire ``escalate`` to the decided stage (forward only), queue
   the stage's notices, create its tasks and suggest proposals to supervisors.
6. Housekeeping, then the reports' daily loan snapshot (reports.snapshot; idempotent per date).

A dry run does all of it inside a savepoint that is rolled back: it returns what would change and
writes nothing (not even the ledger row).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from collections_svc.approvals import service as approvals_service
from collections_svc.audit.service import record
from collections_svc.auth.service import SYSTEM, Actor
from collections_svc.cases import service as cases_service
from collections_svc.cases.models import Case
from collections_svc.config import Settings
from collections_svc.db import session_scope, utcnow
from collections_svc.errors import ValidationFailed
from collections_svc.loans import dpd as dpd_engine
from collections_svc.loans.models import Borrower, Loan, LoanStatus
from collections_svc.notices import service as _notices  # noqa: F401 - registers the close-of-case effect
from collections_svc.restructuring import service as restructuring_service
from collections_svc.strategy import service as strategy_service
from collections_svc.strategy.rules import CaseFacts, Strategy, days_between, evaluate, forward_target
from collections_svc.sweep import hooks
from collections_svc.sweep.models import SweepRun, SweepStatus

log = logging.getLogger("collections_svc.sweep")
MAX_LEDGER_ERRORS = 1000

COUNT_FIELDS = ("loans_evaluated", "cases_opened", "cases_escalated", "cases_cured", "notices_queued",
                "promises_broken")


@dataclass(frozen=True)
class Partition:
    k: int = 0
    n: int = 1

    @classmethod
    def parse(cls, text: str | None) -> Partition:
        if not text:
            return cls()
        try:
            k_s, n_s = text.split("/")
            k, n = int(k_s), int(n_s)
        except ValueError:
            raise ValidationFailed(f"Partition {text!r} must be written K/N, for example 0/4.") from None
        if n < 1 or not 0 <= k < n:
            raise ValidationFailed(
                f"Partition {text!r} is out of range: N must be at least 1 and 0 <= K < N.")
        return cls(k, n)

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"

    def loan_filter(self, col: Any) -> Any:
        return (col % self.n) == self.k if self.n > 1 else True


@dataclass
class SweepReport:
    business_date: dt.date
    partition: str
    dry_run: bool
    status: str                       # succeeded, completed_with_errors, already_done, failed
    message: str
    strategy_version: str | None = None
    run_id: int | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    # What changed (or would change): capped lists for a preview; counts are always complete.
    opened: list[int] = field(default_factory=list)                 # loan ids
    cured: list[int] = field(default_factory=list)                  # case ids
    escalations: list[dict[str, Any]] = field(default_factory=list)  # case_id, from, to, rule
    notices: list[dict[str, Any]] = field(default_factory=list)      # case_id, channel, template
    tasks: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def changed_anything(self) -> bool:
        return self.status in SweepStatus.DONE and not self.dry_run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Run:
    """Mutable state of one run: counts, capped detail lists and errors."""

    def __init__(self, report: SweepReport, limit: int):
        self.r = report
        self.limit = limit

    def add(self, name: str, item: Any) -> None:
        lst = getattr(self.r, name)
        if len(lst) < self.limit:
            lst.append(item)

    def count(self, name: str, n: int = 1) -> None:
        self.r.counts[name] = self.r.counts.get(name, 0) + n

    def error(self, step: str, exc: BaseException, **where: Any) -> None:
        self.r.error_count += 1
        if len(self.r.errors) < MAX_LEDGER_ERRORS:
            self.r.errors.append({"step": step, **where, "error": f"{type(exc).__name__}: {exc}"[:500]})
        log.warning("sweep %s failed for %s: %s", step, where, exc, exc_info=True)


def _chunks(seq: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _ledger(session: Session, business_date: dt.date, partition: Partition) -> SweepRun | None:
    return session.scalar(select(SweepRun).where(SweepRun.business_date == business_date,
                                                 SweepRun.partition == str(partition)))


def _from_ledger(run: SweepRun, *, dry_run: bool, message: str, status: str) -> SweepReport:
    rep = SweepReport(business_date=run.business_date, partition=run.partition, dry_run=dry_run,
                      status=status,
                      message=message, strategy_version=run.strategy_version, run_id=run.id,
                      started_at=run.started_at, finished_at=run.finished_at,
                      errors=list(run.errors or []), error_count=run.error_count, stats=dict(run.stats or {}))
    rep.counts = {f: getattr(run, f) for f in COUNT_FIELDS}
    return rep


def run_sweep(session: Session, business_date: dt.date, settings: Settings, *,
              partition: Partition | None = None, dry_run: bool = False, actor: Actor = SYSTEM,
              strategy: Strategy | None = None) -> SweepReport:
    """Run (or preview, with ``dry_run``) the close-of-business sweep for one business date.

    Only flushes: the caller's edge (``session_scope`` or the request) commits. ``strategy``
    overrides the active one, for previews of a strategy that is not live yet (dry run only).
    """
    partition = partition or Partition()
    if strategy is not None and not dry_run:
        raise ValidationFailed("A strategy other than the active one can only be previewed with a dry run.")
    existing = _ledger(session, business_date, partition)
    if existing is not None and existing.status in SweepStatus.DONE and not dry_run:
        return _from_ledger(existing, dry_run=False, status="already_done",
                            message=f"The sweep for {business_date} (partition {partition}) already ran "
                                    f"({existing.status}); nothing was changed.")
    strategy = strategy or strategy_service.active_strategy(session, settings)
    report = SweepReport(business_date=business_date, partition=str(partition), dry_run=dry_run,
                         status=SweepStatus.running, message="", strategy_version=strategy.version,
                         started_at=utcnow())
    if dry_run and existing is not None and existing.status in SweepStatus.DONE:
        report.stats["note"] = (f"the sweep for {business_date} already ran; "
                                 "this preview re-evaluates the book")
    state = _Run(report, settings.sweep.preview_limit)
    outer = session.begin_nested() if dry_run else None
    try:
        run = _claim(session, business_date, partition, existing, actor, strategy, report)
        if run is None:
            if outer is not None:
                outer.rollback()
            return report
        run_id = run.id
        _steps(session, business_date, settings, partition, strategy, actor, state)
        report.finished_at = utcnow()
        report.status = SweepStatus.completed_with_errors if report.error_count else SweepStatus.succeeded
        if not dry_run:
            run = session.get(SweepRun, run_id)  # the per-batch expunge detached it
            for f in COUNT_FIELDS:
                setattr(run, f, report.counts[f])
            run.status, run.finished_at = report.status, report.finished_at
            run.errors, run.error_count, run.stats = report.errors, report.error_count, report.stats
            run.strategy_version = strategy.version
            session.flush()
            record(session, actor, "sweep.run", "sweep_run", run.id,
                   after={"business_date": business_date.isoformat(), "partition": str(partition),
                          "status": report.status, **report.counts, "errors": report.error_count})
            report.run_id = run.id
        report.message = _summary(report)
    finally:
        if outer is not None and outer.is_active:
            outer.rollback()  # a dry run writes nothing
    return report


def _claim(session: Session, business_date: dt.date, partition: Partition, existing: SweepRun | None,
           actor: Actor, strategy: Strategy, report: SweepReport) -> SweepRun | None:
    """Take the ledger row for the date; None (and report filled) when another run has it."""
    if existing is not None and existing.status not in SweepStatus.DONE:
        # A previous attempt failed (it changed nothing): this attempt takes its row over.
        existing.status, existing.started_at, existing.finished_at = SweepStatus.running, utcnow(), None
        existing.triggered_by, existing.strategy_version = actor.username, strategy.version
        existing.errors, existing.error_count = None, 0
        session.flush()
        return existing
    if existing is not None:   # dry run over a finished date
        return existing
    run = SweepRun(business_date=business_date, partition=str(partition), status=SweepStatus.running,
                   started_at=report.started_at, triggered_by=actor.username,
                   strategy_version=strategy.version)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        # Another process inserted the row first (its run committed, or is committing, the same date).
        report.status = "already_done"
        report.message = (f"The sweep for {business_date} (partition {partition}) was run by another "
                          "process; nothing was changed.")
        return None
    return run


def _steps(session: Session, day: dt.date, settings: Settings, partition: Partition, strategy: Strategy,
           actor: Actor, st: _Run) -> None:
    timings: dict[str, float] = {}
    batch = settings.sweep.batch_size

    t = time.perf_counter()
    res = dpd_engine.run_dpd(session, day, settings.dpd, partition=(partition.k, partition.n))
    st.count("loans_evaluated", session.scalar(
        select(func.count()).select_from(Loan).where(Loan.status == LoanStatus.active,
                                                     partition.loan_filter(Loan.id))) or 0)
    st.r.stats["dpd"] = {"loans_changed": res.loans_changed, "loans_reset": res.loans_reset,
                         "bucket_moves": res.bucket_moves}
    timings["dpd"] = time.perf_counter() - t

    # Classification right after DPD, so tonight's strategy sees tonight's category.
    t = time.perf_counter()
    _book_wide_turn(session, day, partition)
    try:
        with session.begin_nested():
            hooks.classify_book(session, day, settings)
    except Exception as exc:
        st.error("classification", exc)
    timings["classification"] = time.perf_counter() - t

    # Restructured loans in observation (CN-RST-02): a missed payment restarts it and re-opens a case.
    t = time.perf_counter()
    try:
        with session.begin_nested():
            st.r.stats["observations"] = len(restructuring_service.check_observations(session, day, actor=actor))
    except Exception as exc:
        st.error("observations", exc)
    timings["observations"] = time.perf_counter() - t

    t = time.perf_counter()
    _open_cases(session, day, partition, actor, st, batch)
    timings["open"] = time.perf_counter() - t

    t = time.perf_counter()
    _cure_cases(session, day, partition, actor, st, batch)
    timings["cure"] = time.perf_counter() - t

    t = time.perf_counter()
    try:
        with session.begin_nested():
            st.count("promises_broken", hooks.evaluate_promises(session, day))
    except Exception as exc:
        st.error("promises", exc)
    timings["promises"] = time.perf_counter() - t

    t = time.perf_counter()
    _apply_strategy(session, day, settings, partition, strategy, actor, st, batch)
    timings["strategy"] = time.perf_counter() - t

    # Housekeeping: stale proposals expire, and the queue order follows tonight's DPD figures.
    t = time.perf_counter()
    try:
        with session.begin_nested():
            st.r.stats["proposals_expired"] = len(approvals_service.expire_stale(
                session, settings, now=utcnow(), business_date=day, actor=actor))
    except Exception as exc:
        st.error("approvals", exc)
    cases_service.refresh_priorities(session)
    timings["housekeeping"] = time.perf_counter() - t

    # Last, so the reports' snapshot holds tonight's DPD, category and case stages (issue 9).
    t = time.perf_counter()
    try:
        with session.begin_nested():
            snap = hooks.write_snapshot(session, day, (partition.k, partition.n))
        st.r.stats["snapshot"] = {"status": snap.status, "keyframe": snap.keyframe, "loans": snap.loans,
                                  "rows_written": snap.rows_written}
    except Exception as exc:
        st.error("snapshot", exc)
    timings["snapshot"] = time.perf_counter() - t

    st.r.stats["seconds"] = {k: round(v, 3) for k, v in timings.items()}


def _book_wide_turn(session: Session, day: dt.date, partition: Partition) -> None:
    """Partitions of one date running at once take turns from the book-wide classification on (it reads
    every loan's DPD and writes every loan's category): a transaction advisory lock per date, held to
    commit. DPD still runs in parallel; the last partition to pass classifies a book whose DPD is final."""
    if partition.n > 1 and session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(7_316_442_906_000_000 + day.toordinal())))


def _open_cases(session: Session, day: dt.date, partition: Partition, actor: Actor, st: _Run,
                batch: int) -> None:
    no_open_case = ~exists().where(Case.loan_id == Loan.id, Case.is_open.is_(True))
    loan_ids = session.scalars(
        select(Loan.id).where(Loan.dpd > 0, Loan.status == LoanStatus.active, no_open_case,
                              partition.loan_filter(Loan.id)).order_by(Loan.id)).all()
    for chunk in _chunks(loan_ids, batch):
        for loan_id in chunk:
            try:
                with session.begin_nested():
                    hooks.open_case(session, loan_id, business_date=day, actor=actor)
            except Exception as exc:
                st.error("open_case", exc, loan_id=loan_id)
                continue
            st.count("cases_opened")
            st.add("opened", loan_id)
        session.expunge_all()


def _cure_cases(session: Session, day: dt.date, partition: Partition, actor: Actor, st: _Run,
                batch: int) -> None:
    case_ids = session.scalars(
        select(Case.id).join(Loan, Loan.id == Case.loan_id)
        .where(Case.is_open.is_(True), Loan.dpd == 0, Loan.status != LoanStatus.written_off,
               partition.loan_filter(Loan.id)).order_by(Case.id)).all()
    for chunk in _chunks(case_ids, batch):
        for case in session.scalars(select(Case).where(Case.id.in_(chunk)).order_by(Case.id)).all():
            try:
                with session.begin_nested():
                    hooks.fire(session, case, "cure", actor=actor, business_date=day,
                               reason=f"nothing overdue any more as of {day}")
            except Exception as exc:
                st.error("cure", exc, case_id=case.id, loan_id=case.loan_id)
                continue
            st.count("cases_cured")
            st.add("cured", case.id)
        session.expunge_all()


def _facts_page(session: Session, day: dt.date, partition: Partition, after_id: int, size: int
                ) -> list[CaseFacts]:
    rows = session.execute(
        select(Case.id, Case.loan_id, Case.stage, Case.stage_entered_on, Case.broken_promises,
               Loan.dpd, Loan.overdue_amount, Loan.principal, Loan.principal_paid, Loan.product,
               Loan.restructured, Borrower.segment, Borrower.region)
        .join(Loan, Loan.id == Case.loan_id).join(Borrower, Borrower.id == Loan.borrower_id)
        .where(and_(Case.is_open.is_(True), Case.id > after_id, partition.loan_filter(Loan.id)))
        .order_by(Case.id).limit(size)).all()
    if not rows:
        return []
    classes = hooks.classifications(session, [r.loan_id for r in rows])
    contacts = hooks.last_contacts(session, [r.id for r in rows])
    out = []
    for r in rows:
        contacted = contacts.get(r.id)
        out.append(CaseFacts(
            case_id=r.id, loan_id=r.loan_id, stage=r.stage, dpd=r.dpd or 0,
            overdue_amount=r.overdue_amount or Decimal(0),
            exposure=(r.principal or Decimal(0)) - (r.principal_paid or Decimal(0)),
            classification=classes.get(r.loan_id), product=str(r.product) if r.product else None,
            segment=r.segment, region=r.region, broken_promises=r.broken_promises or 0,
            days_in_stage=days_between(day, r.stage_entered_on),
            days_since_contact=None if contacted is None else (day - contacted).days,
            restructured=bool(r.restructured)))
    return out


def _apply_strategy(session: Session, day: dt.date, settings: Settings, partition: Partition,
                    strategy: Strategy, actor: Actor, st: _Run, batch: int) -> None:
    after_id = 0
    evaluated = 0
    rule_hits: dict[str, int] = {}
    while True:
        page = _facts_page(session, day, partition, after_id, batch)
        if not page:
            break
        after_id = page[-1].case_id
        evaluated += len(page)
        todo = []
        for f in page:
            if f.days_in_stage < strategy.reevaluate_wait(f.stage):
                continue
            decision = evaluate(strategy, f)
            if decision is not None:   # how many open cases each rule matched tonight
                rule_hits[decision.rule_id] = rule_hits.get(decision.rule_id, 0) + 1
            target = forward_target(f.stage, decision)
            if decision is not None and (target or decision.proposal):
                todo.append((f, decision, target))
        if todo:
            ids = [f.case_id for f, _, _ in todo]
            cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids))).all()}
            held = hooks.held_cases(session, ids, day)
            for f, decision, target in todo:
                case = cases[f.case_id]
                if f.case_id in held:
                    st.r.stats["held_skipped"] = st.r.stats.get("held_skipped", 0) + 1
                    continue
                try:
                    with session.begin_nested():
                        _act(session, case, f, decision, target, day, actor, st)
                except Exception as exc:
                    st.error("escalate", exc, case_id=f.case_id, loan_id=f.loan_id, target=target,
                             rule=decision.rule_id)
        session.expunge_all()
    st.r.stats["cases_evaluated"] = evaluated
    st.r.stats["rule_matches"] = rule_hits


def _act(session: Session, case: Case, f: CaseFacts, decision: Any, target: str | None, day: dt.date,
         actor: Actor, st: _Run) -> None:
    """Carry out one decision inside the case's savepoint; counts only after every part succeeded."""
    planned: list[tuple[str, Any]] = []
    if target:
        hooks.fire(session, case, "escalate", actor=actor, business_date=day,
                   reason=f"strategy {decision.strategy_version}, rule {decision.rule_id}",
                   target=target, strategy_version=decision.strategy_version, rule=decision.rule_id)
        if case.strategy_version != decision.strategy_version:
            case.strategy_version = decision.strategy_version
        planned.append(("escalations", {"case_id": case.id, "loan_id": f.loan_id, "from": f.stage,
                                        "to": target, "rule": decision.rule_id, "dpd": f.dpd}))
        entry_key = f"stage:{target}:{day.isoformat()}"   # one notice per (case, template, stage entry)
        for channel, template in decision.notices:
            if hooks.enqueue_notice(session, case, channel, template, trigger_key=entry_key,
                                    business_date=day):
                planned.append(("notices", {"case_id": case.id, "channel": channel, "template": template}))
        for task in decision.tasks:
            if hooks.create_task(session, case, task, business_date=day, actor=actor, trigger_key=entry_key):
                planned.append(("tasks", {"case_id": case.id, "kind": task}))
    if decision.proposal:
        key = f"{decision.proposal}@{case.stage}@{case.stage_entered_on}"
        if hooks.propose(session, case, decision.proposal, business_date=day, actor=actor, trigger_key=key,
                         reason=f"strategy {decision.strategy_version}, rule {decision.rule_id}: "
                                f"DPD {f.dpd}"):
            planned.append(("proposals", {"case_id": case.id, "kind": decision.proposal,
                                          "rule": decision.rule_id}))
    session.flush()
    for name, item in planned:
        st.add(name, item)
        if name == "escalations":
            st.count("cases_escalated")
        elif name == "notices":
            st.count("notices_queued")
        else:
            st.r.stats[name] = st.r.stats.get(name, 0) + 1


def _summary(r: SweepReport) -> str:
    c = r.counts
    verb = "would change" if r.dry_run else "changed"
    text = (f"Sweep {r.business_date} (partition {r.partition}) {verb}: {c['cases_opened']} opened, "
            f"{c['cases_escalated']} escalated, {c['cases_cured']} cured, "
            f"{c['notices_queued']} notices queued, "
            f"{c['promises_broken']} promises broken; {c['loans_evaluated']} loans evaluated.")
    if r.error_count:
        text += f" {r.error_count} case(s) failed and were skipped; see errors."
    if r.dry_run:
        text += " Dry run: nothing was written."
    return text


# ---------------------------------------------------------------- edges: jobs, CLI and catch-up


def run_sweep_job(session_factory: sessionmaker[Session], business_date: dt.date, settings: Settings, *,
                  partition: Partition | None = None, dry_run: bool = False, actor: Actor = SYSTEM,
                  strategy: Strategy | None = None) -> SweepReport:
    """One sweep in its own transaction; a crash is recorded as a failed ledger row (retryable)."""
    partition = partition or Partition()
    try:
        with session_scope(session_factory) as s:
            return run_sweep(s, business_date, settings, partition=partition, dry_run=dry_run, actor=actor,
                             strategy=strategy)
    except Exception as exc:
        if dry_run:
            raise
        log.exception("sweep %s partition %s failed", business_date, partition)
        detail = [{"step": "run", "error": f"{type(exc).__name__}: {exc}"[:500],
                   "trace": traceback.format_exc(limit=5)[-2000:]}]
        with session_scope(session_factory) as s:
            run = _ledger(s, business_date, partition)
            if run is None:
                run = SweepRun(business_date=business_date, partition=str(partition),
                               triggered_by=actor.username)
                s.add(run)
            if run.status not in SweepStatus.DONE:
                run.status, run.finished_at = SweepStatus.failed, utcnow()
                run.errors, run.error_count = detail, 1
                s.flush()
                record(s, actor, "sweep.failed", "sweep_run", run.id,
                       after={"business_date": business_date.isoformat(), "partition": str(partition),
                              "error": detail[0]["error"]})
        return SweepReport(business_date=business_date, partition=str(partition), dry_run=False,
                           status=SweepStatus.failed, errors=detail, error_count=1,
                           message=f"The sweep for {business_date} failed and changed nothing: "
                                   f"{detail[0]['error']}. "
                                   "It will be retried by the next run.")


def business_dates(start: dt.date, end: dt.date, settings: Settings) -> list[dt.date]:
    """Business dates from start to end inclusive, per the bank's calendar settings."""
    skip: Any = ()
    if settings.sweep.holidays_country:
        import holidays
        skip = holidays.country_holidays(settings.sweep.holidays_country,
                                         years=range(start.year, end.year + 1))
    out = []
    d = start
    while d <= end:
        if not (settings.sweep.skip_weekends and d.weekday() >= 5) and d not in skip:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def last_completed(session: Session, partition: Partition | None = None) -> dt.date | None:
    partition = partition or Partition()
    return session.scalar(select(func.max(SweepRun.business_date)).where(
        SweepRun.partition == str(partition), SweepRun.status.in_(SweepStatus.DONE)))


def pending_dates(session: Session, today: dt.date, settings: Settings, partition: Partition | None = None
                  ) -> list[dt.date]:
    last = last_completed(session, partition)
    start = today if last is None else last + dt.timedelta(days=1)
    return business_dates(start, today, settings)[: settings.sweep.max_catch_up_days]


def run_pending(session_factory: sessionmaker[Session], today: dt.date, settings: Settings | None = None, *,
                partition: Partition | None = None, actor: Actor = SYSTEM) -> list[SweepReport]:
    """Catch up: run every business date since the last finished run, up to ``today``, in order.

    ``today`` is the latest business date to sweep (the scheduler passes the date that just closed).
    With no run ever recorded only ``today`` runs. Stops at the first failed date so dates never run
    out of order; the next call resumes there.
    """
    from collections_svc.config import get_settings
    settings = settings or get_settings()
    with session_scope(session_factory) as s:
        dates = pending_dates(s, today, settings, partition)
    reports = []
    for d in dates:
        rep = run_sweep_job(session_factory, d, settings, partition=partition, actor=actor)
        log.info("%s", rep.message)
        reports.append(rep)
        if rep.status == SweepStatus.failed:
            break
    return reports


def history(session: Session, limit: int = 50, offset: int = 0) -> tuple[list[SweepRun], int]:
    total = session.scalar(select(func.count()).select_from(SweepRun)) or 0
    rows = session.scalars(select(SweepRun).order_by(SweepRun.business_date.desc(), SweepRun.partition)
                           .limit(limit).offset(offset)).all()
    return list(rows), total
