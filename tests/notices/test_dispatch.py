"""The dispatcher against the real twilio client and the local fake: each notice reaches Twilio once."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from collections_svc.cases.models import Case, CaseEvent
from collections_svc.notices import service
from collections_svc.notices.channels.twilio_sms import TwilioSmsSender
from collections_svc.notices.dispatcher import dispatch_batch, reconcile
from collections_svc.notices.models import Notice, NoticeAttempt
from tests.notices.conftest import contact_of, make_case

D = dt.date(2026, 4, 1)


def _enqueue(session, settings, n=1, template="first_reminder"):
    out = []
    for _ in range(n):
        case = make_case(session)
        out.append(
            service.enqueue(session, case, template, trigger_key="dpd:1", business_date=D, settings=settings)
        )
    session.commit()
    return out


def _run(session_factory, settings, clock, **kw):
    return dispatch_batch(
        session_factory, TwilioSmsSender(settings), clock, settings, limit=50, rng=random.Random(1), **kw
    )


def test_sends_once_and_stores_the_sid(session, session_factory, twilio_settings, fake_twilio, wed_10am):
    (n,) = _enqueue(session, twilio_settings)
    counts = _run(session_factory, twilio_settings, wed_10am)
    assert counts.sent == 1
    session.refresh(n)
    assert n.status == "sent" and n.provider_sid == fake_twilio.messages[0]["sid"]
    assert fake_twilio.messages[0]["to"] == n.to_address and fake_twilio.messages[0]["body"] == n.body
    assert fake_twilio.messages[0]["status_callback"].startswith("https://collections.example.com/")
    # A second run sends nothing more.
    wed_10am.advance(hours=1)
    assert _run(session_factory, twilio_settings, wed_10am).sent == 0
    assert len(fake_twilio.messages) == 1
    assert session.scalar(select(CaseEvent).where(CaseEvent.case_id == n.case_id, CaseEvent.kind == "notice"))


def test_429_and_500_retry_with_backoff_then_send_once(
    session, session_factory, twilio_settings, fake_twilio, wed_10am
):
    (n,) = _enqueue(session, twilio_settings)
    fake_twilio.script.extend(["429", "500"])
    assert _run(session_factory, twilio_settings, wed_10am).retried == 1
    session.refresh(n)
    assert n.status == "queued" and n.next_attempt_at > wed_10am.now()
    first_delay = n.next_attempt_at - wed_10am.now()
    wed_10am.at = n.next_attempt_at
    assert _run(session_factory, twilio_settings, wed_10am).retried == 1
    session.refresh(n)
    assert n.next_attempt_at - wed_10am.now() > first_delay / 2  # grows (with jitter)
    wed_10am.at = n.next_attempt_at
    assert _run(session_factory, twilio_settings, wed_10am).sent == 1
    session.refresh(n)
    assert n.status == "sent" and n.attempts == 3
    assert len(fake_twilio.messages) == 1
    outcomes = [
        a.outcome
        for a in session.scalars(
            select(NoticeAttempt).where(NoticeAttempt.notice_id == n.id).order_by(NoticeAttempt.id)
        )
    ]
    assert outcomes == ["retry", "retry", "sent"]


def test_gives_up_after_max_attempts_with_reason_and_hook(
    session, session_factory, twilio_settings, fake_twilio, wed_10am
):
    twilio_settings.notices.max_attempts = 2
    (n,) = _enqueue(session, twilio_settings)
    fake_twilio.script.extend(["500", "500"])
    seen = []
    _run(session_factory, twilio_settings, wed_10am, on_failed=lambda s, notice: seen.append(notice.id))
    session.refresh(n)
    wed_10am.at = n.next_attempt_at
    _run(session_factory, twilio_settings, wed_10am, on_failed=lambda s, notice: seen.append(notice.id))
    session.refresh(n)
    assert n.status == "failed" and "gave up after 2 attempts" in n.last_error
    assert seen == [n.id]
    assert fake_twilio.messages == []


@pytest.mark.parametrize(
    "code,flag", [("21211", "phone_invalid"), ("21614", "phone_invalid"), ("21610", "opted_out")]
)
def test_permanent_errors_mark_the_contact_and_never_retry(
    session, session_factory, twilio_settings, fake_twilio, wed_10am, code, flag
):
    (n,) = _enqueue(session, twilio_settings)
    fake_twilio.script.append(code)
    counts = _run(session_factory, twilio_settings, wed_10am)
    assert counts.failed == 1
    session.refresh(n)
    assert n.status == "failed" and n.error_code == code
    contact = contact_of(session, session.get(Case, n.case_id))
    session.refresh(contact)
    assert getattr(contact, flag) is True
    wed_10am.advance(days=1)
    _run(session_factory, twilio_settings, wed_10am)
    assert len(fake_twilio.requests) == 1


def test_timeout_after_twilio_created_the_message_is_reconciled_not_resent(
    session, session_factory, twilio_settings, fake_twilio, wed_10am
):
    (n,) = _enqueue(session, twilio_settings)
    fake_twilio.script.append("hang")  # created at Twilio, answer arrives after the client timeout
    counts = _run(session_factory, twilio_settings, wed_10am)
    assert counts.unknown == 1
    session.refresh(n)
    assert n.status == "sending" and n.provider_sid is None
    wed_10am.advance(seconds=5)
    counts = _run(session_factory, twilio_settings, wed_10am)
    assert counts.reconciled_sent == 1
    session.refresh(n)
    assert n.status == "sent" and n.provider_sid == fake_twilio.messages[0]["sid"]
    assert len(fake_twilio.messages) == 1 and len(fake_twilio.requests) == 1


def test_timeout_before_twilio_created_anything_is_retried_once(
    session, session_factory, twilio_settings, fake_twilio, wed_10am
):
    (n,) = _enqueue(session, twilio_settings)
    fake_twilio.script.append("hang_before")
    assert _run(session_factory, twilio_settings, wed_10am).unknown == 1
    wed_10am.advance(seconds=5)
    counts = _run(session_factory, twilio_settings, wed_10am)
    assert counts.reconciled_requeued == 1
    session.refresh(n)
    wed_10am.at = n.next_attempt_at
    assert _run(session_factory, twilio_settings, wed_10am).sent == 1
    assert len(fake_twilio.messages) == 1


class Crash(Exception):
    pass


@pytest.mark.parametrize("point", ["after_attempt", "after_send"])
def test_crash_between_send_and_record_is_reconciled_without_duplicate(
    session, session_factory, twilio_settings, fake_twilio, wed_10am, point
):
    notices = _enqueue(session, twilio_settings, n=3)

    def crash(p, notice_id):
        if p == point and notice_id == notices[1].id:
            raise Crash(p)

    with pytest.raises(Crash):
        _run(session_factory, twilio_settings, wed_10am, crash_at=crash)
    # The batch died before recording anything; the notice it crashed on reached Twilio only if the
    # crash came after the send. Before the lease expires another dispatcher leaves all three alone.
    sent_bodies = [m["body"] for m in fake_twilio.messages]
    assert (notices[1].body in sent_bodies) == (point == "after_send")
    wed_10am.advance(seconds=1)
    _run(session_factory, twilio_settings, wed_10am)
    assert [m["body"] for m in fake_twilio.messages] == sent_bodies
    wed_10am.advance(seconds=10)
    reconcile(session_factory, TwilioSmsSender(twilio_settings), wed_10am, twilio_settings)
    wed_10am.advance(seconds=10)
    _run(session_factory, twilio_settings, wed_10am)
    for n in notices:
        session.refresh(n)
        assert n.status == "sent", (n.id, n.status)
    bodies = [m["body"] for m in fake_twilio.messages]
    assert sorted(bodies) == sorted(n.body for n in notices)  # each exactly once


def test_reconcile_on_the_console_channel_finds_the_logged_line(session, session_factory, settings, wed_10am):
    from collections_svc.notices.channels.console import ConsoleSender

    (n,) = _enqueue(session, settings)

    def crash(p, notice_id):
        if p == "after_send":
            raise Crash(p)

    with pytest.raises(Crash):
        dispatch_batch(
            session_factory,
            ConsoleSender(settings.notices.console_outbox, now=wed_10am.now),
            wed_10am,
            settings,
            crash_at=crash,
        )
    wed_10am.advance(seconds=10)
    counts = dispatch_batch(
        session_factory, ConsoleSender(settings.notices.console_outbox, now=wed_10am.now), wed_10am, settings
    )
    assert counts.reconciled_sent == 1
    session.refresh(n)
    assert n.status == "sent"
    lines = Path(settings.notices.console_outbox).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and n.provider_sid in lines[0]


def test_enqueue_is_idempotent(session, settings):
    case = make_case(session)
    a = service.enqueue(
        session, case, "first_reminder", trigger_key="dpd:1", business_date=D, settings=settings
    )
    b = service.enqueue(
        session, case, "first_reminder", trigger_key="dpd:1", business_date=D, settings=settings
    )
    c = service.enqueue(
        session, case, "first_reminder", trigger_key="dpd:1:again", business_date=D, settings=settings
    )
    assert a is not None and b is None and c is not None
    assert len(session.scalars(select(Notice).where(Notice.case_id == case.id)).all()) == 2
    assert "¥167,250.00" in a.body  # two overdue installments as of 2026-04-01


def test_a_dispatcher_stalled_past_its_lease_does_not_call_out(
    session, session_factory, twilio_settings, fake_twilio, wed_10am
):
    (n,) = _enqueue(session, twilio_settings)

    def stall(point, notice_id):
        if point == "after_attempt":
            wed_10am.advance(seconds=twilio_settings.notices.lease_seconds)  # e.g. a long GC pause

    counts = _run(session_factory, twilio_settings, wed_10am, crash_at=stall)
    assert counts.retried == 1 and fake_twilio.requests == []
    session.refresh(n)
    assert n.status == "queued" and n.error_code == "lease"
    wed_10am.at = n.next_attempt_at
    assert _run(session_factory, twilio_settings, wed_10am).sent == 1
    assert len(fake_twilio.messages) == 1


def test_messaging_service_sid_is_used_when_configured(
    session, session_factory, twilio_settings, fake_twilio, wed_10am
):
    twilio_settings.twilio.messaging_service_sid = "MG0123456789abcdef0123456789abcdef"
    _enqueue(session, twilio_settings)
    assert _run(session_factory, twilio_settings, wed_10am).sent == 1
    assert fake_twilio.messages[0]["messaging_service_sid"] == "MG0123456789abcdef0123456789abcdef"
    assert fake_twilio.messages[0]["from"] is None


def test_console_is_the_default_without_twilio_credentials(settings):
    from collections_svc.notices.channels.console import ConsoleSender
    from collections_svc.notices.channels.twilio_sms import make_sms_sender

    assert isinstance(make_sms_sender(settings), ConsoleSender)
