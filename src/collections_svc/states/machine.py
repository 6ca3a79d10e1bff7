"""The case state machine: the ONLY code that changes ``Case.stage`` (DESIGN.md rule 2).

One module-level ``transitions.Machine`` with no models of its own. ``fire()`` attaches a case with
``initial=case.stage``, pulls the trigger, detaches the case again and records exactly one
``CaseEvent`` for the stage change. A failed guard (the trigger returns False) and a trigger that does
not apply to the current stage (``MachineError``) both become ``InvalidTransition`` (HTTP 409).

Guards are pure functions of the case, the business date and the context given to ``fire()``;
effects only add rows to the session (no I/O): see ``register_effect``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from transitions import EventData, Machine, MachineError

from collections_svc.audit.service import record
from collections_svc.auth.models import Role
from collections_svc.auth.service import Actor
from collections_svc.cases.models import CLOSED_STAGES, OPEN_STAGES, Case, CaseEvent, is_on_hold
from collections_svc.errors import InvalidTransition, ValidationFailed

# The escalation ladder (contact intensity grows to the right). ``escalate`` moves forward along it and
# may skip rungs; restructuring and legal have their own triggers because they need a negotiation or
# an approval, and ``de_escalate`` moves back to any earlier open stage.
LADDER = ("classified", "phone_reminder", "letter", "visit")
# The order of all open stages, used by ``de_escalate`` ("earlier" means to the left).
OPEN_ORDER = OPEN_STAGES
STAGES = OPEN_STAGES + CLOSED_STAGES

STAGE_LABELS = {
    "classified": "Classified (opened, awaiting first action)",
    "phone_reminder": "Phone reminder",
    "letter": "Reminder letter",
    "visit": "On-site visit",
    "restructuring": "Restructuring negotiation",
    "legal": "Legal (referred to litigation)",
    "resolved": "Resolved (cured: nothing overdue)",
    "restructured": "Restructured (approved restructuring took effect)",
    "written_off": "Written off",
    "closed": "Closed (recovered or settled)",
}

TRIGGER_LABELS = {
    "escalate": "escalate",
    "cure": "cure (nothing overdue any more)",
    "open_negotiation": "open a restructuring negotiation",
    "restructure": "put an approved restructuring into effect",
    "refer_to_legal": "refer to legal",
    "write_off": "write off",
    "close": "close as recovered or settled",
    "de_escalate": "de-escalate",
}
TRIGGERS = tuple(TRIGGER_LABELS)

# Triggers a system actor (sweep, scheduler) may not pull while the case is on hold.
AUTOMATIC_BLOCKED_WHEN_HELD = ("escalate", "open_negotiation", "refer_to_legal", "write_off")
# Triggers that need an approval (maker-checker happens before fire(); the caller passes approved=True).
NEEDS_APPROVAL = ("restructure", "refer_to_legal", "write_off")
SUPERVISOR_ROLES = (Role.supervisor,)


# --- guards: pure functions of the event (case, business date, context) -------------------------


def _kw(event: EventData) -> dict[str, Any]:
    return event.kwargs


def target_is_dest(event: EventData) -> bool:
    return _kw(event).get("target") == event.transition.dest


def moves_forward(event: EventData) -> bool:
    src, dest = event.transition.source, event.transition.dest
    return OPEN_ORDER.index(dest) > OPEN_ORDER.index(src)


def moves_back(event: EventData) -> bool:
    src, dest = event.transition.source, event.transition.dest
    return OPEN_ORDER.index(dest) < OPEN_ORDER.index(src)


def approved(event: EventData) -> bool:
    return _kw(event).get("approved") is True


def by_supervisor(event: EventData) -> bool:
    actor: Actor = _kw(event)["actor"]
    return actor.role in SUPERVISOR_ROLES


def has_reason(event: EventData) -> bool:
    reason = _kw(event).get("reason")
    return bool(reason and reason.strip())


def not_held_for_automation(event: EventData) -> bool:
    actor: Actor = _kw(event)["actor"]
    if not actor.is_system:
        return True
    return not is_on_hold(event.model, _kw(event)["business_date"])


# --- the definition ------------------------------------------------------------------------------


def _definition() -> list[dict[str, Any]]:
    t: list[dict[str, Any]] = []
    open_ = list(OPEN_STAGES)
    for i, src in enumerate(LADDER):
        for dest in LADDER[i + 1 :]:
            t.append(
                {
                    "trigger": "escalate",
                    "source": src,
                    "dest": dest,
                    "conditions": [target_is_dest, moves_forward, not_held_for_automation],
                }
            )
    t.append({"trigger": "cure", "source": open_, "dest": "resolved"})
    t.append(
        {
            "trigger": "open_negotiation",
            "source": [s for s in open_ if s != "restructuring"],
            "dest": "restructuring",
            "conditions": [not_held_for_automation],
        }
    )
    t.append(
        {
            "trigger": "restructure",
            "source": "restructuring",
            "dest": "restructured",
            "conditions": [approved],
        }
    )
    t.append(
        {
            "trigger": "refer_to_legal",
            "source": [s for s in open_ if s != "legal"],
            "dest": "legal",
            "conditions": [approved, not_held_for_automation],
        }
    )
    t.append(
        {
            "trigger": "write_off",
            "source": open_,
            "dest": "written_off",
            "conditions": [approved, not_held_for_automation],
        }
    )
    t.append({"trigger": "close", "source": open_, "dest": "closed"})
    for i, src in enumerate(OPEN_ORDER):
        for dest in OPEN_ORDER[:i]:
            t.append(
                {
                    "trigger": "de_escalate",
                    "source": src,
                    "dest": dest,
                    "conditions": [target_is_dest, moves_back, by_supervisor, has_reason],
                }
            )
    return t


TRANSITIONS = _definition()

machine = Machine(
    model=None,
    states=list(STAGES),
    transitions=TRANSITIONS,
    auto_transitions=False,
    send_event=True,
    model_attribute="stage",
    initial=None,
    ignore_invalid_triggers=False,
)
# add_model/remove_model mutate the machine's model list: serialise them across request threads.
_lock = threading.Lock()

# --- effects: hooks that add rows after a successful stage change ---------------------------------


@dataclass(frozen=True)
class StageChange:
    """What an effect receives: the case (already in its new stage) and the change itself."""

    case: Case
    event: CaseEvent
    from_stage: str
    to_stage: str
    trigger: str
    actor: Actor
    business_date: dt.date
    ctx: dict[str, Any]


Effect = Callable[[Session, StageChange], None]
_effects: list[Effect] = []


def register_effect(fn: Effect) -> Effect:
    """Register an effect run after every stage change (in the same transaction).

    Effects must only add rows to the session (outbox notices, tasks); they must not do I/O. Usable
    as a decorator. Registering the same function twice is a no-op.
    """
    if fn not in _effects:
        _effects.append(fn)
    return fn


def unregister_effect(fn: Effect) -> None:
    if fn in _effects:
        _effects.remove(fn)


# --- the entry point -----------------------------------------------------------------------------


def _label(stage: str) -> str:
    return stage.replace("_", " ")


def _why_refused(
    case: Case, trigger: str, actor: Actor, business_date: dt.date, reason: str | None, ctx: dict[str, Any]
) -> str:
    """A sentence a collector understands, naming the stage and the trigger."""
    stage = _label(case.stage)
    action = _label(trigger)
    if case.stage in CLOSED_STAGES:
        return f"The case is {stage}, a closed stage; '{action}' cannot be done on a closed case."
    sources = {
        s
        for tr in TRANSITIONS
        if tr["trigger"] == trigger
        for s in (tr["source"] if isinstance(tr["source"], list) else [tr["source"]])
    }
    if case.stage not in sources:
        return f"'{action}' is not possible from the stage {stage}."
    if trigger in AUTOMATIC_BLOCKED_WHEN_HELD and actor.is_system and is_on_hold(case, business_date):
        return f"The case is on hold, so the system may not '{action}' it from the stage {stage}."
    if trigger in NEEDS_APPROVAL and ctx.get("approved") is not True:
        return f"'{action}' from the stage {stage} needs an approval first."
    if trigger == "de_escalate":
        if actor.role not in SUPERVISOR_ROLES:
            return f"Only a supervisor may '{action}' a case (stage {stage})."
        if not (reason and reason.strip()):
            return f"'{action}' from the stage {stage} needs a reason."
        return (
            f"'{action}' from the stage {stage} needs a target stage earlier than {stage}; "
            f"got {ctx.get('target')!r}."
        )
    if trigger == "escalate":
        return (
            f"'{action}' from the stage {stage} needs a target stage later on the ladder "
            f"({', '.join(LADDER)}); got {ctx.get('target')!r}."
        )
    return f"'{action}' is not possible from the stage {stage} right now."


def _detach(case: Case) -> None:
    machine.remove_model(case)
    names = [
        "trigger",
        "may_trigger",
        *TRIGGERS,
        *(f"may_{t}" for t in TRIGGERS),
        *(f"is_stage_{s}" for s in STAGES),
    ]
    d = case.__dict__
    for n in names:
        d.pop(n, None)


def fire(
    session: Session,
    case: Case,
    trigger: str,
    *,
    actor: Actor,
    business_date: dt.date,
    reason: str | None = None,
    **ctx: Any,
) -> CaseEvent:
    """Move ``case`` by ``trigger``; add one CaseEvent and one audit event; return the CaseEvent.

    ``ctx`` carries what guards read: ``target`` (escalate/de_escalate) and ``approved``
    (restructure/refer_to_legal/write_off). Raises ``InvalidTransition`` (409) when the trigger does not
    apply to the current stage or a guard refuses; nothing is changed then.
    """
    if trigger not in TRIGGERS:
        raise ValidationFailed(
            f"Unknown action {trigger!r}; use one of: {', '.join(TRIGGERS)}.",
            errors=[{"field": "trigger", "message": "unknown trigger"}],
        )
    from_stage = case.stage
    kwargs = {"actor": actor, "business_date": business_date, "reason": reason, **ctx}
    with _lock:
        machine.add_model(case, initial=from_stage)
        try:
            ok = case.trigger(trigger, **kwargs)
        except MachineError:
            ok = False
        finally:
            _detach(case)
    if not ok:
        if case.stage != from_stage:  # defensive: a refused trigger must leave the stage alone
            case.stage = from_stage
        raise InvalidTransition(
            _why_refused(case, trigger, actor, business_date, reason, ctx), stage=from_stage, trigger=trigger
        )
    to_stage = case.stage
    case.stage_entered_on = business_date
    if to_stage in CLOSED_STAGES:
        case.is_open = False
        case.closed_on = business_date
    data = {k: v for k, v in ctx.items() if isinstance(v, (str, int, bool, float)) or v is None} or None
    ev = CaseEvent(
        case_id=case.id,
        kind="stage_change",
        from_stage=from_stage,
        to_stage=to_stage,
        trigger=trigger,
        actor=actor.username,
        reason=reason,
        business_date=business_date,
        data=data,
    )
    session.add(ev)
    record(
        session,
        actor,
        f"case.{trigger}",
        "case",
        case.id,
        before={"stage": from_stage},
        after={"stage": to_stage, "reason": reason},
    )
    change = StageChange(
        case=case,
        event=ev,
        from_stage=from_stage,
        to_stage=to_stage,
        trigger=trigger,
        actor=actor,
        business_date=business_date,
        ctx=dict(ctx),
    )
    for effect in list(_effects):
        effect(session, change)
    session.flush()
    return ev


def allowed_triggers(case: Case, user_role: Role | str | None) -> list[str]:
    """Triggers a person with ``user_role`` could pull now (for the UI's action buttons).

    Approval-gated triggers are not listed: they happen when an approved proposal takes effect;
    ``de_escalate`` only for supervisors. Closed cases have none.
    """
    role = Role(user_role) if isinstance(user_role, str) else user_role
    if case.stage in CLOSED_STAGES:
        return []
    out = []
    for trig in TRIGGERS:
        for tr in TRANSITIONS:
            if tr["trigger"] != trig:
                continue
            src = tr["source"] if isinstance(tr["source"], list) else [tr["source"]]
            if case.stage in src:
                if trig == "de_escalate" and role not in SUPERVISOR_ROLES:
                    break
                if trig in NEEDS_APPROVAL:  # reached through an approved proposal, not a button
                    break
                out.append(trig)
                break
    return out


def targets(stage: str, trigger: str) -> list[str]:
    """Destination stages ``trigger`` can reach from ``stage`` (escalate/de_escalate have several)."""
    out = []
    for tr in TRANSITIONS:
        src = tr["source"] if isinstance(tr["source"], list) else [tr["source"]]
        if tr["trigger"] == trigger and stage in src and tr["dest"] not in out:
            out.append(tr["dest"])
    return out
