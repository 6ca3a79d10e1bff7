"""Notice templates: the manifest of documented variables, the sandboxed renderer and its validation.

Templates live in ``notice_templates/`` at the project root (``settings.notices.templates_dir``
overrides): ``sms/<name>.<locale>.txt.j2`` and ``letters/<name>.<locale>.html.j2``. They render in a
``SandboxedEnvironment`` with ``StrictUndefined`` (a missing variable raises, never prints an empty
field); HTML autoescapes. ``validate_templates`` runs at application start and in a test: every
template of the manifest must exist for every locale, use only its documented variables, and render
with the sample context. SMS templates must carry ``opt_out_hint`` (US-REGF-03), which the context
fills or leaves empty as the jurisdiction setting asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, meta, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from collections_svc.config import Settings
from collections_svc.errors import ValidationFailed
from collections_svc.notices.amounts import money, rmb_upper

LOCALES = ("zh_CN", "en")
ROOT = Path(__file__).resolve().parents[3]

SMS_COMMON = ("bank_name", "bank_phone", "borrower_name", "contract_no", "overdue_amount", "opt_out_hint")
LETTER_COMMON = (
    "bank_name",
    "bank_phone",
    "bank_address",
    "reference",
    "letter_date",
    "as_of",
    "borrower_name",
    "borrower_uscc",
    "contact_name",
    "contact_address",
    "contract_no",
    "dpd",
    "outstanding_principal",
    "oldest_due_on",
    "overdue_principal",
    "overdue_interest",
    "overdue_penalty",
    "overdue_amount",
    "overdue_amount_upper",
    "overdue_lines",
    "dispute_days",
)


@dataclass(frozen=True)
class TemplateSpec:
    channel: Literal["sms", "letter"]
    description: str
    variables: tuple[str, ...]
    # Variables the trigger must supply (not derivable from the case), with sample values for previews.
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def all_variables(self) -> frozenset[str]:
        return frozenset(self.variables) | frozenset(self.extra)


MANIFEST: dict[str, TemplateSpec] = {
    "first_reminder": TemplateSpec(
        "sms",
        "First day overdue: friendly reminder with the overdue amount.",
        (*SMS_COMMON, "oldest_due_on", "as_of"),
    ),
    "letter_sent": TemplateSpec("sms", "Tells the borrower a demand letter is in the post.", SMS_COMMON),
    "promise_reminder": TemplateSpec(
        "sms",
        "The day before a promise to pay falls due.",
        tuple(v for v in SMS_COMMON if v != "overdue_amount"),
        extra={"promise_amount": "50000.00", "promise_date": "2026-04-10"},
    ),
    "promise_broken": TemplateSpec(
        "sms",
        "A promise to pay was not kept.",
        SMS_COMMON,
        extra={"promise_amount": "50000.00", "promise_date": "2026-04-10"},
    ),
    "visit_announced": TemplateSpec(
        "sms", "An on-site visit is scheduled.", SMS_COMMON, extra={"visit_date": "2026-04-15"}
    ),
    "first_demand": TemplateSpec(
        "letter", "催收函: the first formal demand letter.", (*LETTER_COMMON, "pay_by")
    ),
    "final_demand": TemplateSpec("letter", "Final demand before legal action.", (*LETTER_COMMON, "pay_by")),
    "restructuring_offer": TemplateSpec(
        "letter", "Invitation to negotiate a restructuring.", (*LETTER_COMMON, "offer_expires_on")
    ),
    "legal_referral_notice": TemplateSpec(
        "letter", "Notice that the case goes to litigation.", (*LETTER_COMMON, "referral_date")
    ),
}

# Derived from extras that are amounts: formatted for display before rendering.
MONEY_EXTRAS = {"promise_amount"}
OPT_OUT_HINT = {"zh_CN": "回复STOP退订", "en": "Reply STOP to opt out."}


class TemplateProblem(ValidationFailed):
    code = "template-invalid"
    title = "A notice template is invalid"


def templates_dir(settings: Settings) -> Path:
    return (
        Path(settings.notices.templates_dir) if settings.notices.templates_dir else ROOT / "notice_templates"
    )


@lru_cache(maxsize=8)
def _environment(directory: str) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def environment(settings: Settings) -> SandboxedEnvironment:
    return _environment(str(templates_dir(settings)))


def template_path(name: str, locale: str) -> str:
    spec = spec_of(name)
    if locale not in LOCALES:
        raise ValidationFailed(
            f"Locale {locale!r} is not supported; use one of {', '.join(LOCALES)}.",
            errors=[{"field": "locale", "message": "unsupported"}],
        )
    return f"sms/{name}.{locale}.txt.j2" if spec.channel == "sms" else f"letters/{name}.{locale}.html.j2"


def spec_of(name: str) -> TemplateSpec:
    try:
        return MANIFEST[name]
    except KeyError:
        raise ValidationFailed(
            f"There is no notice template named {name!r}.",
            errors=[{"field": "template", "message": "unknown template"}],
        ) from None


@dataclass
class Rendered:
    template: str
    locale: str
    channel: str
    body: str


def render(settings: Settings, name: str, locale: str, context: dict[str, Any]) -> Rendered:
    spec = spec_of(name)
    missing = sorted(v for v in spec.all_variables if v not in context)
    if missing:
        raise TemplateProblem(
            f"Template {name} needs values for: {', '.join(missing)}.",
            errors=[{"field": m, "message": "missing"} for m in missing],
        )
    ctx = {k: context[k] for k in spec.all_variables}
    for k in MONEY_EXTRAS & set(spec.extra):
        if not isinstance(ctx[k], str) or not ctx[k].startswith(("¥", "CN¥", "$")):
            ctx[k] = money(Decimal(str(ctx[k])), context.get("_currency", "CNY"), locale)
    body = environment(settings).get_template(template_path(name, locale)).render(ctx)
    if spec.channel == "sms":
        body = " ".join(body.split()).strip()
    return Rendered(name, locale, spec.channel, body)


def _referenced_variables(env: SandboxedEnvironment, path: str) -> set[str]:
    """Variables a template (and the templates it extends or includes) reads from its context."""
    seen: set[str] = set()
    found: set[str] = set()
    todo = [path]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        source = env.loader.get_source(env, p)[0]
        ast = env.parse(source)
        found |= meta.find_undeclared_variables(ast)
        todo.extend(t for t in meta.find_referenced_templates(ast) if t)
    return found


def sample_context(settings: Settings, locale: str) -> dict[str, Any]:
    m = lambda v: money(Decimal(v), "CNY", locale)  # noqa: E731
    ctx: dict[str, Any] = {
        "bank_name": settings.bank.name if locale == "zh_CN" else settings.bank.name_en,
        "bank_phone": settings.bank.phone,
        "bank_address": settings.bank.address,
        "reference": "CS-000001-first_demand",
        "letter_date": "2026-04-01",
        "as_of": "2026-04-01",
        "borrower_name": "示例科技有限公司",
        "borrower_uscc": "91310000MA1FL0000X",
        "contact_name": "张伟",
        "contact_address": "上海市浦东新区示例路1号",
        "contract_no": "HT-2025-0001",
        "dpd": 17,
        "outstanding_principal": m("1000000.00"),
        "oldest_due_on": "2026-03-15",
        "overdue_principal": m("80000.00"),
        "overdue_interest": m("3625.00"),
        "overdue_penalty": m("0.00"),
        "overdue_amount": m("83625.00"),
        "overdue_amount_upper": rmb_upper(Decimal("83625.00")),
        "overdue_lines": [{"seq": 4, "due_on": "2026-03-15", "amount": m("83625.00")}],
        "dispute_days": 15,
        "pay_by": "2026-04-15",
        "offer_expires_on": "2026-04-30",
        "referral_date": "2026-05-01",
        "opt_out_hint": OPT_OUT_HINT[locale],
    }
    for spec in MANIFEST.values():
        ctx.update(spec.extra)
    return ctx


def validate_templates(settings: Settings) -> list[str]:
    """Check every template of the manifest in every locale; raise TemplateProblem listing all problems.

    Returns the template paths checked.
    """
    env = environment(settings)
    problems: list[str] = []
    checked: list[str] = []
    for name, spec in MANIFEST.items():
        if spec.channel == "sms" and "opt_out_hint" not in spec.variables:
            problems.append(f"{name}: SMS templates must declare opt_out_hint (US-REGF-03)")
        for locale in LOCALES:
            path = template_path(name, locale)
            checked.append(path)
            try:
                used = _referenced_variables(env, path)
            except TemplateError as exc:
                problems.append(f"{path}: {exc}")
                continue
            undocumented = used - spec.all_variables
            if undocumented:
                problems.append(f"{path}: uses undocumented variable(s) {', '.join(sorted(undocumented))}")
            unused = set(spec.all_variables) - used
            if unused:
                problems.append(f"{path}: documented variable(s) never used: {', '.join(sorted(unused))}")
            if spec.channel == "sms" and "opt_out_hint" not in used:
                problems.append(f"{path}: the SMS text has no opt_out_hint")
            try:
                render(settings, name, locale, sample_context(settings, locale))
            except (TemplateError, ValidationFailed) as exc:
                problems.append(f"{path}: does not render with the sample context: {exc}")
    if problems:
        raise TemplateProblem(
            "Notice templates are invalid: " + "; ".join(problems),
            errors=[{"field": "template", "message": p} for p in problems],
        )
    return checked


def today_str(d: dt.date) -> str:
    return d.isoformat()
