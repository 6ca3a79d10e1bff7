"""Classification overrides: the only way a category improves, or an IFRS 9 presumption is rebutted.

An override is an approvals proposal of kind ``classification_override`` (one maker-checker mechanism,
one inbox, one trail): a risk officer, supervisor or admin proposes it here with a reason; someone
else with authority for the loan's outstanding principal approves or rejects it through
``/api/v1/approvals/{id}/approve|reject`` (second approval above the threshold, expiry: as for every
kind). Upgrades out of NPL are checked against CN-CLS-09 and CN-RST-03 both when proposed and when
approved (time passes in between). The final approval applies the target at once, writes a history
row with source ``override``, and records the rule minima it rebuts (the caps the engine respects).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from collections_svc.approvals import service as approvals
from collections_svc.approvals.models import Proposal
from collections_svc.audit.service import record
from collections_svc.auth.models import Role
from collections_svc.auth.service import Actor
from collections_svc.cases.models import Case
from collections_svc.common.dates import add_months
from collections_svc.config import Settings
from collections_svc.db import utcnow
from collections_svc.errors import Conflict, Forbidden, NotFound, ValidationFailed
from collections_svc.loans.models import Installment, Loan
from collections_svc.monitoring.classification import classify_loans
from collections_svc.monitoring.models import (
    NPL_RANK,
    RANK,
    ClassificationHistory,
    LoanClassification,
)

KIND = "classification_override"
# Who may propose. Who may decide is the approvals rule: not the maker, authority for the amount.
MAKERS = (Role.risk_officer, Role.supervisor, Role.admin)


class UpgradeBlocked(Conflict):
    code = "classification-upgrade-blocked"
    title = "This classification upgrade is not allowed yet"


def presumed_stage(dpd: int, settings: Settings) -> int:
    c = settings.classification
    return 3 if dpd > c.ifrs9_stage3_over_dpd else 2 if dpd > c.ifrs9_stage2_over_dpd else 1


def current(session: Session, loan_id: int, business_date: dt.date, settings: Settings) -> LoanClassification:
    """The loan's classification row, classifying it first if the engine has not seen it yet."""
    if session.get(Loan, loan_id) is None:
        raise NotFound(f"Loan {loan_id} does not exist.")
    state = session.get(LoanClassification, loan_id)
    if state is None:
        classify_loans(session, [loan_id], business_date, settings)
        state = session.get(LoanClassification, loan_id)
    if state is None:
        raise Conflict(f"Loan {loan_id} is not active, so it has no current classification.")
    return state


def upgrade_check(
    session: Session, loan: Loan, state: LoanClassification, target: str, on: dt.date, settings: Settings
) -> dict:
    """Raise ``UpgradeBlocked`` when an upgrade out of NPL breaks CN-CLS-09 or CN-RST-03; return the
    evidence."""
    if state.category_rank < NPL_RANK or RANK[target] >= NPL_RANK:
        return {}
    if loan.restructured:
        raise UpgradeBlocked(
            "A non-performing restructured loan cannot be upgraded during its observation period "
            "(CN-RST-03).",
            rule_id="CN-RST-03",
        )
    insts = list(
        session.scalars(
            select(Installment)
            .where(Installment.loan_id == loan.id)
            .order_by(Installment.due_on, Installment.seq)
        )
    )
    overdue = [i for i in insts if i.due_on < on and (i.settled_on is None or i.settled_on > on)]
    if overdue:
        raise UpgradeBlocked(
            f"The arrears are not repaid: {len(overdue)} installment(s) due before {on} are still unpaid "
            "(CN-CLS-09 a).",
            rule_id="CN-CLS-09",
            unpaid_installments=len(overdue),
        )
    late = [
        i.settled_on
        for i in insts
        if i.settled_on is not None and i.settled_on > i.due_on and i.settled_on <= on
    ]
    # Never paid late: count normal payment from the day the loan became NPL.
    cured_on = max(late) if late else state.since
    cfg = settings.classification
    after = [i for i in insts if i.due_on > cured_on]
    periods_done = [
        i
        for i in after[: cfg.upgrade_periods]
        if i.due_on <= on and i.settled_on is not None and i.settled_on <= i.due_on
    ]
    nth = after[cfg.upgrade_periods - 1].due_on if len(after) >= cfg.upgrade_periods else None
    earliest = max(add_months(cured_on, cfg.upgrade_months), nth or add_months(cured_on, cfg.upgrade_months))
    evidence = {
        "rule_id": "CN-CLS-09",
        "cured_on": cured_on.isoformat(),
        "earliest_on": earliest.isoformat(),
        "periods_paid_on_time": len(periods_done),
        "periods_required": cfg.upgrade_periods,
        "months_required": cfg.upgrade_months,
    }
    if on < earliest or len(periods_done) < min(cfg.upgrade_periods, len(after)):
        raise UpgradeBlocked(
            f"Arrears were repaid on {cured_on}; an upgrade out of non-performing needs "
            f"{cfg.upgrade_periods} "
            f"consecutive periods and {cfg.upgrade_months} months of normal payment after that, whichever is "
            f"longer. The earliest date is {earliest} (CN-CLS-09).",
            rule_id="CN-CLS-09",
            earliest_on=earliest.isoformat(),
            cured_on=cured_on.isoformat(),
        )
    other_npl = session.scalar(
        select(LoanClassification.loan_id)
        .join(Loan, Loan.id == LoanClassification.loan_id)
        .where(
            Loan.borrower_id == loan.borrower_id,
            Loan.id != loan.id,
            Loan.status == "active",
            LoanClassification.category_rank >= NPL_RANK,
        )
        .limit(1)
    )
    if other_npl is not None:
        raise UpgradeBlocked(
            f"The borrower still has a non-performing loan here (loan {other_npl}); "
            "every credit-impaired asset "
            "of the debtor must be resolved first (CN-CLS-09 c).",
            rule_id="CN-CLS-09",
            other_loan_id=other_npl,
        )
    return evidence


def _label(category: str | None, stage: int | None) -> str:
    return " / ".join(
        x for x in ((category or "").replace("_", " "), f"stage {stage}" if stage else "") if x
    )


def propose(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    loan_id: int,
    business_date: dt.date,
    reason: str,
    target_category: str | None = None,
    target_stage: int | None = None,
    valid_until: dt.date | None = None,
    evidence: dict | None = None,
    now: dt.datetime | None = None,
) -> Proposal:
    """Validate and submit a ``classification_override`` proposal (CN-CLS-09 / CN-RST-03 checked now)."""
    if actor.role not in MAKERS:
        raise Forbidden("Only a risk officer, supervisor or admin may propose a classification change.")
    if target_category is None and target_stage is None:
        raise ValidationFailed(
            "Say what should change: a target category, a target IFRS 9 stage, or both.",
            errors=[{"field": "target_category", "message": "required without target_stage"}],
        )
    if target_category is not None and target_category not in RANK:
        raise ValidationFailed(
            f"Unknown category {target_category!r}.", errors=[{"field": "target_category", "message": "unknown"}]
        )
    if not reason or len(reason.strip()) < 10:
        raise ValidationFailed(
            "Give the reason for the change (at least 10 characters).",
            errors=[{"field": "reason", "message": "too short"}],
        )
    # Lock the loan row: two makers proposing at once must not both pass create_proposal's "one open
    # proposal per loan" check (the old table had a unique index for that; approval_proposal has none).
    session.execute(select(Loan.id).where(Loan.id == loan_id).with_for_update())
    loan = session.get(Loan, loan_id)
    state = current(session, loan_id, business_date, settings)
    check = (
        upgrade_check(session, loan, state, target_category, business_date, settings)
        if target_category
        else {}
    )
    payload = {
        "from_category": state.category,
        "target_category": target_category,
        "from_stage": state.ifrs9_stage,
        "target_stage": target_stage,
        "reason": reason.strip(),
        "evidence": {**(evidence or {}), **({"upgrade_check": check} if check else {})},
        "valid_until": valid_until.isoformat() if valid_until else None,
        "business_date": business_date.isoformat(),
    }
    # On the open collection case's timeline too, when the loan has one (the approvals trail feeds it).
    case_id = session.scalar(
        select(Case.id).where(Case.loan_id == loan_id, Case.closed_on.is_(None)).order_by(Case.id.desc()).limit(1)
    )
    frm = _label(state.category if target_category else None, state.ifrs9_stage if target_stage else None)
    to = _label(target_category, target_stage)
    # At most one open proposal per loan and kind: create_proposal answers 409 otherwise.
    return approvals.create_proposal(
        session,
        settings,
        actor,
        kind=KIND,
        loan_id=loan_id,
        case_id=case_id,
        payload=payload,
        title=f"Classification override: {frm} -> {to}",
        business_date=business_date,
        now=now or utcnow(),
        comment=payload["reason"],
    )


def _apply(
    session: Session, settings: Settings, p: Proposal, actor: Actor, business_date: dt.date
) -> dict:
    """The final approval: bring the loan up to date as of today, re-check the upgrade rules, apply."""
    o = p.payload
    target_category, target_stage = o.get("target_category"), o.get("target_stage")
    if (target_category is None and target_stage is None) or (target_category and target_category not in RANK):
        raise ValidationFailed(f"Proposal {p.id} names no valid target category or stage; reject it.")
    valid_until = dt.date.fromisoformat(o["valid_until"]) if o.get("valid_until") else None
    classify_loans(session, [p.loan_id], business_date, settings)
    loan = session.get(Loan, p.loan_id)
    state = session.get(LoanClassification, p.loan_id)
    if state is None:
        raise Conflict("This loan is no longer active; the change cannot be applied.")
    if target_category:
        # Time passed since the proposal: CN-CLS-09 / CN-RST-03 must still hold (409 rolls the approval back).
        upgrade_check(session, loan, state, target_category, business_date, settings)
    before = {"category": state.category, "ifrs9_stage": state.ifrs9_stage}
    from_cat, from_stage = state.category, state.ifrs9_stage
    if target_category:
        if state.category != target_category:
            state.since = business_date
        state.category, state.category_rank = target_category, RANK[target_category]
    if target_stage:
        if state.ifrs9_stage != target_stage:
            state.ifrs9_since = business_date
        state.ifrs9_stage = target_stage
    state.override_id, state.override_until = p.id, valid_until
    # What the rules demand now is rebutted while the override is in force; anything worse still applies.
    state.override_category_cap = state.floor_rank if target_category else 0
    state.override_stage_cap = presumed_stage(loan.dpd, settings) if target_stage else 0
    approvers = [d for d in p.decisions if d.decision == "approved"]
    session.add(
        ClassificationHistory(
            loan_id=p.loan_id,
            business_date=business_date,
            from_category=from_cat,
            to_category=state.category,
            from_stage=from_stage,
            to_stage=state.ifrs9_stage,
            eu_default=state.eu_default,
            rule_ids=["OVERRIDE"],
            source="override",
            override_id=p.id,
            actor=actor.username,
            evidence={
                "reason": o.get("reason"),
                "maker": p.maker,
                "checker": actor.username,
                "checkers": [d.actor for d in approvers],
                "comment": approvers[-1].comment if approvers else None,
                "proposal_id": p.id,
                "rebutted_floor_rank": state.override_category_cap,
                "rebutted_presumed_stage": state.override_stage_cap,
                **(o.get("evidence") or {}),
            },
        )
    )
    session.flush()
    # The proposal's own trail is audited by approvals; this event is the change to the loan.
    record(
        session,
        actor,
        "classification_override.apply",
        "loan",
        p.loan_id,
        before=before,
        after={"proposal_id": p.id, "category": state.category, "ifrs9_stage": state.ifrs9_stage},
    )
    return {
        "before": before,
        "category": state.category,
        "ifrs9_stage": state.ifrs9_stage,
        "override_until": o.get("valid_until"),
        "rebutted_floor_rank": state.override_category_cap,
        "rebutted_presumed_stage": state.override_stage_cap,
    }


approvals.register_kind(approvals.KindHandler(KIND, "classification override", on_approve=_apply))
