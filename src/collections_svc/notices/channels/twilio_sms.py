"""SMS through the real ``twilio`` client.

The SDK hard-codes https://api.twilio.com; ``RebasedTwilioHttpClient`` rewrites scheme and host to
``settings.twilio.api_base_url`` when set (local fake server in tests and demos). The SDK neither
retries nor offers an idempotency key: the dispatcher records the attempt first and reconciles
unknown outcomes with ``find_sent`` (list by recipient and time window).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from collections_svc.config import Settings
from collections_svc.notices.channels.base import SendError, SendResult

PERMANENT_CODES = {21211, 21614, 21610}


class RebasedTwilioHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that sends every request to another scheme://host[:port]."""

    def __init__(self, base_url: str = "", **kw):
        super().__init__(**kw)
        self.base = urlsplit(base_url) if base_url else None

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        if self.base is not None:
            u = urlsplit(url)
            url = urlunsplit((self.base.scheme, self.base.netloc, u.path, u.query, u.fragment))
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


class TwilioSmsSender:
    def __init__(self, settings: Settings):
        t = settings.twilio
        if not t.account_sid or not t.auth_token.get_secret_value():
            raise ValueError("Twilio credentials are not configured")
        if not (t.from_number or t.messaging_service_sid):
            raise ValueError(
                "set COLLECTIONS_TWILIO__FROM_NUMBER or COLLECTIONS_TWILIO__MESSAGING_SERVICE_SID"
            )
        self.settings = settings
        http = RebasedTwilioHttpClient(t.api_base_url, timeout=settings.notices.http_timeout_seconds)
        self.client = Client(t.account_sid, t.auth_token.get_secret_value(), http_client=http)

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        t = self.settings.twilio
        kw: dict = {"to": to, "body": body}
        if t.messaging_service_sid:
            kw["messaging_service_sid"] = t.messaging_service_sid
        else:
            kw["from_"] = t.from_number
        if status_callback:
            kw["status_callback"] = status_callback
        try:
            msg = self.client.messages.create(**kw)
        except TwilioRestException as exc:
            code = int(exc.code) if exc.code is not None else exc.status
            retry = exc.status == 429 or exc.status >= 500 or code == 20429
            raise SendError(
                f"Twilio {exc.status}: {exc.msg}",
                code=str(code),
                retryable=retry and code not in PERMANENT_CODES,
            ) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise SendError(f"connection timed out: {exc}", code="timeout", retryable=True) from exc
        except requests.exceptions.Timeout as exc:
            # The request may have reached Twilio: the outcome is unknown, reconcile before retrying.
            raise SendError(f"read timed out: {exc}", code="timeout", unknown=True) from exc
        except requests.exceptions.ConnectionError as exc:
            if "NewConnectionError" in repr(exc) or "Connection refused" in str(exc):
                # Never connected: nothing reached Twilio, a retry cannot duplicate.
                raise SendError(f"connection refused: {exc}", code="connection", retryable=True) from exc
            # Reset mid-request: it may have been sent, so the outcome is unknown.
            raise SendError(f"connection error: {exc}", code="connection", unknown=True) from exc
        except TwilioException as exc:
            raise SendError(f"Twilio client error: {exc}", code="client", unknown=True) from exc
        return SendResult(sid=msg.sid, status=msg.status or "queued")

    def find_sent(self, to: str, body: str, since: dt.datetime, until: dt.datetime) -> list[str]:
        # Twilio lists newest first. A message still queued has no date_sent, so filter by recipient
        # at Twilio and by creation time and body here.
        try:
            msgs = self.client.messages.list(to=to, limit=200)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise SendError(
                f"could not list messages at Twilio: {exc}", code="reconcile", retryable=True
            ) from exc
        return [
            m.sid
            for m in msgs
            if (m.body or "") == body and m.date_created is not None and since <= m.date_created <= until
        ]


def make_sms_sender(settings: Settings):
    """TwilioSmsSender when credentials are configured, else the offline ConsoleSender."""
    from collections_svc.notices.channels.console import ConsoleSender

    t = settings.twilio
    if t.account_sid and t.auth_token.get_secret_value() and (t.from_number or t.messaging_service_sid):
        return TwilioSmsSender(settings)
    return ConsoleSender(settings.notices.console_outbox)
