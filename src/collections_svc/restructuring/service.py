"""Restructuring (贷款重组): proposals, the new schedule, CN-PLM-05 limits, observation periods.

Public entry points:

- ``build_plan(session, loan, terms)``: the new schedule side by side with the old, totals, NPV change
  at the contract rate, concession types and warnings; raises ``ValidationFailed`` on CN-PLM-05.
- ``propose(session, settings, actor, case, terms, ...)``: opens the negotiation (``open_negotiation``)
  if needed and submits a ``restructuring`` proposal to maker-checker.
- On approval (registered with ``approvals``): the loan gets the new schedule atomically (old installments
  archived in ``installment_archive``), ``restructured``/``restructure_count``, an observation period per
  CN-RST-02, the case fires ``restructure`` (-> restructured).
- On rejection: the case returns to the stage it came from (``de_escalate`` with the reason).
- ``check_observations(session, business_date)``: for the sweep; a missed payment restarts the period
  and re-opens a case; a completed period removes the restructured flag.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collections_svc import states
from collections_svc.approvals import service as approvals
from collections_svc.approvals.models import Proposal
from collections_svc.audit.service import record
from collections_svc.auth.models import Role
from collections_svc.auth.service import SYSTEM, Actor
from collections_svc.cases import service as cases_service
from collections_svc.cases.models import Case, CaseEvent
from collections_svc.common.dates import add_months
from collections_svc.config import Settings
from collections_svc.errors import Conflict, InvalidTransition, ValidationFailed
from collections_svc.loans import dpd
from collections_svc.loans.models import Installment, Loan, LoanStatus, PaymentAllocation, Product
from collections_svc.restructuring import schedule as sched
from collections_svc.restructuring.models import Observation, ScheduleArchive
from collections_svc.restructuring.schemas import REASON_CODES, Terms

__all__ = [
    "build_plan",
    "propose",
    "extension_limit",
    "observation_end",
    "check_observations",
    "active_observation",
    "schedule_history",
]

KIND = "restructuring"


def _d(v: Any) -> Decimal:
    return Decimal(str(v))


# --- CN-PLM-05 and CN-RST-02 ---------------------------------------------------------------------


def extension_limit(disbursed_on: dt.date, original_maturity_on: dt.date) -> tuple[dt.date, str]:
    """Latest maturity allowed by CN-PLM-05 (cumulative extension) and the rule applied.

    Short-term (term <= 1 year): extension <= the original term; medium (1-5 years): <= half the term;
    long (> 5 years): <= 3 years. Terms are counted in whole months (a started month counts).
    """
    term = sched.months_between(disbursed_on, original_maturity_on)
    if term <= 12:
        return add_months(original_maturity_on, term), (
            f"short-term loan ({term} months): cumulative extension at most the original term ({term} months)"
        )
    if term <= 60:
        half = term // 2
        return add_months(original_maturity_on, half), (
            f"medium-term loan ({term} months): cumulative extension at most half the original term "
            f"({half} months)"
        )
    return add_months(original_maturity_on, 36), (
        f"long-term loan ({term} months): cumulative extension at most 3 years"
    )


def observation_end(starts_on: dt.date, due_dates: list[dt.date], frequency_months: int) -> dt.date:
    """CN-RST-02: at least two consecutive repayment periods and at least one year from ``starts_on``
    (the first repayment date after the change, or the missed due date on a restart)."""
    upcoming = sorted(d for d in due_dates if d >= starts_on)
    second = upcoming[1] if len(upcoming) >= 2 else add_months(starts_on, frequency_months)
    return max(second, add_months(starts_on, 12))


def active_observation(session: Session, loan_id: int) -> Observation | None:
    return session.scalar(
        select(Observation).where(Observation.loan_id == loan_id, Observation.status == "active")
    )


def _original_maturity(session: Session, loan: Loan) -> dt.date:
    first = session.scalar(
        select(Observation.original_maturity_on)
        .where(Observation.loan_id == loan.id)
        .order_by(Observation.id)
        .limit(1)
    )
    return first or loan.maturity_on


# --- the plan ------------------------------------------------------------------------------------


def _open_installments(session: Session, loan_id: int) -> list[Installment]:
    return list(
        session.scalars(
            select(Installment)
            .where(Installment.loan_id == loan_id)
            .order_by(Installment.due_on, Installment.seq)
        )
    )


def build_plan(session: Session, loan: Loan, terms: Terms) -> dict[str, Any]:
    """The proposal's content: old vs new schedule, totals, NPV change, concessions, warnings.

    Outstanding principal is rescheduled. Unpaid interest and penalty of installments due on or before
    the change date are arrears: waived in part (``waive_*``), capitalised into the new principal, or
    added to the first new installment.
    """
    errors: list[dict[str, str]] = []
    if loan.status != LoanStatus.active:
        raise Conflict(
            f"Loan {loan.external_id} is {loan.status.value}; only an active loan can be restructured."
        )
    if terms.effective_on < loan.disbursed_on:
        errors.append({"field": "terms.effective_on", "message": "before the disbursement date"})
    insts = _open_installments(session, loan.id)
    outstanding = loan.outstanding_principal
    arrears_interest = sum(
        (
            i.interest_due - i.interest_paid
            for i in insts
            if i.settled_on is None and i.due_on <= terms.effective_on
        ),
        Decimal(0),
    )
    arrears_penalty = sum(
        (
            i.penalty_due - i.penalty_paid
            for i in insts
            if i.settled_on is None and i.due_on <= terms.effective_on
        ),
        Decimal(0),
    )
    if terms.waive_interest > arrears_interest:
        errors.append(
            {
                "field": "terms.waive_interest",
                "message": f"more than the interest in arrears ({arrears_interest})",
            }
        )
    if terms.waive_penalty > arrears_penalty:
        errors.append(
            {
                "field": "terms.waive_penalty",
                "message": f"more than the penalty in arrears ({arrears_penalty})",
            }
        )
    if errors:
        raise ValidationFailed("The restructuring terms are inconsistent with the loan.", errors=errors)
    carry_interest = arrears_interest - terms.waive_interest
    carry_penalty = arrears_penalty - terms.waive_penalty
    capitalised = carry_interest + carry_penalty if terms.capitalise_arrears else Decimal(0)
    new_principal = outstanding + capitalised
    rate = terms.annual_rate if terms.annual_rate is not None else Decimal(loan.annual_rate)
    try:
        rows = sched.generate(
            principal=new_principal,
            annual_rate=rate,
            method=terms.method,
            first_due_on=terms.first_due_on,
            count=terms.count,
            frequency_months=terms.frequency_months,
            grace_periods=terms.grace_periods,
            custom_principal=[(c.due_on, c.principal) for c in terms.custom] if terms.custom else None,
        )
    except sched.ScheduleError as e:
        raise ValidationFailed(e.message, errors=[{"field": f"terms.{e.field}", "message": e.message}]) from e
    if rows[0].due_on <= terms.effective_on:
        raise ValidationFailed(
            "The first new due date must be after the change date.",
            errors=[{"field": "terms.first_due_on", "message": "not after effective_on"}],
        )
    if not terms.capitalise_arrears and (carry_interest or carry_penalty):
        r0 = rows[0]
        rows[0] = sched.Row(r0.seq, r0.due_on, r0.principal, r0.interest + carry_interest, carry_penalty)
    new_maturity = rows[-1].due_on

    # CN-PLM-05: cumulative extension limit from the original maturity.
    original_maturity = _original_maturity(session, loan)
    limit, rule = extension_limit(loan.disbursed_on, original_maturity)
    if new_maturity > limit:
        months = sched.months_between(original_maturity, new_maturity)
        msg = (
            f"The new maturity {new_maturity} extends the loan by {months} months beyond its original "
            f"maturity {original_maturity}; CN-PLM-05 ({rule}) allows a maturity of {limit} at the latest."
        )
        raise ValidationFailed(
            msg,
            errors=[{"field": "terms.count", "message": msg}],
            rule="CN-PLM-05",
            latest_maturity=str(limit),
        )

    # Old schedule: what is still owed under it (remaining unpaid amounts) vs the new one.
    old_rows = [
        sched.Row(
            i.seq,
            i.due_on,
            i.principal_due - i.principal_paid,
            i.interest_due - i.interest_paid,
            i.penalty_due - i.penalty_paid,
        )
        for i in insts
        if i.settled_on is None
    ]
    unscheduled = outstanding - sum((r.principal for r in old_rows), Decimal(0))
    if unscheduled > 0:  # principal beyond the schedule falls due at maturity
        old_rows.append(sched.Row(len(insts) + 1, loan.maturity_on, unscheduled, Decimal(0)))
    contract_rate = Decimal(loan.annual_rate)
    npv_old = sched.npv([(r.due_on, r.total) for r in old_rows], contract_rate, terms.effective_on)
    npv_new = sched.npv([(r.due_on, r.total) for r in rows], contract_rate, terms.effective_on)

    types = ["new_installment_plan"]
    if new_maturity > loan.maturity_on:
        types.insert(0, "term_extension")
    if terms.grace_periods > 0:
        types.append("grace_period")
    if rate != contract_rate:
        types.append("rate_change")
    if capitalised > 0:
        types.append("capitalisation")
    if terms.waive_interest > 0 or terms.waive_penalty > 0:
        types.append("partial_waiver")

    warnings: list[dict[str, str]] = []
    obs = active_observation(session, loan.id)
    if obs is not None:
        warnings.append(
            {
                "rule": "CN-RST-04",
                "message": (
                    f"The loan is still in the observation period of restructuring "
                    f"#{obs.restructuring_no} (until {obs.ends_on}); restructuring it again sets its "
                    "classification floor at 可疑 doubtful and restarts the observation period."
                ),
            }
        )
    if loan.product == Product.working_capital and new_maturity > add_months(loan.disbursed_on, 60):
        warnings.append(
            {
                "rule": "CN-PLM-04",
                "message": ("A working-capital loan would run beyond 5 years from disbursement."),
            }
        )
    if not loan.dpd and terms.reason_code == "overdue":
        warnings.append(
            {"rule": "CN-RST-01", "message": "Reason 'overdue' given but nothing is overdue today."}
        )

    return {
        "loan_id": loan.id,
        "reason_code": terms.reason_code,
        "reason_label": REASON_CODES[terms.reason_code],
        "types": types,
        "effective_on": terms.effective_on.isoformat(),
        "outstanding_principal": str(outstanding),
        "arrears": {"interest": str(arrears_interest), "penalty": str(arrears_penalty)},
        "waived": {"interest": str(terms.waive_interest), "penalty": str(terms.waive_penalty)},
        "capitalised": str(capitalised),
        "new_principal": str(new_principal),
        "contract_rate": str(contract_rate),
        "new_rate": str(rate),
        "old_maturity_on": loan.maturity_on.isoformat(),
        "new_maturity_on": new_maturity.isoformat(),
        "original_maturity_on": original_maturity.isoformat(),
        "latest_maturity_allowed": limit.isoformat(),
        "frequency_months": terms.frequency_months,
        "old_schedule": [r.as_dict() for r in old_rows],
        "new_schedule": [r.as_dict() for r in rows],
        "totals": {"old": sched.totals(old_rows), "new": sched.totals(rows)},
        "npv": {
            "old": str(npv_old),
            "new": str(npv_new),
            "change": str(npv_new - npv_old),
            "discount_rate": str(contract_rate),
        },
        "warnings": warnings,
    }


# --- proposing -----------------------------------------------------------------------------------


def _came_from(session: Session, case: Case) -> str | None:
    """The stage the case was in before its current negotiation."""
    ev = session.scalar(
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind == "stage_change",
            CaseEvent.to_stage == "restructuring",
        )
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    return ev.from_stage if ev is not None else None


def propose(
    session: Session,
    settings: Settings,
    actor: Actor,
    case: Case,
    terms: Terms,
    *,
    business_date: dt.date,
    now: dt.datetime,
    comment: str | None = None,
) -> Proposal:
    """Open the negotiation if the case is not in it yet and submit a restructuring proposal."""
    if not case.is_open:
        raise Conflict(f"Case {case.id} is {case.stage}; a restructuring needs an open case.")
    loan = session.get(Loan, case.loan_id)
    plan = build_plan(session, loan, terms)
    if case.stage != "restructuring":
        states.fire(
            session,
            case,
            "open_negotiation",
            actor=actor,
            business_date=business_date,
            reason=f"restructuring proposed ({REASON_CODES[terms.reason_code]})",
        )
    payload = {
        "terms": terms.model_dump(mode="json"),
        "plan": plan,
        "came_from_stage": _came_from(session, case),
    }
    title = f"Restructuring of loan {loan.external_id}: {', '.join(plan['types'])}"
    return approvals.create_proposal(
        session,
        settings,
        actor,
        kind=KIND,
        loan_id=loan.id,
        case_id=case.id,
        payload=payload,
        title=title,
        business_date=business_date,
        now=now,
        comment=comment,
    )


# --- approval: the new schedule, atomically ------------------------------------------------------


def _apply_schedule(
    session: Session, loan: Loan, p: Proposal, rows: list[dict[str, str]], effective_on: dt.date
) -> int:
    """Archive the current schedule, close what it still owed, add the new installments."""
    version = loan.restructure_count + 1
    insts = _open_installments(session, loan.id)
    allocated = set(
        session.scalars(
            select(PaymentAllocation.installment_id).where(
                PaymentAllocation.installment_id.in_([i.id for i in insts])
            )
        )
    )
    for i in insts:
        session.add(
            ScheduleArchive(
                loan_id=loan.id,
                schedule_version=version,
                proposal_id=p.id,
                seq=i.seq,
                due_on=i.due_on,
                principal_due=i.principal_due,
                interest_due=i.interest_due,
                penalty_due=i.penalty_due,
                principal_paid=i.principal_paid,
                interest_paid=i.interest_paid,
                penalty_paid=i.penalty_paid,
                settled_on=i.settled_on,
                archived_on=effective_on,
            )
        )
        if i.settled_on is not None:
            continue  # paid history stays in place
        if i.id in allocated:
            # Partly paid: keep what was paid (allocations point here); the rest moved to the new plan.
            i.principal_due, i.interest_due, i.penalty_due = i.principal_paid, i.interest_paid, i.penalty_paid
            i.settled_on = effective_on
        else:
            loan.installments.remove(i)
    session.flush()
    next_seq = max((i.seq for i in loan.installments), default=0) + 1
    for k, r in enumerate(rows):
        loan.installments.append(
            Installment(
                loan_id=loan.id,
                seq=next_seq + k,
                due_on=dt.date.fromisoformat(r["due_on"]),
                principal_due=_d(r["principal"]),
                interest_due=_d(r["interest"]),
                penalty_due=_d(r["penalty"]),
            )
        )
    session.flush()
    return version


def _on_approve(
    session: Session, settings: Settings, p: Proposal, actor: Actor, business_date: dt.date
) -> dict[str, Any]:
    loan = session.scalar(select(Loan).where(Loan.id == p.loan_id).with_for_update())
    plan, terms = p.payload["plan"], p.payload["terms"]
    if loan.status != LoanStatus.active:
        raise Conflict(
            f"Loan {loan.external_id} is {loan.status.value}; the restructuring can no longer apply."
        )
    if loan.outstanding_principal != _d(plan["outstanding_principal"]):
        raise Conflict(
            f"Loan {loan.external_id} changed since the proposal (outstanding principal was "
            f"{plan['outstanding_principal']}, now {loan.outstanding_principal}); withdraw the proposal and "
            "propose again with the current figures."
        )
    case = session.get(Case, p.case_id) if p.case_id else None
    if case is not None and case.is_open and case.stage != "restructuring":
        raise Conflict(
            f"Case {case.id} is in {case.stage}, not in restructuring negotiation; the approval "
            "cannot take effect."
        )
    effective_on = dt.date.fromisoformat(plan["effective_on"])
    before = {
        "maturity_on": str(loan.maturity_on),
        "annual_rate": str(loan.annual_rate),
        "principal": str(loan.principal),
        "restructure_count": loan.restructure_count,
    }
    original_maturity = _original_maturity(session, loan)
    version = _apply_schedule(session, loan, p, plan["new_schedule"], effective_on)
    loan.principal = loan.principal + _d(plan["capitalised"])
    loan.maturity_on = dt.date.fromisoformat(plan["new_maturity_on"])
    loan.annual_rate = _d(plan["new_rate"])
    loan.scheduled_principal = sum((i.principal_due for i in loan.installments), Decimal(0))
    loan.restructured = True
    loan.restructure_count = loan.restructure_count + 1

    # Observation period (CN-RST-02); a restructuring inside a running one is flagged (CN-RST-04).
    prior = active_observation(session, loan.id)
    if prior is not None:
        prior.status = "superseded"
        prior.completed_on = effective_on
        session.flush()
    new_dues = [dt.date.fromisoformat(r["due_on"]) for r in plan["new_schedule"]]
    starts = min(d for d in new_dues if d > effective_on)
    obs = Observation(
        loan_id=loan.id,
        proposal_id=p.id,
        restructuring_no=loan.restructure_count,
        reason_code=plan["reason_code"],
        change_on=effective_on,
        starts_on=starts,
        ends_on=observation_end(starts, new_dues, int(terms["frequency_months"])),
        frequency_months=int(terms["frequency_months"]),
        status="active",
        restart_count=0,
        re_restructured=prior is not None,
        original_maturity_on=original_maturity,
    )
    session.add(obs)
    session.flush()
    record(
        session,
        actor,
        "loan.restructure",
        "loan",
        loan.id,
        before=before,
        after={
            "maturity_on": str(loan.maturity_on),
            "annual_rate": str(loan.annual_rate),
            "principal": str(loan.principal),
            "restructure_count": loan.restructure_count,
            "schedule_version_archived": version,
            "proposal_id": p.id,
            "observation": {"starts_on": str(obs.starts_on), "ends_on": str(obs.ends_on)},
            "re_restructured_in_observation": obs.re_restructured,
        },
    )
    dpd.run_dpd(session, business_date, settings.dpd, loan_ids=[loan.id])
    if case is not None and case.is_open:
        states.fire(
            session,
            case,
            "restructure",
            actor=actor,
            business_date=business_date,
            approved=True,
            reason=f"restructuring proposal #{p.id} approved",
            proposal_id=p.id,
        )
    return {
        "observation_id": obs.id,
        "observation_starts_on": str(obs.starts_on),
        "observation_ends_on": str(obs.ends_on),
        "archived_schedule_version": version,
        "re_restructured_in_observation": obs.re_restructured,
        "classification_floor": "doubtful" if obs.re_restructured else "special_mention",
    }


def _last_comment(p: Proposal) -> str:
    for d in reversed(p.decisions):
        if d.comment:
            return d.comment
    return ""


def _on_reject(
    session: Session, settings: Settings, p: Proposal, actor: Actor, business_date: dt.date
) -> dict[str, Any]:
    """The case goes back to the stage it came from (``de_escalate``, by the rejecting supervisor, with
    the reason). If that is not possible (no earlier stage known, or the checker is not a supervisor),
    the case stays in negotiation and the rejection is on its timeline."""
    case = session.get(Case, p.case_id) if p.case_id else None
    target = p.payload.get("came_from_stage")
    if case is None or not case.is_open or case.stage != "restructuring":
        return {"case_stage": case.stage if case else None}
    reason = f"restructuring proposal #{p.id} rejected: {_last_comment(p)}"
    if target and target != "restructuring" and actor.role == Role.supervisor:
        with contextlib.suppress(InvalidTransition):  # e.g. the target is no longer earlier
            states.fire(
                session,
                case,
                "de_escalate",
                actor=actor,
                business_date=business_date,
                reason=reason,
                target=target,
                proposal_id=p.id,
            )
    return {"case_stage": case.stage}


approvals.register_kind(
    approvals.KindHandler(KIND, "restructuring", on_approve=_on_approve, on_reject=_on_reject)
)


# --- observation periods, for the sweep ----------------------------------------------------------


def check_observations(
    session: Session, business_date: dt.date, *, actor: Actor = SYSTEM
) -> list[dict[str, Any]]:
    """Run after the DPD pass of ``business_date``. For every active observation period:

    - an installment due in the period (on or after its start, before ``business_date``) that was not
      paid in full by its due date restarts the period from that due date (CN-RST-02) and re-opens a
      collection case for the loan (its ``observation_breach`` event tells the strategy to route it
      straight to a late stage);
    - a period that reached its end without a miss is completed and the loan's restructured flag removed.
    Returns one dict per change.
    """
    out: list[dict[str, Any]] = []
    for obs in list(
        session.scalars(select(Observation).where(Observation.status == "active").order_by(Observation.id))
    ):
        floor = obs.last_missed_due_on or (obs.starts_on - dt.timedelta(days=1))
        insts = _open_installments(session, obs.loan_id)
        missed = [
            i
            for i in insts
            if i.due_on >= obs.starts_on
            and i.due_on > floor
            and i.due_on < business_date
            and i.total_due > 0
            and (i.settled_on is None or i.settled_on > i.due_on)
        ]
        loan = session.get(Loan, obs.loan_id)
        if missed:
            m = missed[0]
            before = {"starts_on": str(obs.starts_on), "ends_on": str(obs.ends_on)}
            obs.starts_on = m.due_on
            obs.ends_on = observation_end(m.due_on, [i.due_on for i in insts], obs.frequency_months)
            obs.restart_count += 1
            obs.last_missed_due_on = m.due_on
            session.flush()
            record(
                session,
                actor,
                "restructuring.observation_restart",
                "restructuring_observation",
                obs.id,
                before=before,
                after={
                    "starts_on": str(obs.starts_on),
                    "ends_on": str(obs.ends_on),
                    "missed_due_on": str(m.due_on),
                    "rule": "CN-RST-02",
                },
            )
            case = _reopen_case(session, loan, obs, m.due_on, business_date, actor)
            out.append(
                {
                    "loan_id": loan.id,
                    "action": "restarted",
                    "missed_due_on": m.due_on,
                    "starts_on": obs.starts_on,
                    "ends_on": obs.ends_on,
                    "case_id": case.id if case else None,
                }
            )
        elif business_date >= obs.ends_on:
            obs.status = "completed"
            obs.completed_on = business_date
            loan.restructured = False
            session.flush()
            record(
                session,
                actor,
                "restructuring.observation_complete",
                "restructuring_observation",
                obs.id,
                after={"ends_on": str(obs.ends_on), "loan_restructured": False, "rule": "CN-RST-02"},
            )
            out.append({"loan_id": loan.id, "action": "completed", "ends_on": obs.ends_on})
    return out


def _reopen_case(
    session: Session, loan: Loan, obs: Observation, missed_on: dt.date, business_date: dt.date, actor: Actor
) -> Case | None:
    case = session.scalar(select(Case).where(Case.loan_id == loan.id, Case.is_open.is_(True)))
    if case is None and loan.status == LoanStatus.active and (loan.dpd or 0) > 0:
        case = cases_service.open_case(session, loan.id, business_date=business_date, actor=actor)
    if case is None:
        return None
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="observation_breach",
            actor=actor.username,
            business_date=business_date,
            reason=f"missed payment due {missed_on} during the observation period of restructuring "
            f"#{obs.restructuring_no}; observation restarted until {obs.ends_on}",
            data={
                "restructured": True,
                "observation_id": obs.id,
                "missed_due_on": str(missed_on),
                "observation_ends_on": str(obs.ends_on),
                "route_to_late_stage": True,
                "rule": "CN-RST-02",
            },
        )
    )
    session.flush()
    return case


def schedule_history(session: Session, loan_id: int) -> dict[int, list[ScheduleArchive]]:
    out: dict[int, list[ScheduleArchive]] = {}
    for a in session.scalars(
        select(ScheduleArchive)
        .where(ScheduleArchive.loan_id == loan_id)
        .order_by(ScheduleArchive.schedule_version, ScheduleArchive.seq)
    ):
        out.setdefault(a.schedule_version, []).append(a)
    return out
