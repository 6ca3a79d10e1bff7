"""Legal referral (诉讼移交), the referral dossier PDF, legal case tracking and write-off (核销).

Public entry points:

- ``propose_referral(session, settings, actor, case, ...)`` / ``propose_write_off(...)``: maker-checker
  proposals; on approval the case fires ``refer_to_legal`` (a ``LegalCase`` is opened) or, for a write-off,
  the loan becomes ``written_off`` and the case fires ``write_off``.
- ``build_dossier(session, case)`` -> dict and ``render_dossier_pdf(dossier, settings)`` -> PDF bytes
  (WeasyPrint, CJK font): borrower and loan facts, schedule, payments, every contact attempt, notices
  (when the notices package's table exists), visits, promises and prior approvals.
- ``update_legal_case`` / ``add_legal_event`` (deadlines create ``LegalTask`` rows) / ``complete_task``.
- ``recoveries(session, loan_id=None)``: payments received after write-off.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jinja2 import Environment, select_autoescape
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from collections_svc import states
from collections_svc.approvals import service as approvals
from collections_svc.approvals.models import Decision, Proposal
from collections_svc.audit.service import record
from collections_svc.auth.service import Actor
from collections_svc.cases.models import Case, ContactLog, Promise, Visit
from collections_svc.config import Settings
from collections_svc.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from collections_svc.legal.models import EVENT_KINDS, LegalCase, LegalEvent, LegalTask
from collections_svc.loans.models import Borrower, Contact, Installment, Loan, LoanStatus, Payment

__all__ = [
    "propose_referral",
    "propose_write_off",
    "build_dossier",
    "render_dossier_pdf",
    "get_legal_case",
    "update_legal_case",
    "add_legal_event",
    "complete_task",
    "recoveries",
]

FONT = "WenQuanYi Micro Hei"


def _arrears(session: Session, loan_id: int, as_of: dt.date) -> dict[str, Decimal]:
    """Unpaid amounts of installments due on or before ``as_of`` (future interest is not owed yet)."""
    out = {"principal": Decimal(0), "interest": Decimal(0), "penalty": Decimal(0)}
    for i in session.scalars(
        select(Installment).where(
            Installment.loan_id == loan_id, Installment.settled_on.is_(None), Installment.due_on <= as_of
        )
    ):
        out["principal"] += i.principal_due - i.principal_paid
        out["interest"] += i.interest_due - i.interest_paid
        out["penalty"] += i.penalty_due - i.penalty_paid
    return out


# --- proposals -----------------------------------------------------------------------------------


def propose_referral(
    session: Session,
    settings: Settings,
    actor: Actor,
    case: Case,
    *,
    reason: str,
    claim_amount: Decimal | None,
    body_type: str = "court",
    body_name: str | None = None,
    business_date: dt.date,
    now: dt.datetime,
) -> Proposal:
    if not case.is_open:
        raise Conflict(f"Case {case.id} is {case.stage}; only an open case can be referred to legal.")
    if case.stage == "legal":
        raise Conflict(f"Case {case.id} is already with legal.")
    loan = session.get(Loan, case.loan_id)
    arrears = _arrears(session, loan.id, business_date)
    claim = (
        claim_amount
        if claim_amount is not None
        else loan.outstanding_principal + arrears["interest"] + arrears["penalty"]
    )
    payload = {
        "reason": reason,
        "claim_amount": str(claim),
        "body_type": body_type,
        "body_name": body_name,
        "outstanding_principal": str(loan.outstanding_principal),
        "arrears": {k: str(v) for k, v in arrears.items()},
        "dpd": loan.dpd,
    }
    return approvals.create_proposal(
        session,
        settings,
        actor,
        kind="legal_referral",
        loan_id=loan.id,
        case_id=case.id,
        payload=payload,
        title=f"Legal referral of loan {loan.external_id} (claim {claim})",
        business_date=business_date,
        now=now,
    )


def _on_referral_approved(
    session: Session, settings: Settings, p: Proposal, actor: Actor, business_date: dt.date
) -> dict[str, Any]:
    case = session.get(Case, p.case_id)
    if case is None or not case.is_open:
        raise Conflict("The case of this referral is closed; the referral cannot take effect.")
    states.fire(
        session,
        case,
        "refer_to_legal",
        actor=actor,
        business_date=business_date,
        approved=True,
        reason=f"legal referral #{p.id} approved: {p.payload.get('reason', '')}",
        proposal_id=p.id,
    )
    lc = LegalCase(
        case_id=case.id,
        loan_id=case.loan_id,
        proposal_id=p.id,
        body_type=p.payload.get("body_type") or "court",
        body_name=p.payload.get("body_name"),
        status="preparing",
        claim_amount=Decimal(p.payload["claim_amount"]),
        created_by=actor.username,
    )
    session.add(lc)
    session.flush()
    record(
        session,
        actor,
        "legal_case.create",
        "legal_case",
        lc.id,
        after={"case_id": case.id, "proposal_id": p.id, "claim_amount": str(lc.claim_amount)},
    )
    return {"legal_case_id": lc.id}


def propose_write_off(
    session: Session,
    settings: Settings,
    actor: Actor,
    loan: Loan,
    *,
    reason: str,
    business_date: dt.date,
    now: dt.datetime,
) -> Proposal:
    if loan.status != LoanStatus.active:
        raise Conflict(
            f"Loan {loan.external_id} is {loan.status.value}; only an active loan can be written off."
        )
    case = session.scalar(select(Case).where(Case.loan_id == loan.id, Case.is_open.is_(True)))
    arrears = _arrears(session, loan.id, business_date)
    amount = loan.outstanding_principal + arrears["interest"] + arrears["penalty"]
    payload = {
        "reason": reason,
        "written_off_amount": str(amount),
        "outstanding_principal": str(loan.outstanding_principal),
        "arrears": {k: str(v) for k, v in arrears.items()},
    }
    return approvals.create_proposal(
        session,
        settings,
        actor,
        kind="write_off",
        loan_id=loan.id,
        case_id=case.id if case else None,
        payload=payload,
        title=f"Write-off of loan {loan.external_id} ({amount})",
        business_date=business_date,
        now=now,
    )


def _on_write_off_approved(
    session: Session, settings: Settings, p: Proposal, actor: Actor, business_date: dt.date
) -> dict[str, Any]:
    loan = session.scalar(select(Loan).where(Loan.id == p.loan_id).with_for_update())
    if loan.status != LoanStatus.active:
        raise Conflict(f"Loan {loan.external_id} is {loan.status.value}; it cannot be written off.")
    loan.status = LoanStatus.written_off
    session.flush()
    record(
        session,
        actor,
        "loan.write_off",
        "loan",
        loan.id,
        before={"status": "active"},
        after={"status": "written_off", "amount": p.payload["written_off_amount"], "proposal_id": p.id},
    )
    case = session.scalar(select(Case).where(Case.loan_id == loan.id, Case.is_open.is_(True)))
    if case is not None:
        states.fire(
            session,
            case,
            "write_off",
            actor=actor,
            business_date=business_date,
            approved=True,
            reason=f"write-off #{p.id} approved: {p.payload.get('reason', '')}",
            proposal_id=p.id,
        )
    return {"written_off_on": str(business_date), "case_id": case.id if case else None}


approvals.register_kind(
    approvals.KindHandler("legal_referral", "legal referral", on_approve=_on_referral_approved)
)
approvals.register_kind(approvals.KindHandler("write_off", "write-off", on_approve=_on_write_off_approved))


def recoveries(session: Session, loan_id: int | None = None) -> dict[str, Any]:
    stmt = select(Payment).where(Payment.recovery.is_(True)).order_by(Payment.paid_on, Payment.id)
    if loan_id is not None:
        stmt = stmt.where(Payment.loan_id == loan_id)
    rows = list(session.scalars(stmt))
    return {
        "count": len(rows),
        "total": str(sum((r.amount for r in rows), Decimal(0))),
        "payments": [
            {
                "loan_id": r.loan_id,
                "external_id": r.external_id,
                "paid_on": r.paid_on.isoformat(),
                "amount": str(r.amount),
            }
            for r in rows
        ],
    }


# --- the dossier ---------------------------------------------------------------------------------


def _notices(session: Session, case_id: int) -> list[dict[str, Any]] | None:
    """Rows of the notices package's ``notice`` table for the case, or None if that table is absent."""
    try:
        if not inspect(session.connection()).has_table("notice"):
            return None
        with session.begin_nested():
            rows = (
                session.execute(text("SELECT * FROM notice WHERE case_id = :c ORDER BY id"), {"c": case_id})
                .mappings()
                .all()
            )
    except Exception:  # a different notice schema must not break the dossier
        return None
    keep = (
        "id",
        "channel",
        "template",
        "status",
        "created_at",
        "sent_at",
        "delivered_at",
        "to_address",
        "recipient",
        "stage",
    )
    return [{k: str(v) for k, v in r.items() if k in keep and v is not None} for r in rows]


def build_dossier(session: Session, case: Case, as_of: dt.date) -> dict[str, Any]:
    loan = session.get(Loan, case.loan_id)
    borrower = session.get(Borrower, case.borrower_id)
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.borrower_id == borrower.id))}
    logs = list(
        session.scalars(
            select(ContactLog).where(ContactLog.case_id == case.id).order_by(ContactLog.at, ContactLog.id)
        )
    )
    proposals = list(
        session.scalars(select(Proposal).where(Proposal.loan_id == loan.id).order_by(Proposal.id))
    )
    decisions = (
        list(
            session.scalars(
                select(Decision)
                .where(Decision.proposal_id.in_([p.id for p in proposals]))
                .order_by(Decision.id)
            )
        )
        if proposals
        else []
    )
    return {
        "case": case,
        "loan": loan,
        "borrower": borrower,
        "contacts": list(contacts.values()),
        "arrears": _arrears(session, loan.id, as_of),
        "installments": list(
            session.scalars(
                select(Installment)
                .where(Installment.loan_id == loan.id)
                .order_by(Installment.due_on, Installment.seq)
            )
        ),
        "payments": list(
            session.scalars(
                select(Payment).where(Payment.loan_id == loan.id).order_by(Payment.paid_on, Payment.id)
            )
        ),
        "contact_log": [(c, contacts.get(c.contact_id)) for c in logs],
        "notices": _notices(session, case.id),
        "visits": list(
            session.scalars(select(Visit).where(Visit.case_id == case.id).order_by(Visit.scheduled_on))
        ),
        "promises": list(
            session.scalars(
                select(Promise).where(Promise.case_id == case.id).order_by(Promise.promised_on, Promise.id)
            )
        ),
        "proposals": proposals,
        "decisions": decisions,
    }


_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>诉讼移交材料 Legal referral dossier</title>
<style>
@page { size: A4; margin: 16mm 14mm; @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "{{ font }}", sans-serif; font-size: 9pt; }
h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11pt; margin: 12pt 0 4pt; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #bbb; padding: 2pt 3pt; vertical-align: top; }
th { background: #eee; text-align: left; } td.n { text-align: right; white-space: nowrap; }
.meta td { border: none; }
</style></head><body>
<h1>诉讼移交材料 / Legal referral dossier</h1>
<p>{{ bank }} · 案件 Case #{{ case.id }} · 生成日期 Generated {{ generated_on }}</p>
<h2>借款人 Borrower</h2>
<table class="meta">
<tr><td>名称 Name</td><td>{{ borrower.name }}</td></tr>
<tr><td>统一社会信用代码 USCC</td><td>{{ borrower.uscc }}</td></tr>
<tr><td>行业 / 地区</td><td>{{ borrower.industry or "" }} / {{ borrower.region or "" }}</td></tr>
</table>
<table><tr><th>联系人 Contact</th><th>角色 Role</th><th>电话 Phone</th><th>地址 Address</th></tr>
{% for c in contacts %}<tr><td>{{ c.name }}</td><td>{{ c.role.value }}</td><td>{{ c.phone or "" }}</td><td>{{ c.address or "" }}</td></tr>{% endfor %}
</table>
<h2>贷款 Loan</h2>
<table class="meta">
<tr><td>借据号 Loan</td><td>{{ loan.external_id }} (合同 {{ loan.contract_no }})</td></tr>
<tr><td>本金 Principal</td><td>{{ loan.principal }} {{ loan.currency }}; 未还本金 outstanding {{ loan.outstanding_principal }}</td></tr>
<tr><td>利率 Rate</td><td>{{ loan.annual_rate }}</td></tr>
<tr><td>放款 / 到期</td><td>{{ loan.disbursed_on }} / {{ loan.maturity_on }}</td></tr>
<tr><td>逾期天数 DPD</td><td>{{ loan.dpd }}; 逾期金额 overdue {{ loan.overdue_amount }}</td></tr>
<tr><td>欠款 Arrears</td><td>本金 {{ arrears.principal }} · 利息 {{ arrears.interest }} · 罚息 {{ arrears.penalty }}</td></tr>
<tr><td>重组 Restructured</td><td>{{ "是 yes" if loan.restructured else "否 no" }} ({{ loan.restructure_count }})</td></tr>
</table>
<h2>还款计划 Schedule</h2>
<table><tr><th>#</th><th>到期日 Due</th><th>本金</th><th>利息</th><th>罚息</th><th>已还 Paid</th><th>结清 Settled</th></tr>
{% for i in installments %}<tr><td>{{ i.seq }}</td><td>{{ i.due_on }}</td><td class="n">{{ i.principal_due }}</td><td class="n">{{ i.interest_due }}</td><td class="n">{{ i.penalty_due }}</td><td class="n">{{ i.total_paid }}</td><td>{{ i.settled_on or "" }}</td></tr>{% endfor %}
</table>
<h2>还款记录 Payments</h2>
{% if payments %}<table><tr><th>日期 Date</th><th>编号 Ref</th><th>金额 Amount</th><th>追偿 Recovery</th></tr>
{% for p in payments %}<tr><td>{{ p.paid_on }}</td><td>{{ p.external_id }}</td><td class="n">{{ p.amount }}</td><td>{{ "是" if p.recovery else "" }}</td></tr>{% endfor %}
</table>{% else %}<p>无 None.</p>{% endif %}
<h2>催收联系记录 Contact attempts ({{ contact_log|length }})</h2>
{% if contact_log %}<table><tr><th>#</th><th>日期 Date</th><th>方式 Channel</th><th>联系人 Contact</th><th>结果 Outcome</th><th>记录 Note</th><th>经办 By</th></tr>
{% for c, person in contact_log %}<tr><td>{{ c.id }}</td><td>{{ c.business_date }}</td><td>{{ c.channel }}</td><td>{{ person.name if person else "" }}</td><td>{{ c.outcome }}</td><td>{{ c.note or "" }}</td><td>{{ c.actor }}</td></tr>{% endfor %}
</table>{% else %}<p>无 None.</p>{% endif %}
<h2>通知 Notices</h2>
{% if notices is none %}<p>(通知模块未启用 the notices module is not installed)</p>
{% elif notices %}<table>{% for n in notices %}<tr><td>{% for k, v in n.items() %}{{ k }}: {{ v }}{% if not loop.last %} · {% endif %}{% endfor %}</td></tr>{% endfor %}</table>
{% else %}<p>无 None.</p>{% endif %}
<h2>上门走访 Visits</h2>
{% if visits %}<table><tr><th>日期 Date</th><th>地址 Address</th><th>状态</th><th>经营 Operating</th><th>抵押物 Collateral</th><th>发现 Findings</th><th>附件 Attachments</th></tr>
{% for v in visits %}<tr><td>{{ v.visited_on or v.scheduled_on }}</td><td>{{ v.address }}</td><td>{{ v.status }}</td><td>{{ v.operating_status or "" }}</td><td>{{ v.collateral_status or "" }}</td><td>{{ v.findings or "" }}</td><td>{% for a in v.attachments %}{{ a.filename }} (sha256 {{ a.sha256[:12] }}){% if not loop.last %}; {% endif %}{% endfor %}</td></tr>{% endfor %}
</table>{% else %}<p>无 None.</p>{% endif %}
<h2>还款承诺 Promises</h2>
{% if promises %}<table><tr><th>承诺日 Made</th><th>金额 Amount</th><th>到期 Due</th><th>状态 Status</th><th>已付 Paid</th></tr>
{% for p in promises %}<tr><td>{{ p.promised_on }}</td><td class="n">{{ p.amount }}</td><td>{{ p.due_on }}</td><td>{{ p.status }}</td><td class="n">{{ p.paid_amount }}</td></tr>{% endfor %}
</table>{% else %}<p>无 None.</p>{% endif %}
<h2>审批记录 Approvals</h2>
{% if proposals %}<table><tr><th>#</th><th>类型 Kind</th><th>事项 Title</th><th>状态 State</th><th>发起 Maker</th></tr>
{% for p in proposals %}<tr><td>{{ p.id }}</td><td>{{ p.kind }}</td><td>{{ p.title }}</td><td>{{ p.state }}</td><td>{{ p.maker }}</td></tr>{% endfor %}
</table>
<table><tr><th>#</th><th>决定 Decision</th><th>经办 By</th><th>时间 At</th><th>意见 Comment</th></tr>
{% for d in decisions %}<tr><td>{{ d.proposal_id }}</td><td>{{ d.decision }}</td><td>{{ d.actor }}</td><td>{{ d.at.strftime("%Y-%m-%d %H:%M") }} UTC</td><td>{{ d.comment or "" }}</td></tr>{% endfor %}
</table>{% else %}<p>无 None.</p>{% endif %}
</body></html>
"""  # noqa: E501 - HTML template lines

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def render_dossier_html(dossier: dict[str, Any], settings: Settings, generated_on: dt.date) -> str:
    return _env.from_string(_TEMPLATE).render(
        font=FONT, bank=settings.bank.name, generated_on=generated_on, **dossier
    )


def render_dossier_pdf(dossier: dict[str, Any], settings: Settings, generated_on: dt.date) -> bytes:
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    return HTML(string=render_dossier_html(dossier, settings, generated_on)).write_pdf()


def dossier_zip(dossier: dict[str, Any], settings: Settings, generated_on: dt.date) -> bytes:
    """The dossier PDF plus every visit attachment (``attachments/<visit id>/<file>``) in one zip."""
    import io
    import zipfile

    from collections_svc.cases.service import attachment_path

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            f"dossier-case-{dossier['case'].id}.pdf", render_dossier_pdf(dossier, settings, generated_on)
        )
        for v in dossier["visits"]:
            for a in v.attachments:
                path = attachment_path(settings.attachments_dir, a)
                name = f"attachments/visit-{v.id}/{a.id}-{a.filename}"
                if path.is_file():
                    z.write(path, name)
                else:
                    z.writestr(name + ".MISSING.txt", f"file not found in storage (sha256 {a.sha256})")
    return buf.getvalue()


# --- legal case tracking -------------------------------------------------------------------------


def get_legal_case(session: Session, legal_case_id: int) -> LegalCase:
    lc = session.get(LegalCase, legal_case_id)
    if lc is None:
        raise NotFound(f"Legal case {legal_case_id} does not exist.")
    return lc


def _check_version(obj: Any, version: int | None, what: str) -> None:
    if version is not None and version != obj.version:
        raise StaleVersion(
            f"{what} was changed by someone else (you had version {version}, it is now "
            f"{obj.version}). Reload and try again."
        )


UPDATABLE = (
    "body_type",
    "body_name",
    "case_number",
    "filed_on",
    "status",
    "claim_amount",
    "judgment_on",
    "judgment_amount",
    "judgment_summary",
    "counsel",
)


def update_legal_case(
    session: Session, lc: LegalCase, actor: Actor, *, version: int | None, values: dict[str, Any]
) -> LegalCase:
    _check_version(lc, version, f"Legal case {lc.id}")
    diff = {}
    for k, v in values.items():
        if k in UPDATABLE and getattr(lc, k) != v:
            diff[k] = [
                str(getattr(lc, k)) if getattr(lc, k) is not None else None,
                str(v) if v is not None else None,
            ]
            setattr(lc, k, v)
    if diff:
        session.flush()
        record(session, actor, "legal_case.update", "legal_case", lc.id, after=diff)
    return lc


def add_legal_event(
    session: Session,
    lc: LegalCase,
    actor: Actor,
    *,
    kind: str,
    on: dt.date,
    amount: Decimal | None = None,
    deadline_on: dt.date | None = None,
    note: str | None = None,
    task_title: str | None = None,
    assignee_id: int | None = None,
) -> LegalEvent:
    """Record a hearing, claim, judgment, enforcement step, recovery, cost or deadline. A ``deadline_on``
    (or a hearing in the future) creates an open task due on that date."""
    if kind not in EVENT_KINDS:
        raise ValidationFailed(
            f"Unknown legal event {kind!r}; use one of: {', '.join(EVENT_KINDS)}.",
            errors=[{"field": "kind", "message": "unknown"}],
        )
    if kind in ("recovery", "cost", "claim") and (amount is None or amount <= 0):
        raise ValidationFailed(
            f"A {kind} needs a positive amount.", errors=[{"field": "amount", "message": "required"}]
        )
    ev = LegalEvent(
        legal_case_id=lc.id,
        kind=kind,
        on=on,
        amount=amount,
        deadline_on=deadline_on,
        note=note,
        actor=actor.username,
    )
    lc.events.append(ev)
    session.flush()
    due = deadline_on or (on if kind == "hearing" else None)
    if due is not None:
        title = task_title or {"hearing": f"Attend hearing on {on}"}.get(
            kind, f"{kind.replace('_', ' ')} deadline"
        )
        lc.tasks.append(
            LegalTask(
                legal_case_id=lc.id,
                event_id=ev.id,
                title=title[:200],
                due_on=due,
                status="open",
                assignee_id=assignee_id,
            )
        )
    if kind == "filing" and lc.filed_on is None:
        lc.filed_on, lc.status = on, "filed"
    elif kind == "hearing" and lc.status in ("preparing", "filed"):
        lc.status = "hearing"
    elif kind == "judgment":
        lc.status, lc.judgment_on = "judgment", on
        if amount is not None:
            lc.judgment_amount = amount
    elif kind == "enforcement_step" and lc.status != "closed":
        lc.status = "enforcement"
    session.flush()
    record(
        session,
        actor,
        f"legal_case.{kind}",
        "legal_case",
        lc.id,
        after={
            "event_id": ev.id,
            "on": str(on),
            "amount": str(amount) if amount is not None else None,
            "deadline_on": str(deadline_on) if deadline_on else None,
        },
    )
    return ev


def complete_task(session: Session, task: LegalTask, actor: Actor, *, version: int | None) -> LegalTask:
    _check_version(task, version, f"Task {task.id}")
    if task.status != "open":
        raise Conflict(f"Task {task.id} is already {task.status}.")
    task.status, task.done_by = "done", actor.username
    session.flush()
    record(session, actor, "legal_task.done", "legal_task", task.id, after={"status": "done"})
    return task


def legal_totals(lc: LegalCase) -> dict[str, str]:
    def s(kind: str) -> Decimal:
        return sum((e.amount or Decimal(0) for e in lc.events if e.kind == kind), Decimal(0))

    return {"recovered": str(s("recovery")), "costs": str(s("cost")), "claims": str(s("claim"))}


def open_tasks_due(session: Session, by: dt.date) -> list[LegalTask]:
    return list(
        session.scalars(
            select(LegalTask)
            .where(LegalTask.status == "open", LegalTask.due_on <= by)
            .order_by(LegalTask.due_on)
        )
    )


def count_legal_cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LegalCase)) or 0
