"""Stateful property test: random triggers, payments and holds from several actors keep every invariant.

Invariants: closed stages are absorbing; at most one open case per loan; every stage change has exactly
one case_event (and the events chain from the opening stage to the current one); a held case is never
escalated by the system.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import hypothesis.strategies as st
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collections_svc import states
from collections_svc.auth.models import Role
from collections_svc.auth.service import SYSTEM, Actor
from collections_svc.cases import service as cases
from collections_svc.cases.models import Case, CaseEvent, CaseHold
from collections_svc.errors import Conflict, InvalidTransition, ValidationFailed
from collections_svc.loans.models import Loan
from collections_svc.states.machine import AUTOMATIC_BLOCKED_WHEN_HELD
from tests.cases.helpers import TODAY, overdue_loan
from tests.factories import pay

ACTORS = [
    SYSTEM,
    Actor(id=9101, username="collector_a", role=Role.collector, team="east"),
    Actor(id=9102, username="collector_b", role=Role.collector, team="west"),
    Actor(id=9201, username="supervisor_s", role=Role.supervisor, team="east"),
]
N_LOANS = 3


def make_machine(engine, app_settings):
    class CaseLifecycle(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.conn = engine.connect()
            self.trans = self.conn.begin()
            self.session = Session(
                bind=self.conn, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            self.today = TODAY
            self.loans = [overdue_loan(self.session, app_settings, borrower="PBT1") for _ in range(N_LOANS)]
            self.changes: dict[int, int] = {}  # case id -> stage changes we made
            self.closed: dict[int, str] = {}  # case id -> the closed stage it reached

        def teardown(self):
            self.session.close()
            self.trans.rollback()
            self.conn.close()

        def _cases(self) -> list[Case]:
            return list(self.session.scalars(select(Case).order_by(Case.id)))

        def _open_case(self, i: int) -> Case | None:
            return self.session.scalar(
                select(Case).where(Case.loan_id == self.loans[i].id, Case.is_open.is_(True))
            )

        @rule(i=st.integers(0, N_LOANS - 1), who=st.sampled_from(ACTORS))
        def open_case(self, i, who):
            before = self._open_case(i)
            try:
                case = cases.open_case(self.session, self.loans[i].id, business_date=self.today, actor=who)
            except Conflict:
                assert self.session.scalar(select(Loan.dpd).where(Loan.id == self.loans[i].id)) == 0
                return
            assert case.is_open
            if before is None:
                assert case.stage == "classified"
            else:
                assert before.id == case.id  # idempotent: the open case comes back
            self.changes.setdefault(case.id, 0)

        @rule(
            pick=st.integers(0, 50),
            trigger=st.sampled_from(states.TRIGGERS),
            who=st.sampled_from(ACTORS),
            to=st.sampled_from([None, *states.STAGES]),
            approved=st.booleans(),
            reason=st.sampled_from([None, "", "borrower asked"]),
        )
        def fire(self, pick, trigger, who, to, approved, reason):
            all_cases = self._cases()
            if not all_cases:
                return
            case = all_cases[pick % len(all_cases)]
            before = case.stage
            n_events = self._n_events(case.id)
            try:
                states.fire(
                    self.session,
                    case,
                    trigger,
                    actor=who,
                    business_date=self.today,
                    reason=reason,
                    target=to,
                    approved=approved,
                )
            except InvalidTransition as e:
                assert case.stage == before
                assert self._n_events(case.id) == n_events
                assert before.replace("_", " ") in e.detail
                return
            assert before not in states.CLOSED_STAGES, "a closed stage was left"
            self.changes[case.id] = self.changes.get(case.id, 0) + 1
            if case.stage in states.CLOSED_STAGES:
                self.closed[case.id] = case.stage

        @rule(i=st.integers(0, N_LOANS - 1), full=st.booleans())
        def payment(self, i, full):
            loan = self.loans[i]
            overdue = self.session.scalar(select(Loan.overdue_amount).where(Loan.id == loan.id))
            if overdue <= 0:
                return
            case = self._open_case(i)
            amount = overdue if full else min(Decimal("1000.00"), overdue)
            pay(self.session, app_settings, loan, str(amount), str(self.today))
            if case is not None:
                cured = self.session.scalar(select(Loan.dpd).where(Loan.id == loan.id)) == 0
                assert case.stage == "resolved" if cured else case.stage != "resolved"
                if cured:
                    self.changes[case.id] = self.changes.get(case.id, 0) + 1
                    self.closed[case.id] = "resolved"

        @rule(
            i=st.integers(0, N_LOANS - 1),
            kind=st.sampled_from(["dispute", "bankruptcy_stay", "supervisor_hold"]),
            back=st.integers(0, 10),
            length=st.sampled_from([None, 1, 5, 30]),
            who=st.sampled_from(ACTORS[1:]),
        )
        def hold(self, i, kind, back, length, who):
            case = self._open_case(i)
            if case is None:
                return
            start = self.today - dt.timedelta(days=back)
            end = None if length is None else start + dt.timedelta(days=length)
            try:
                cases.add_hold(
                    self.session,
                    case,
                    kind=kind,
                    starts_on=start,
                    ends_on=end,
                    reason="pbt",
                    actor=who,
                    business_date=self.today,
                )
            except Exception as e:  # a collector may not place a supervisor hold
                assert kind == "supervisor_hold" and who.role == Role.collector, e

        @rule(i=st.integers(0, N_LOANS - 1), to=st.sampled_from(["phone_reminder", "letter", "visit"]))
        def automatic_escalation(self, i, to):
            """What the sweep does: the system escalates; a held case must refuse."""
            case = self._open_case(i)
            if case is None:
                return
            held = cases.is_on_hold(case, self.today)
            try:
                states.fire(self.session, case, "escalate", actor=SYSTEM, business_date=self.today, target=to)
            except InvalidTransition:
                return
            assert not held, "the system escalated a held case"
            self.changes[case.id] = self.changes.get(case.id, 0) + 1

        @rule(days=st.integers(1, 10))
        def next_day(self, days):
            self.today += dt.timedelta(days=days)

        @rule(i=st.integers(0, N_LOANS - 1))
        def evaluate(self, i):
            try:
                cases.evaluate_promises(self.session, self.today, loan_ids=[self.loans[i].id])
            except ValidationFailed:
                raise

        def _n_events(self, case_id: int) -> int:
            return self.session.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "stage_change")
            )

        @invariant()
        def closed_stages_are_absorbing(self):
            for case in self._cases():
                if case.id in self.closed:
                    assert case.stage == self.closed[case.id] and not case.is_open
                assert case.is_open == (case.stage in states.OPEN_STAGES)

        @invariant()
        def one_open_case_per_loan(self):
            rows = self.session.execute(
                select(Case.loan_id, func.count()).where(Case.is_open.is_(True)).group_by(Case.loan_id)
            ).all()
            assert all(n == 1 for _, n in rows), rows

        @invariant()
        def one_event_per_stage_change(self):
            for case in self._cases():
                evs = list(
                    self.session.scalars(
                        select(CaseEvent)
                        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "stage_change")
                        .order_by(CaseEvent.id)
                    )
                )
                assert len(evs) == self.changes.get(case.id, 0)
                stage = "classified"
                for e in evs:
                    assert e.from_stage == stage and e.to_stage != stage
                    stage = e.to_stage
                assert stage == case.stage

        @invariant()
        def held_cases_never_escalated_by_the_system(self):
            for e, case_id in self.session.execute(
                select(CaseEvent, CaseEvent.case_id).where(
                    CaseEvent.kind == "stage_change",
                    CaseEvent.actor == "system",
                    CaseEvent.trigger.in_(AUTOMATIC_BLOCKED_WHEN_HELD),
                )
            ).all():
                holds = self.session.scalars(select(CaseHold).where(CaseHold.case_id == case_id)).all()
                assert not any(h.covers(e.business_date) and h.created_at <= e.at for h in holds)

    return CaseLifecycle


def test_case_lifecycle_invariants(engine, settings):
    run_state_machine_as_test(
        make_machine(engine, settings),
        settings=hsettings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
