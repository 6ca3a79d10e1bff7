"""The outbox service: enqueue notices, apply provider callbacks and inbound SMS, list, cancel.

Services only flush; the caller's edge commits (the request, ``session_scope`` or the dispatcher).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from collections_svc.audit import service as audit
from collections_svc.auth.service import SYSTEM, Actor
from collections_svc.cases.models import CLOSED_STAGES, Case, CaseEvent
from collections_svc.config import Settings, get_settings
from collections_svc.db import utcnow
from collections_svc.errors import Conflict, NotFound, ValidationFailed
from collections_svc.loans.models import Borrower, Contact, ContactRole
from collections_svc.notices.compliance import SMS_CHANNELS
from collections_svc.notices.context import case_context
from collections_svc.notices.models import (
    CHANNELS,
    FINAL_STATUSES,
    InboundSms,
    Notice,
    NoticeStatusEvent,
)
from collections_svc.notices.templates import LOCALES, render, spec_of
from collections_svc.states import StageChange, register_effect

ROLE_PRIORITY = {ContactRole.legal_representative: 0, ContactRole.finance: 1, ContactRole.guarantor: 2}

# Provider status -> (our status, rank). Higher rank wins; a final status is never left.
PROVIDER_STATUS = {
    "accepted": ("sent", 1),
    "scheduled": ("sent", 1),
    "queued": ("sent", 1),
    "sending": ("sent", 1),
    "sent": ("sent", 2),
    "delivered": ("delivered", 3),
    "read": ("delivered", 3),
    "undelivered": ("undelivered", 3),
    "failed": ("failed", 3),
    "canceled": ("cancelled", 3),
}
OUR_RANK = {
    "queued": 0,
    "deferred": 0,
    "sending": 0,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "cancelled": 3,
}

OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}

# Called when a notice fails for good (e.g. the cases package opens a collector task). Each hook gets
# (session, notice) inside the dispatcher's transaction and must only add rows.
FAILED_HOOKS: list[Callable[[Session, Notice], None]] = []


def register_failed_hook(fn: Callable[[Session, Notice], None]) -> None:
    if fn not in FAILED_HOOKS:
        FAILED_HOOKS.append(fn)


def pick_contact(borrower: Borrower, channel: str, settings: Settings) -> Contact | None:
    """The best eligible contact: the borrower's own people or guarantors (CN-COL-01), reachable first."""
    allowed = [c for c in borrower.contacts if str(c.role) in settings.notices.allowed_roles]
    allowed.sort(key=lambda c: (ROLE_PRIORITY.get(c.role, 9), c.id))
    if channel in SMS_CHANNELS:
        reachable = [
            c
            for c in allowed
            if c.phone
            and not c.phone_invalid
            and not c.opted_out
            and (c.sms_consent or not settings.notices.require_consent)
        ]
        return (reachable or [c for c in allowed if c.phone] or [None])[0]
    with_address = [c for c in allowed if c.address]
    return (with_address or allowed or [None])[0]


def default_due_at(business_date: dt.date, settings: Settings) -> dt.datetime:
    h, m = (int(x) for x in settings.notices.allowed_start.split(":"))
    local = dt.datetime.combine(business_date, dt.time(h, m), ZoneInfo(settings.bank.timezone))
    return local.astimezone(dt.UTC)


def add_event(
    session: Session,
    notice: Notice,
    status: str,
    source: str,
    at: dt.datetime,
    *,
    detail: str | None = None,
    error_code: str | None = None,
) -> NoticeStatusEvent:
    ev = NoticeStatusEvent(
        notice_id=notice.id, status=status, source=source, at=at, detail=detail, error_code=error_code
    )
    session.add(ev)
    return ev


def case_event(
    session: Session,
    notice: Notice,
    status: str,
    at: dt.datetime,
    settings: Settings,
    reason: str | None = None,
) -> None:
    """Put a notice outcome on the case timeline (case_event kind 'notice')."""
    day = at.astimezone(ZoneInfo(settings.bank.timezone)).date()
    session.add(
        CaseEvent(
            case_id=notice.case_id,
            kind="notice",
            actor="system",
            business_date=day,
            at=at,
            reason=reason or f"{notice.channel} {notice.template}: {status}",
            data={
                "notice_id": notice.id,
                "template": notice.template,
                "channel": notice.channel,
                "status": status,
            },
        )
    )


def enqueue(
    session: Session,
    case: Case,
    template: str,
    *,
    trigger_key: str,
    business_date: dt.date,
    contact: Contact | None = None,
    channel: str | None = None,
    extra: dict[str, Any] | None = None,
    due_at: dt.datetime | None = None,
    locale: str | None = None,
    settings: Settings | None = None,
    actor: Actor = SYSTEM,
) -> Notice | None:
    """Write one outbox row in the caller's transaction (flush only); None if it already exists.

    ``trigger_key`` names the trigger occurrence (e.g. ``"stage:letter:2026-04-01"`` or
    ``"promise:17"``): (case, template, trigger_key) is unique, so a repeat creates nothing.
    ``extra`` supplies the template's trigger variables (promise_amount, visit_date...).
    The body is rendered now, with the amounts as of ``business_date``: proof of what was sent.
    """
    settings = settings or get_settings()
    spec = spec_of(template)
    ch = channel or spec.channel
    if ch not in CHANNELS or (spec.channel == "letter") != (ch == "letter"):
        raise ValidationFailed(
            f"Template {template} cannot be sent by {ch}.",
            errors=[{"field": "channel", "message": "does not fit the template"}],
        )
    exists = session.scalar(
        select(Notice.id).where(
            Notice.case_id == case.id, Notice.template == template, Notice.trigger_key == trigger_key
        )
    )
    if exists is not None:
        return None
    borrower = session.get(Borrower, case.borrower_id)
    if contact is None:
        contact = pick_contact(borrower, ch, settings)
    elif contact.borrower_id != case.borrower_id:
        raise ValidationFailed(
            "A notice may only go to the borrower's own contacts or guarantors (CN-COL-01).",
            errors=[{"field": "contact_id", "message": "not a contact of this borrower"}],
        )
    loc = locale or (borrower.language if borrower.language in LOCALES else settings.notices.default_locale)
    ctx = case_context(session, settings, case, contact, template, loc, business_date, extra)
    body = render(settings, template, loc, ctx).body
    due = due_at or default_due_at(business_date, settings)
    notice = Notice(
        case_id=case.id,
        contact_id=contact.id if contact else None,
        channel=ch,
        template=template,
        locale=loc,
        trigger_key=trigger_key,
        business_date=business_date,
        to_address=_address_of(contact, ch, ctx),
        body=body,
        status="queued",
        due_at=due,
        next_attempt_at=due,
        attempts=0,
    )
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None  # a concurrent transaction enqueued the same (case, template, trigger)
    add_event(session, notice, "queued", "outbox", due, detail=f"trigger {trigger_key}")
    audit.record(
        session,
        actor,
        "notice.enqueue",
        "notice",
        notice.id,
        after={
            "case_id": case.id,
            "template": template,
            "channel": ch,
            "trigger_key": trigger_key,
            "contact_id": notice.contact_id,
        },
    )
    session.flush()
    return notice


def _address_of(contact: Contact | None, channel: str, ctx: dict[str, Any]) -> str | None:
    if channel in SMS_CHANNELS:
        return contact.phone if contact else None
    return ctx.get("contact_address")


def get_notice(session: Session, notice_id: int) -> Notice:
    n = session.get(Notice, notice_id)
    if n is None:
        raise NotFound(f"Notice {notice_id} does not exist.")
    return n


def notices_for_case(session: Session, case_id: int) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)))


def cancel(
    session: Session,
    notice: Notice,
    *,
    reason: str,
    at: dt.datetime,
    actor: Actor,
    settings: Settings | None = None,
) -> Notice:
    settings = settings or get_settings()
    if notice.status not in ("queued", "deferred"):
        raise Conflict(
            f"Notice {notice.id} is {notice.status}; only queued or deferred notices can be cancelled."
        )
    before = {"status": notice.status}
    notice.status = "cancelled"
    notice.final_at = at
    notice.last_error = reason
    add_event(session, notice, "cancelled", "user" if not actor.is_system else "outbox", at, detail=reason)
    case_event(session, notice, "cancelled", at, settings, reason=f"{notice.template} cancelled: {reason}")
    audit.record(
        session,
        actor,
        "notice.cancel",
        "notice",
        notice.id,
        before=before,
        after={"status": "cancelled", "reason": reason},
    )
    session.flush()
    return notice


def cancel_pending_for_case(
    session: Session,
    case_id: int,
    *,
    reason: str,
    at: dt.datetime,
    actor: Actor = SYSTEM,
    settings: Settings | None = None,
) -> int:
    """Cancel every not-yet-sent notice of a case (e.g. the case closed). Returns how many."""
    rows = list(
        session.scalars(
            select(Notice).where(Notice.case_id == case_id, Notice.status.in_(("queued", "deferred")))
        )
    )
    for n in rows:
        cancel(session, n, reason=reason, at=at, actor=actor, settings=settings)
    return len(rows)


def apply_provider_status(
    session: Session,
    notice: Notice,
    provider_status: str,
    at: dt.datetime,
    settings: Settings,
    error_code: str | None = None,
) -> bool:
    """Move a notice forward by a provider status; never backwards, never out of a final status."""
    ours, rank = PROVIDER_STATUS.get(provider_status, (None, -1))
    if ours is None or notice.status in FINAL_STATUSES or rank <= OUR_RANK.get(notice.status, 0):
        return False
    notice.status = ours
    if ours in FINAL_STATUSES:
        notice.final_at = at
        if error_code:
            notice.error_code = error_code
            notice.last_error = f"provider reported {provider_status} (error {error_code})"
        case_event(session, notice, ours, at, settings)
    return True


def record_callback(
    session: Session,
    *,
    message_sid: str,
    status: str,
    at: dt.datetime,
    settings: Settings,
    error_code: str | None = None,
) -> str:
    """Apply one status callback. Idempotent on (MessageSid, MessageStatus); safe out of order.

    A callback for a SID we have not stored yet (it can beat the dispatcher's commit) is parked with no
    notice and applied when the dispatcher stores the SID. Returns 'applied', 'recorded',
    'parked' or 'duplicate'.
    """
    status = status.lower()
    # The first statement writes (INSERT ... ON CONFLICT DO NOTHING): on SQLite the transaction takes the
    # write lock at once (waiting politely) instead of failing later when a read would upgrade.
    notice_id = select(Notice.id).where(Notice.provider_sid == message_sid).scalar_subquery()
    inserted = _insert_ignore(
        session,
        NoticeStatusEvent,
        dict(
            notice_id=notice_id,
            message_sid=message_sid,
            status=status,
            source="twilio",
            at=at,
            error_code=error_code,
        ),
        ["message_sid", "status"],
    )
    if not inserted:
        return "duplicate"
    notice = session.scalar(select(Notice).where(Notice.provider_sid == message_sid))
    if notice is None:
        return "parked"
    changed = apply_provider_status(session, notice, status, at, settings, error_code)
    session.flush()
    return "applied" if changed else "recorded"


def _insert_ignore(session: Session, model, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT (keys) DO NOTHING on PostgreSQL and SQLite; True if a row was inserted."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=keys).returning(model.id)
    return session.execute(stmt).first() is not None


def adopt_parked_events(session: Session, notice: Notice, at: dt.datetime, settings: Settings) -> None:
    """Attach callbacks that arrived before the SID was stored, and apply them (highest rank wins)."""
    parked = list(
        session.scalars(
            select(NoticeStatusEvent).where(
                NoticeStatusEvent.message_sid == notice.provider_sid, NoticeStatusEvent.notice_id.is_(None)
            )
        )
    )
    for ev in sorted(parked, key=lambda e: PROVIDER_STATUS.get(e.status, (None, -1))[1]):
        ev.notice_id = notice.id
        apply_provider_status(session, notice, ev.status, ev.at, settings, ev.error_code)


def adopt_parked_events_many(
    session: Session, notices: list[Notice], at: dt.datetime, settings: Settings
) -> None:
    """adopt_parked_events for a batch, with one query (parked callbacks are rare)."""
    by_sid = {n.provider_sid: n for n in notices if n.provider_sid}
    if not by_sid:
        return
    parked = list(
        session.scalars(
            select(NoticeStatusEvent).where(
                NoticeStatusEvent.message_sid.in_(list(by_sid)), NoticeStatusEvent.notice_id.is_(None)
            )
        )
    )
    for ev in sorted(parked, key=lambda e: PROVIDER_STATUS.get(e.status, (None, -1))[1]):
        n = by_sid[ev.message_sid]
        ev.notice_id = n.id
        apply_provider_status(session, n, ev.status, ev.at, settings, ev.error_code)


def handle_inbound(
    session: Session,
    *,
    message_sid: str,
    from_number: str,
    to_number: str | None,
    body: str,
    at: dt.datetime,
    settings: Settings,
) -> InboundSms:
    """An inbound SMS: exact single-word keywords (VND-TWILIO-01) opt out, opt in or ask for help.

    Every inbound message is recorded; a repeat delivery of the same MessageSid changes nothing.
    """
    word = body.strip().upper()
    action = (
        "opt_out"
        if word in OPT_OUT_WORDS
        else "opt_in"
        if word in OPT_IN_WORDS
        else "help"
        if word in HELP_WORDS
        else "none"
    )
    # Insert first (write lock at once on SQLite); a repeat delivery of the same MessageSid stops here.
    fresh = _insert_ignore(
        session,
        InboundSms,
        dict(
            message_sid=message_sid,
            from_number=from_number,
            to_number=to_number,
            body=body[:1600],
            keyword=word if action != "none" else None,
            action=action,
            received_at=at,
        ),
        ["message_sid"],
    )
    msg = session.scalar(select(InboundSms).where(InboundSms.message_sid == message_sid))
    if not fresh:
        return msg
    contacts = list(session.scalars(select(Contact).where(Contact.phone == from_number)))
    actor = Actor(id=None, username="twilio-inbound", role=None)
    if action in ("opt_out", "opt_in"):
        target = action == "opt_out"
        for c in contacts:
            if c.opted_out != target:
                before = {"opted_out": c.opted_out}
                c.opted_out = target
                audit.record(
                    session,
                    actor,
                    f"contact.{action}",
                    "contact",
                    c.id,
                    before=before,
                    after={"opted_out": target, "keyword": word, "message_sid": message_sid},
                )
        if action == "opt_in" and contacts:
            # Notices waiting on the opt-out get another look now.
            session.execute(
                update(Notice)
                .where(
                    Notice.contact_id.in_([c.id for c in contacts]),
                    Notice.status == "deferred",
                )
                .values(next_attempt_at=at)
                .execution_options(synchronize_session=False)
            )
    msg.contact_ids = [c.id for c in contacts]
    session.flush()
    return msg


def letters_sent_on(session: Session, day: dt.date, settings: Settings) -> list[Notice]:
    tz = ZoneInfo(settings.bank.timezone)
    start = dt.datetime.combine(day, dt.time(0), tz).astimezone(dt.UTC)
    end = start + dt.timedelta(days=1)
    return list(
        session.scalars(
            select(Notice)
            .where(
                Notice.channel == "letter",
                Notice.document_path.is_not(None),
                Notice.sent_at >= start,
                Notice.sent_at < end,
            )
            .order_by(Notice.id)
        )
    )


def build_print_batch(session: Session, settings: Settings, day: dt.date):
    """Merge the letters generated on ``day`` (bank timezone) into one PDF plus a CSV manifest."""
    from collections_svc.notices.channels.letters import BatchLetter, merge_print_batch

    rows = []
    for n in letters_sent_on(session, day, settings):
        contact = session.get(Contact, n.contact_id) if n.contact_id else None
        rows.append(
            BatchLetter(
                notice_id=n.id,
                case_id=n.case_id,
                template=n.template,
                recipient=contact.name if contact else "",
                address=n.to_address or "",
                path=n.document_path,
            )
        )
    if not rows:
        raise NotFound(f"No letters were generated on {day}.")
    return merge_print_batch(settings, day, rows)


@register_effect
def _cancel_on_close(session: Session, change: StageChange) -> None:
    """A case that closed (cured, restructured, written off, settled) sends nothing more."""
    if change.to_stage in CLOSED_STAGES:
        cancel_pending_for_case(session, change.case.id, reason=f"case {change.to_stage}", at=utcnow(),
                                actor=change.actor)
