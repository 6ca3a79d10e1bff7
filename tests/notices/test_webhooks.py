"""Twilio webhooks: signature checks, idempotent and out-of-order status callbacks, STOP/START/HELP."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from collections_svc.audit.models import AuditEvent
from collections_svc.notices import service
from collections_svc.notices.channels.twilio_sms import TwilioSmsSender
from collections_svc.notices.dispatcher import dispatch_batch
from collections_svc.notices.models import InboundSms, NoticeStatusEvent
from collections_svc.notices.router import PUBLIC
from tests.fakes.twilio_fake import FakeTwilio
from tests.notices.conftest import AUTH_TOKEN, contact_of, make_case
from tests.notices.conftest import PUBLIC as PUBLIC_URL

D = dt.date(2026, 4, 1)
STATUS = "/api/v1/webhooks/twilio/status"
INBOUND = "/api/v1/webhooks/twilio/inbound"


@pytest.fixture
def settings(twilio_settings):
    return twilio_settings


@pytest.fixture
def clock(wed_10am):
    return wed_10am


@pytest.fixture
def sent_notice(session, session_factory, twilio_settings, wed_10am):
    case = make_case(session)
    n = service.enqueue(
        session, case, "first_reminder", trigger_key="dpd:1", business_date=D, settings=twilio_settings
    )
    session.commit()
    assert (
        dispatch_batch(session_factory, TwilioSmsSender(twilio_settings), wed_10am, twilio_settings).sent == 1
    )
    session.refresh(n)
    return n


def _post_status(client, sid, status, **kw):
    return FakeTwilio().post_status(client, PUBLIC_URL, AUTH_TOKEN, sid, status, **kw)


def test_bad_signature_is_403_and_changes_nothing(client, session, sent_notice):
    params = FakeTwilio.status_params(sent_notice.provider_sid, "delivered")
    before = session.scalar(select(func.count()).select_from(NoticeStatusEvent))
    r = client.post(STATUS, data=params, headers={"X-Twilio-Signature": "bm90LWEtc2lnbmF0dXJl"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post(STATUS, data=params)  # no signature at all
    assert r.status_code == 403
    # Signed for another URL (the internal one a proxy would show) does not pass either.
    sig = FakeTwilio.sign(AUTH_TOKEN, "http://testserver" + STATUS, params)
    assert client.post(STATUS, data=params, headers={"X-Twilio-Signature": sig}).status_code == 403
    session.refresh(sent_notice)
    assert sent_notice.status == "sent"
    assert session.scalar(select(func.count()).select_from(NoticeStatusEvent)) == before
    r = client.post(
        INBOUND,
        data={"MessageSid": "SMx", "From": "+8613900000000", "Body": "STOP"},
        headers={"X-Twilio-Signature": "bad"},
    )
    assert r.status_code == 403
    assert session.scalar(select(func.count()).select_from(InboundSms)) == 0


def test_duplicated_and_reordered_callbacks_never_leave_a_final_status(client, session, sent_notice):
    sid = sent_notice.provider_sid
    assert _post_status(client, sid, "delivered").status_code == 204
    assert _post_status(client, sid, "delivered").status_code == 204  # repeat
    assert _post_status(client, sid, "sent").status_code == 204  # late, out of order
    assert _post_status(client, sid, "undelivered", error_code="30003").status_code == 204
    session.refresh(sent_notice)
    assert sent_notice.status == "delivered" and sent_notice.final_at is not None
    events = session.scalars(
        select(NoticeStatusEvent.status)
        .where(NoticeStatusEvent.message_sid == sid)
        .order_by(NoticeStatusEvent.id)
    ).all()
    assert events == ["delivered", "sent", "undelivered"]  # all recorded once, the final status kept


def test_undelivered_with_error_code_is_final(client, session, sent_notice):
    _post_status(client, sent_notice.provider_sid, "undelivered", error_code="30005")
    session.refresh(sent_notice)
    assert sent_notice.status == "undelivered" and sent_notice.error_code == "30005"


def test_callback_before_the_sid_is_stored_is_parked_then_applied(
    client, session, session_factory, twilio_settings, fake_twilio, wed_10am
):
    case = make_case(session)
    n = service.enqueue(
        session, case, "first_reminder", trigger_key="dpd:1", business_date=D, settings=twilio_settings
    )
    session.commit()

    def race(point, notice_id):
        if point == "after_send":  # Twilio's callback beats our commit of the SID
            _post_status(client, fake_twilio.messages[-1]["sid"], "delivered")

    dispatch_batch(
        session_factory, TwilioSmsSender(twilio_settings), wed_10am, twilio_settings, crash_at=race
    )
    session.refresh(n)
    assert n.status == "delivered"


def _inbound(client, sid, frm, body):
    params = {"MessageSid": sid, "From": frm, "To": "+15005550006", "Body": body, "AccountSid": "ACtest"}
    sig = FakeTwilio.sign(AUTH_TOKEN, PUBLIC_URL + INBOUND, params)
    return client.post(INBOUND, data=params, headers={"X-Twilio-Signature": sig})


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Unsubscribe ", "STOPALL", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
)
def test_stop_words_opt_out_start_opts_back_in(client, session, word):
    case = make_case(session)
    contact = contact_of(session, case)
    session.commit()
    r = _inbound(client, "SMin1", contact.phone, word)
    assert r.status_code == 200 and "<Response>" in r.text
    session.refresh(contact)
    assert contact.opted_out is True
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "contact.opt_out"))
    _inbound(client, "SMin2", contact.phone, "START")
    session.refresh(contact)
    assert contact.opted_out is False


def test_help_and_sentences_change_nothing_but_are_recorded(client, session):
    case = make_case(session)
    contact = contact_of(session, case)
    session.commit()
    for i, body in enumerate(["HELP", "info", "Stop texting me please"]):
        assert _inbound(client, f"SMh{i}", contact.phone, body).status_code == 200
    session.refresh(contact)
    assert contact.opted_out is False
    rows = session.scalars(select(InboundSms).order_by(InboundSms.id)).all()
    assert [r.action for r in rows] == ["help", "help", "none"]
    # A repeat of the same MessageSid records nothing new.
    _inbound(client, "SMh0", contact.phone, "HELP")
    assert session.scalar(select(func.count()).select_from(InboundSms)) == 3


def test_webhooks_are_marked_public_and_other_routes_need_a_role(app):
    from collections_svc.auth.deps import RoleGuard
    from collections_svc.notices.router import router, webhooks

    public = sorted(r.path for r in webhooks.routes if r.openapi_extra == PUBLIC)
    assert public == [INBOUND, STATUS]
    assert app.openapi()["paths"][STATUS]["post"]["x-public"] == "twilio-signature"
    for r in router.routes:
        deps = [d.call for d in r.dependant.dependencies]
        assert any(isinstance(d, RoleGuard) for d in deps), r.path


def test_start_wakes_up_notices_deferred_by_an_opt_out(
    client, session, session_factory, twilio_settings, wed_10am
):
    case = make_case(session)
    contact = contact_of(session, case)
    contact.opted_out = True
    n = service.enqueue(
        session, case, "first_reminder", trigger_key="dpd:1", business_date=D, settings=twilio_settings
    )
    session.commit()
    dispatch_batch(session_factory, TwilioSmsSender(twilio_settings), wed_10am, twilio_settings)
    session.refresh(n)
    assert n.status == "deferred" and n.next_attempt_at > wed_10am.now()
    _inbound(client, "SMstart", contact.phone, "start")
    session.refresh(n)
    assert n.next_attempt_at == wed_10am.now()
    assert (
        dispatch_batch(session_factory, TwilioSmsSender(twilio_settings), wed_10am, twilio_settings).sent == 1
    )
