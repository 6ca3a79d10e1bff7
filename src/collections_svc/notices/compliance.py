"""Contact-compliance gates, checked before every automated contact.

A gated notice is deferred to the next allowed moment with the reason (rule id) recorded; it is
never dropped. Gates and their sources:
- contact role: only the borrower's own people and guarantors (CN-COL-01, no unrelated third party);
- opt-out (VND-TWILIO-01, US-REGF-03), consent to automated SMS (US-TCPA-01), phone known invalid;
- allowed hours in the contact's timezone, else the borrower's (CN-COL-03, US-REGF-02, US-TCPA-03);
- no automated contact on the jurisdiction's public holidays (``holidays`` package);
- frequency caps per contact and per case (default 3 SMS in 7 days; cf. US-REGF-01).
Letters are checked for role only: they are generated any time and mailed by the mail room.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from collections_svc.cases.models import Case, is_on_hold
from collections_svc.common.clock import business_date
from collections_svc.config import NoticeSettings, Settings
from collections_svc.loans.models import Borrower, Contact
from collections_svc.notices.models import Notice, NoticeAttempt

SMS_CHANNELS = ("sms", "console")


@dataclass(frozen=True)
class Gate:
    ok: bool
    reason: str | None = None
    until: dt.datetime | None = None  # next moment worth another look (UTC)

    @classmethod
    def open(cls) -> Gate:
        return cls(True)


def _hm(s: str) -> dt.time:
    h, m = s.split(":")
    return dt.time(int(h), int(m))


@lru_cache(maxsize=64)
def _calendar(country: str, subdiv: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdiv, years=[year, year + 1])


def is_closed_day(day: dt.date, ns: NoticeSettings) -> str | None:
    """The reason automated contact is closed on ``day`` (local date), or None."""
    if day.isoformat() in ns.extra_holidays:
        return f"{day} is a configured holiday"
    name = ns.holidays_enabled and _calendar(ns.jurisdiction.upper(), ns.holiday_subdivision, day.year).get(
        day
    )
    if name:
        return f"{day} is a public holiday ({name})"
    if ns.quiet_weekends and day.weekday() >= 5:
        return f"{day} is a weekend"
    return None


def contact_timezone(contact: Contact | None, borrower: Borrower | None, settings: Settings) -> ZoneInfo:
    name = (
        (contact.timezone if contact and contact.timezone else None)
        or (borrower.timezone if borrower and borrower.timezone else None)
        or settings.bank.timezone
    )
    return ZoneInfo(name)


def next_allowed_time(at: dt.datetime, tz: ZoneInfo, ns: NoticeSettings) -> tuple[dt.datetime, str | None]:
    """The first moment >= ``at`` inside the allowed hours on an open day; and why ``at`` itself is not."""
    start, end = _hm(ns.allowed_start), _hm(ns.allowed_end)
    local = at.astimezone(tz)
    reason: str | None = None
    for _ in range(400):  # a year of closed days would be a configuration error
        closed = is_closed_day(local.date(), ns)
        if closed:
            reason = reason or f"no automated contact: {closed}"
            local = dt.datetime.combine(local.date() + dt.timedelta(days=1), start, tz)
            continue
        if local.time() < start:
            reason = reason or (
                f"outside allowed hours {ns.allowed_start}-{ns.allowed_end} "
                f"({local:%H:%M} {tz.key}; CN-COL-03/US-REGF-02)"
            )
            local = dt.datetime.combine(local.date(), start, tz)
            continue
        if local.time() >= end:
            reason = reason or (
                f"outside allowed hours {ns.allowed_start}-{ns.allowed_end} "
                f"({local:%H:%M} {tz.key}; CN-COL-03/US-REGF-02)"
            )
            local = dt.datetime.combine(local.date() + dt.timedelta(days=1), start, tz)
            continue
        return local.astimezone(dt.UTC), reason
    raise ValueError("no allowed contact time within a year: check the notices settings")


def contact_problem(contact: Contact | None, channel: str, settings: Settings) -> str | None:
    """Why this contact may not receive this channel now (a standing block, not a time gate)."""
    ns = settings.notices
    if contact is None:
        return "no eligible contact (borrower's own people or guarantors) for this channel"
    if str(contact.role) not in ns.allowed_roles:
        return f"contact role {contact.role} is not allowed for collection contact (CN-COL-01)"
    if channel in SMS_CHANNELS:
        if not contact.phone:
            return "the contact has no phone number"
        if contact.phone_invalid:
            return "the contact's phone number was rejected as invalid or not mobile (21211/21614)"
        if contact.opted_out:
            return "the contact opted out of SMS (VND-TWILIO-01/US-REGF-03)"
        if ns.require_consent and not contact.sms_consent:
            return "no consent to automated SMS on record (US-TCPA-01)"
    return None


def _recent_send_times(
    session: Session,
    column,
    value: int,
    exclude_id: int | None,
    since: dt.datetime,
    now: dt.datetime,
    cap: int,
) -> list[dt.datetime]:
    """The send times that count against a cap, ascending: at most ``cap`` sent in the window (an index
    range scan on (contact_id|case_id, sent_at)) plus the ones in flight, counted as ``now``."""
    mine = (column == value, Notice.channel.in_(SMS_CHANNELS), Notice.id != (exclude_id or -1))
    sent = list(
        session.scalars(
            select(Notice.sent_at)
            .where(*mine, Notice.sent_at >= since)
            .order_by(Notice.sent_at.desc())
            .limit(cap)
        )
    )
    # In flight = 'sending' with an attempt started (a merely claimed row has not reached anyone).
    in_flight = (
        session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(
                *mine,
                Notice.status == "sending",
                Notice.sent_at.is_(None),
                exists().where(
                    NoticeAttempt.notice_id == Notice.id, NoticeAttempt.outcome.in_(("started", "unknown"))
                ),
            )
        )
        or 0
    )
    return sorted(sent + [now] * in_flight)


class SendTally:
    """Recent SMS send times per contact and per case for one dispatch batch: read with four queries up
    front, then kept current in memory as the batch approves notices (instead of queries per notice)."""

    def __init__(self, session: Session, notices: list[Notice], now: dt.datetime, ns: NoticeSettings):
        self.now = now
        self.by: dict[str, dict[int, list[tuple[int, dt.datetime]]]] = {"contact": {}, "case": {}}
        since = now - dt.timedelta(days=ns.cap_window_days)
        wanted = {
            "contact": (Notice.contact_id, {n.contact_id for n in notices if n.contact_id is not None}),
            "case": (Notice.case_id, {n.case_id for n in notices}),
        }
        started = exists().where(
            NoticeAttempt.notice_id == Notice.id, NoticeAttempt.outcome.in_(("started", "unknown"))
        )
        for key, (col, values) in wanted.items():
            if not values:
                continue
            sms = (col.in_(values), Notice.channel.in_(SMS_CHANNELS))
            for v, nid, t in session.execute(
                select(col, Notice.id, Notice.sent_at).where(*sms, Notice.sent_at >= since)
            ):
                self.by[key].setdefault(v, []).append((nid, t))
            in_flight = select(col, Notice.id).where(
                *sms, Notice.status == "sending", Notice.sent_at.is_(None), started
            )
            for v, nid in session.execute(in_flight):
                self.by[key].setdefault(v, []).append((nid, now))

    def times(self, key: str, value: int, exclude_id: int | None, since: dt.datetime) -> list[dt.datetime]:
        return sorted(t for nid, t in self.by[key].get(value, []) if nid != exclude_id and t >= since)

    def add(self, notice: Notice, at: dt.datetime) -> None:
        if notice.contact_id is not None:
            self.by["contact"].setdefault(notice.contact_id, []).append((notice.id, at))
        self.by["case"].setdefault(notice.case_id, []).append((notice.id, at))


def frequency_gate(
    session: Session, notice: Notice, now: dt.datetime, ns: NoticeSettings, tally: SendTally | None = None
) -> Gate:
    window = dt.timedelta(days=ns.cap_window_days)
    since = now - window
    checks = []
    if notice.contact_id is not None:
        checks.append(("contact", Notice.contact_id, notice.contact_id, ns.max_sms_per_contact))
    checks.append(("case", Notice.case_id, notice.case_id, ns.max_sms_per_case))
    until: dt.datetime | None = None
    reason = None
    for label, col, val, cap in checks:
        if tally is not None:
            times = tally.times(label, val, notice.id, since)
        else:
            times = _recent_send_times(session, col, val, notice.id, since, now, cap)
        if len(times) >= cap:
            t = times[len(times) - cap] + window
            if until is None or t > until:
                until = t
                reason = (
                    f"frequency cap: {cap} SMS to this {label} already in the last {ns.cap_window_days} "
                    f"days (max {cap})"
                )
    return Gate(False, reason, until) if until else Gate.open()


def check(
    session: Session,
    notice: Notice,
    contact: Contact | None,
    borrower: Borrower | None,
    now: dt.datetime,
    settings: Settings,
    tally: SendTally | None = None,
) -> Gate:
    """Run every gate for ``notice`` at ``now``; the first that closes wins (with its reopening time)."""
    ns = settings.notices
    # A held case (dispute, bankruptcy stay, supervisor hold) gets no automatic notice: defer, never drop.
    case = session.get(Case, notice.case_id)
    if case is not None and is_on_hold(case, business_date(now, settings.bank.timezone)):
        return Gate(False, "case on hold", now + dt.timedelta(hours=ns.blocked_recheck_hours))
    problem = contact_problem(contact, notice.channel, settings)
    if problem:
        return Gate(False, problem, now + dt.timedelta(hours=ns.blocked_recheck_hours))
    if notice.channel not in SMS_CHANNELS:
        return Gate.open()
    tz = contact_timezone(contact, borrower, settings)
    at = now
    reasons: list[str] = []
    for _ in range(10):  # caps and hours interact: iterate to a moment both allow
        at2, why = next_allowed_time(at, tz, ns)
        if why:
            reasons.append(why)
        cap = frequency_gate(session, notice, at2, ns, tally)
        if cap.ok:
            at = at2
            break
        reasons.append(cap.reason or "frequency cap")
        at = cap.until  # type: ignore[assignment]
    if at <= now:
        return Gate.open()
    return Gate(False, "; ".join(dict.fromkeys(reasons)), at)
