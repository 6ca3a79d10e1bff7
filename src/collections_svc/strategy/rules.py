"""Collection strategies as data: ordered rules, first match wins, and their pure evaluation.

A strategy is a list of rules. A rule's conditions (``when``) are ANDed; an absent condition matches
anything. Its outcome is a target stage (automatic moves only go forward), notices to queue on stage
entry, tasks to create, an optional proposal for a supervisor (restructuring negotiation, legal
referral), and how many days a case stays put before the strategy looks at it again.

Order matters: put the most severe rules first. ``parse_strategy`` rejects unknown stages and
templates, bad ranges and rules that can never match because an earlier rule catches all their cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collections_svc.cases.models import OPEN_STAGES
from collections_svc.errors import ValidationFailed

# Forward order of the open stages; an automatic move goes only to a later one.
STAGE_RANK = {s: i for i, s in enumerate(OPEN_STAGES)}
AUTOMATIC_TARGETS = tuple(s for s in OPEN_STAGES if s != "classified")
CLASSIFICATIONS = ("normal", "special_mention", "substandard", "doubtful", "loss")
CLASS_RANK = {c: i for i, c in enumerate(CLASSIFICATIONS)}
TASK_KINDS = ("call", "visit")
PROPOSAL_KINDS = ("restructuring", "legal_referral")
CHANNELS = ("sms", "letter")


class StrategyInvalid(ValidationFailed):
    code = "strategy-invalid"
    title = "The strategy is not valid"


class Conditions(BaseModel):
    """All present conditions must hold (AND). Money in currency units, days in calendar days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dpd_min: int | None = Field(None, ge=0)
    dpd_max: int | None = Field(None, ge=0)
    overdue_amount_min: Decimal | None = Field(None, ge=0)
    exposure_min: Decimal | None = Field(None, ge=0)   # outstanding principal
    exposure_max: Decimal | None = Field(None, ge=0)
    classification_at_least: Literal[CLASSIFICATIONS] | None = None  # type: ignore[valid-type]
    product: tuple[str, ...] | None = None
    segment: tuple[str, ...] | None = None
    region: tuple[str, ...] | None = None
    broken_promises_min: int | None = Field(None, ge=0)
    days_in_stage_min: int | None = Field(None, ge=0)
    # No successful contact for at least this many days (a case never reached always qualifies).
    no_contact_days_min: int | None = Field(None, ge=0)
    # True: only a restructured loan that is overdue again; False: never such a loan.
    restructured_redefault: bool | None = None

    @field_validator("product", "segment", "region", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        if isinstance(v, str):
            return (v,)
        return v


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    when: Conditions = Field(default_factory=Conditions)
    target: str | None = None
    notices: tuple[str, ...] = ()          # "channel/template", queued when the case enters target
    tasks: tuple[str, ...] = ()            # call, visit
    proposal: str | None = None            # restructuring, legal_referral (a supervisor decides)
    reevaluate_after_days: int | None = Field(None, ge=1)


class StrategyDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    rules: list[Rule] = Field(min_length=1)


@dataclass(frozen=True)
class Strategy:
    version: str
    description: str
    rules: tuple[Rule, ...]
    warnings: tuple[str, ...] = ()

    def reevaluate_wait(self, stage: str) -> int:
        """Days a case must stay in ``stage`` before it is evaluated again (0 = every night)."""
        # The shortest wait of the rules that lead into the stage (a rule without one: every night).
        waits = [r.reevaluate_after_days or 0 for r in self.rules if r.target == stage]
        return min(waits) if waits else 0

    def to_doc(self) -> dict[str, Any]:
        return {"version": self.version, "description": self.description,
                "rules": [r.model_dump(mode="json", exclude_defaults=True) for r in self.rules]}


@dataclass(frozen=True)
class CaseFacts:
    """What the strategy may look at for one open case, gathered set-based by the sweep."""

    case_id: int
    stage: str
    dpd: int
    overdue_amount: Decimal = Decimal(0)
    exposure: Decimal = Decimal(0)
    classification: str | None = None
    product: str | None = None
    segment: str | None = None
    region: str | None = None
    broken_promises: int = 0
    days_in_stage: int = 0
    days_since_contact: int | None = None   # None: never successfully contacted
    restructured: bool = False
    loan_id: int | None = None


@dataclass(frozen=True)
class Decision:
    strategy_version: str
    rule_id: str
    target: str | None
    notices: tuple[tuple[str, str], ...] = ()     # (channel, template)
    tasks: tuple[str, ...] = ()
    proposal: str | None = None
    reevaluate_after_days: int | None = None
    reasons: tuple[str, ...] = field(default=())


def matches(c: Conditions, f: CaseFacts) -> bool:
    if c.dpd_min is not None and f.dpd < c.dpd_min:
        return False
    if c.dpd_max is not None and f.dpd > c.dpd_max:
        return False
    if c.overdue_amount_min is not None and f.overdue_amount < c.overdue_amount_min:
        return False
    if c.exposure_min is not None and f.exposure < c.exposure_min:
        return False
    if c.exposure_max is not None and f.exposure > c.exposure_max:
        return False
    if c.classification_at_least is not None and \
            CLASS_RANK.get(f.classification or "normal", 0) < CLASS_RANK[c.classification_at_least]:
        return False
    for attr in ("product", "segment", "region"):
        allowed = getattr(c, attr)
        if allowed is not None and getattr(f, attr) not in allowed:
            return False
    if c.broken_promises_min is not None and f.broken_promises < c.broken_promises_min:
        return False
    if c.days_in_stage_min is not None and f.days_in_stage < c.days_in_stage_min:
        return False
    if c.no_contact_days_min is not None and f.days_since_contact is not None \
            and f.days_since_contact < c.no_contact_days_min:
        return False
    redefault = f.restructured and f.dpd >= 1
    return c.restructured_redefault is None or c.restructured_redefault == redefault


def evaluate(strategy: Strategy, facts: CaseFacts) -> Decision | None:
    """The first rule whose conditions all hold, as a decision; None when no rule matches."""
    for rule in strategy.rules:
        if matches(rule.when, facts):
            return Decision(
                strategy_version=strategy.version, rule_id=rule.id, target=rule.target,
                notices=tuple(_split_template(n) for n in rule.notices), tasks=rule.tasks,
                proposal=rule.proposal, reevaluate_after_days=rule.reevaluate_after_days,
            )
    return None


def forward_target(current_stage: str, decision: Decision | None) -> str | None:
    """The stage to escalate to, or None: automatic moves only ever go forward."""
    if decision is None or decision.target is None or current_stage not in STAGE_RANK:
        return None
    if STAGE_RANK[decision.target] > STAGE_RANK[current_stage]:
        return decision.target
    return None


def days_between(later: dt.date, earlier: dt.date | None) -> int:
    return 0 if earlier is None else (later - earlier).days


# ---------------------------------------------------------------- validation


def _split_template(name: str) -> tuple[str, str]:
    channel, _, template = name.partition("/")
    return channel, template


def _range_covers(a_min: Any, a_max: Any, b_min: Any, b_max: Any) -> bool:
    lo_ok = a_min is None or (b_min is not None and b_min >= a_min)
    hi_ok = a_max is None or (b_max is not None and b_max <= a_max)
    return lo_ok and hi_ok


def _ranges_disjoint(a_min: Any, a_max: Any, b_min: Any, b_max: Any) -> bool:
    return (a_max is not None and b_min is not None and b_min > a_max) or \
           (b_max is not None and a_min is not None and a_min > b_max)


def covers(a: Conditions, b: Conditions) -> bool:
    """True when every case matching ``b`` also matches ``a`` (so ``b`` after ``a`` is unreachable)."""
    if not _range_covers(a.dpd_min, a.dpd_max, b.dpd_min, b.dpd_max):
        return False
    if not _range_covers(a.exposure_min, a.exposure_max, b.exposure_min, b.exposure_max):
        return False
    for attr in ("overdue_amount_min", "broken_promises_min", "days_in_stage_min", "no_contact_days_min"):
        av, bv = getattr(a, attr), getattr(b, attr)
        if av is not None and (bv is None or bv < av):
            return False
    if a.classification_at_least is not None and (
            b.classification_at_least is None
            or CLASS_RANK[b.classification_at_least] < CLASS_RANK[a.classification_at_least]):
        return False
    for attr in ("product", "segment", "region"):
        av, bv = getattr(a, attr), getattr(b, attr)
        if av is not None and (bv is None or not set(bv) <= set(av)):
            return False
    return a.restructured_redefault is None or a.restructured_redefault == b.restructured_redefault


def disjoint(a: Conditions, b: Conditions) -> bool:
    """True when no case can match both (used to report overlaps)."""
    if _ranges_disjoint(a.dpd_min, a.dpd_max, b.dpd_min, b.dpd_max):
        return True
    if _ranges_disjoint(a.exposure_min, a.exposure_max, b.exposure_min, b.exposure_max):
        return True
    for attr in ("product", "segment", "region"):
        av, bv = getattr(a, attr), getattr(b, attr)
        if av is not None and bv is not None and not set(av) & set(bv):
            return True
    return a.restructured_redefault is not None and b.restructured_redefault is not None \
        and a.restructured_redefault != b.restructured_redefault


def _pydantic_errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        loc = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in e.get("loc", ()))
        loc = loc.replace(".[", "[")
        out.append({"field": loc, "message": e.get("msg", "invalid")})
    return out


def parse_strategy(doc: dict[str, Any], known_templates: set[str] | None = None) -> Strategy:
    """Validate a strategy document; raise StrategyInvalid listing every problem found.

    ``known_templates`` holds "channel/name" entries; None skips the template check.
    """
    try:
        parsed = StrategyDoc.model_validate(doc)
    except ValidationError as exc:
        errors = _pydantic_errors(exc)
        raise StrategyInvalid(f"The strategy has {len(errors)} problem(s); it was not saved.",
                              errors=errors) from None
    errors: list[dict[str, str]] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for k, r in enumerate(parsed.rules):
        where = f"rules[{k}]"
        if r.id in seen:
            errors.append({"field": f"{where}.id",
                           "message": f"rule id {r.id!r} is used twice (also rules[{seen[r.id]}])"})
        seen.setdefault(r.id, k)
        if r.target is not None and r.target not in AUTOMATIC_TARGETS:
            errors.append({"field": f"{where}.target",
                           "message": f"unknown stage {r.target!r}; a rule can move a case to one of: "
                                      f"{', '.join(AUTOMATIC_TARGETS)}"})
        for n, name in enumerate(r.notices):
            channel, template = _split_template(name)
            if channel not in CHANNELS or not template:
                errors.append({"field": f"{where}.notices[{n}]",
                               "message": f"{name!r} must be written channel/template, channel one of "
                                          f"{', '.join(CHANNELS)}"})
            elif known_templates is not None and name not in known_templates:
                errors.append({"field": f"{where}.notices[{n}]", "message": f"unknown template {name!r}"})
        for n, task in enumerate(r.tasks):
            if task not in TASK_KINDS:
                errors.append({"field": f"{where}.tasks[{n}]",
                               "message": f"unknown task {task!r}; use one of: {', '.join(TASK_KINDS)}"})
        if r.proposal is not None and r.proposal not in PROPOSAL_KINDS:
            errors.append({"field": f"{where}.proposal",
                           "message": f"unknown proposal {r.proposal!r}; "
                                      f"use one of: {', '.join(PROPOSAL_KINDS)}"})
        if r.target is None and not (r.notices or r.tasks or r.proposal):
            errors.append({"field": where, "message": f"rule {r.id!r} does nothing: give it a target stage, "
                                                      "notices, tasks or a proposal"})
        c = r.when
        if c.dpd_min is not None and c.dpd_max is not None and c.dpd_min > c.dpd_max:
            errors.append({"field": f"{where}.when.dpd_max",
                           "message": f"DPD range is empty: at least {c.dpd_min} and at most {c.dpd_max}"})
        if c.exposure_min is not None and c.exposure_max is not None and c.exposure_min > c.exposure_max:
            errors.append({"field": f"{where}.when.exposure_max",
                           "message": f"exposure band is empty: {c.exposure_min} to {c.exposure_max}"})
        for attr in ("product", "segment", "region"):
            if getattr(c, attr) == ():
                errors.append({"field": f"{where}.when.{attr}", "message": "an empty list matches nothing"})
        for j in range(k):
            earlier = parsed.rules[j]
            if covers(earlier.when, c):
                errors.append({"field": where,
                               "message": f"rule {r.id!r} can never match: every case it matches is "
                                          f"already taken by the earlier rule {earlier.id!r}"})
                break
            if not disjoint(earlier.when, c) and r.target in STAGE_RANK and earlier.target in STAGE_RANK \
                    and STAGE_RANK[r.target] > STAGE_RANK[earlier.target]:
                warnings.append(f"rules {earlier.id!r} and {r.id!r} overlap and the earlier one is less "
                                f"severe: cases matching both get {earlier.target!r}")
    if errors:
        raise StrategyInvalid(f"The strategy has {len(errors)} problem(s); it was not saved.", errors=errors)
    return Strategy(version=parsed.version, description=parsed.description, rules=tuple(parsed.rules),
                    warnings=tuple(warnings))
