"""Contact-compliance gates: hours in the contact's timezone, holidays, frequency caps, opt-out, roles."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from collections_svc.common.clock import FixedClock
from collections_svc.loans.models import ContactRole
from collections_svc.notices import service
from collections_svc.notices.channels.console import ConsoleSender
from collections_svc.notices.compliance import next_allowed_time
from collections_svc.notices.dispatcher import dispatch_batch
from collections_svc.notices.models import Notice
from tests.notices.conftest import contact_of, make_case

SH = ZoneInfo("Asia/Shanghai")
D = dt.date(2026, 4, 1)


def local(y, m, d, h, mi=0, tz=SH) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=tz)


def _dispatch(session_factory, settings, clock):
    return dispatch_batch(
        session_factory, ConsoleSender(settings.notices.console_outbox, now=clock.now), clock, settings
    )


def _sent_lines(settings) -> list[str]:
    try:
        return open(settings.notices.console_outbox, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        return []


def test_2130_contact_time_goes_out_at_0800_next_allowed_day(session, session_factory, settings):
    case = make_case(session)
    clock = FixedClock(local(2026, 4, 1, 21, 30))  # Wednesday 21:30 Shanghai
    n = service.enqueue(
        session,
        case,
        "first_reminder",
        trigger_key="dpd:1",
        business_date=D,
        settings=settings,
        due_at=clock.now(),
    )
    session.commit()
    assert _dispatch(session_factory, settings, clock).deferred == 1
    session.refresh(n)
    assert n.status == "deferred" and n.next_attempt_at == local(2026, 4, 2, 8, 0)
    assert "outside allowed hours" in n.defer_reason and "21:30" in n.defer_reason
    clock.at = local(2026, 4, 2, 7, 59)
    assert _dispatch(session_factory, settings, clock).claimed == 0
    clock.at = local(2026, 4, 2, 8, 0)
    assert _dispatch(session_factory, settings, clock).sent == 1
    assert len(_sent_lines(settings)) == 1


def test_contact_timezone_wins_over_the_bank(session, session_factory, settings):
    case = make_case(session, tz="America/Los_Angeles")
    clock = FixedClock(local(2026, 4, 1, 12, 0))  # noon in Shanghai = 21:00 on Mar 31 in Los Angeles (PDT)
    n = service.enqueue(
        session,
        case,
        "first_reminder",
        trigger_key="dpd:1",
        business_date=D,
        settings=settings,
        due_at=clock.now(),
    )
    session.commit()
    _dispatch(session_factory, settings, clock)
    session.refresh(n)
    assert n.status == "deferred"
    assert n.next_attempt_at == dt.datetime(2026, 4, 1, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_public_holidays_are_skipped(settings):
    ns = settings.notices
    # Saturday 2026-04-04 21:30; Apr 5 (Qingming) and Apr 6 (observed) are CN public holidays.
    at, why = next_allowed_time(local(2026, 4, 4, 21, 30), SH, ns)
    assert at == local(2026, 4, 7, 8, 0)
    # National Day: 2026-10-01..03 closed, 04 (Sunday) open, 05..07 closed again.
    at, why = next_allowed_time(local(2026, 10, 1, 10, 0), SH, ns)
    assert at == local(2026, 10, 4, 8, 0) and "public holiday" in why
    ns.quiet_weekends = True
    at, _ = next_allowed_time(local(2026, 10, 1, 10, 0), SH, ns)
    assert at == local(2026, 10, 8, 8, 0)
    ns.quiet_weekends = False
    ns.extra_holidays = ["2026-04-07"]
    at, why = next_allowed_time(local(2026, 4, 4, 21, 30), SH, ns)
    assert at == local(2026, 4, 8, 8, 0)


def test_holiday_configurable_per_jurisdiction(settings):
    ns = settings.notices
    ns.jurisdiction = "US"
    ny = ZoneInfo("America/New_York")
    at, why = next_allowed_time(dt.datetime(2026, 7, 3, 23, 0, tzinfo=ny), ny, ns)  # Jul 3 observed holiday
    assert at == dt.datetime(2026, 7, 4, 8, 0, tzinfo=ny) + dt.timedelta(days=1)  # Jul 4 too -> Jul 5
    assert settings.notices.wants_opt_out_hint is True


def test_the_fourth_sms_in_seven_days_waits(session, session_factory, settings):
    case = make_case(session)
    clock = FixedClock(local(2026, 4, 1, 10, 0))
    templates = [
        ("first_reminder", {}),
        ("letter_sent", {}),
        ("promise_reminder", {"promise_amount": "1000.00", "promise_date": "2026-04-03"}),
        ("promise_broken", {"promise_amount": "1000.00", "promise_date": "2026-04-03"}),
    ]
    notices = []
    for i, (t, extra) in enumerate(templates):
        clock.at = local(2026, 4, 1 + i, 10, 0)
        notices.append(
            service.enqueue(
                session,
                case,
                t,
                trigger_key=f"k{i}",
                business_date=clock.now().date(),
                settings=settings,
                extra=extra,
                due_at=clock.now(),
            )
        )
        session.commit()
        _dispatch(session_factory, settings, clock)
    for n in notices:
        session.refresh(n)
    assert [n.status for n in notices] == ["sent", "sent", "sent", "deferred"]
    fourth = notices[3]
    assert "frequency cap" in fourth.defer_reason
    assert fourth.next_attempt_at == local(2026, 4, 8, 10, 0)  # when the first SMS leaves the 7-day window
    clock.at = local(2026, 4, 8, 10, 0)
    assert _dispatch(session_factory, settings, clock).sent == 1
    assert len(_sent_lines(settings)) == 4


def test_opted_out_and_unconsented_contacts_are_deferred_not_dropped(session, session_factory, settings):
    case = make_case(session)
    contact = contact_of(session, case)
    contact.opted_out = True
    clock = FixedClock(local(2026, 4, 1, 10, 0))
    n = service.enqueue(
        session,
        case,
        "first_reminder",
        trigger_key="dpd:1",
        business_date=D,
        settings=settings,
        due_at=clock.now(),
    )
    session.commit()
    _dispatch(session_factory, settings, clock)
    session.refresh(n)
    assert n.status == "deferred" and "opted out" in n.defer_reason
    contact.opted_out = False
    contact.sms_consent = False
    session.commit()
    clock.advance(days=1)
    _dispatch(session_factory, settings, clock)
    session.refresh(n)
    assert n.status == "deferred" and "US-TCPA-01" in n.defer_reason
    assert _sent_lines(settings) == []


def test_unrelated_third_party_is_never_contacted(session, session_factory, settings):
    case = make_case(session, role=ContactRole.other)
    clock = FixedClock(local(2026, 4, 1, 10, 0))
    n = service.enqueue(
        session,
        case,
        "first_reminder",
        trigger_key="dpd:1",
        business_date=D,
        settings=settings,
        due_at=clock.now(),
    )
    session.commit()
    assert n.contact_id is None  # pick_contact refuses role 'other'
    _dispatch(session_factory, settings, clock)
    session.refresh(n)
    assert n.status == "deferred" and "no eligible contact" in n.defer_reason
    other = contact_of(session, case)
    import pytest

    from collections_svc.errors import ValidationFailed

    case2 = make_case(session)
    with pytest.raises(ValidationFailed):
        service.enqueue(
            session,
            case2,
            "first_reminder",
            trigger_key="x",
            business_date=D,
            settings=settings,
            contact=other,
        )
    assert session.scalar(select(Notice).where(Notice.case_id == case2.id)) is None
