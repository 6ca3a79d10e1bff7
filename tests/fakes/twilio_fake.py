"""A local fake of the Twilio Messages API for the real twilio client (via RebasedTwilioHttpClient).

Implements POST and GET /2010-04-01/Accounts/{sid}/Messages.json on 127.0.0.1 with a random port.
Answers are scriptable per create request (``script``), or random with a failure rate (``chaos``):
  ok | 21211 | 21614 | 21610 | 429 | 500 | hang (message created, answer delayed past the client
  timeout) | hang_before (no message created, answer delayed).
Every created message is logged in ``messages``; ``post_status`` signs and posts status callbacks.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import random
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

ERRORS = {
    "21211": (400, "The 'To' number is not a valid phone number."),
    "21614": (400, "'To' number is not a valid mobile number"),
    "21610": (400, "Attempt to send to unsubscribed recipient"),
    "429": (429, "Too Many Requests"),
    "500": (500, "Internal Server Error"),
}


def _rfc2822(t: dt.datetime) -> str:
    return email.utils.format_datetime(t.astimezone(dt.UTC), usegmt=True)


class FakeTwilio:
    def __init__(self, *, seed: int = 0, hang_seconds: float = 2.0, now=None):
        # The fake's notion of time (date_created); tests with a frozen app clock pass that clock's now.
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.messages: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.script: deque[str] = deque()
        self.chaos: dict[str, float] = {}  # action -> probability, for create requests not scripted
        self.rng = random.Random(seed)
        self.hang_seconds = hang_seconds
        self.delay_seconds = 0.0  # every successful create waits this long first (a slow but working API)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        # A number listed here answers every create with that action (e.g. opted-out recipients).
        self.by_number: dict[str, str] = {}

    # -- control -------------------------------------------------------------------------------------
    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per response (headers + body), no Nagle: avoids 40 ms delayed-ACK stalls.
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True

            def log_message(self, *a):  # quiet
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                if len(raw) < n:  # the client died mid-request: like Twilio, create nothing
                    self.close_connection = True
                    return
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                path = urlsplit(self.path).path
                if not path.endswith("/Messages.json"):
                    return self._send(404, {"code": 20404, "message": "not found", "status": 404})
                fake.requests.append(("POST", form.get("To", "")))
                action = fake._next_action(form.get("To", ""))
                if action == "hang_before":
                    time.sleep(fake.hang_seconds)
                    return self._send(500, {"code": 20500, "message": "late", "status": 500})
                if action in ERRORS:
                    status, msg = ERRORS[action]
                    code = int(action) if len(action) == 5 else (20429 if status == 429 else 20500)
                    return self._send(
                        status,
                        {
                            "code": code,
                            "message": msg,
                            "status": status,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        },
                    )
                if fake.delay_seconds:
                    time.sleep(fake.delay_seconds)
                sid = fake._create(path.split("/")[3], form)
                if action == "hang":
                    time.sleep(fake.hang_seconds)
                return self._send(201, fake._find(sid))

            def do_GET(self):  # noqa: N802
                u = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(u.query).items()}
                if u.path.endswith("/Messages.json"):
                    with fake.lock:
                        rows = [m for m in reversed(fake.messages) if not q.get("To") or m["to"] == q["To"]]
                    size = int(q.get("PageSize", 50))
                    return self._send(
                        200,
                        {
                            "messages": rows[:size],
                            "page": 0,
                            "page_size": size,
                            "start": 0,
                            "end": max(0, min(size, len(rows)) - 1),
                            "uri": u.path,
                            "first_page_uri": u.path,
                            "next_page_uri": None,
                            "previous_page_uri": None,
                        },
                    )
                return self._send(404, {"code": 20404, "message": "not found", "status": 404})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def _next_action(self, to: str) -> str:
        with self.lock:
            if to in self.by_number:
                return self.by_number[to]
            if self.script:
                return self.script.popleft()
            r = self.rng.random()
            acc = 0.0
            for action, p in self.chaos.items():
                acc += p
                if r < acc:
                    return action
            return "ok"

    def _create(self, account: str, form: dict[str, str]) -> str:
        now = self.now()
        sid = "SM" + uuid.uuid4().hex
        msg = {
            "sid": sid,
            "account_sid": account,
            "to": form.get("To"),
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body", ""),
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "date_created": _rfc2822(now),
            "date_updated": _rfc2822(now),
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            "status_callback": form.get("StatusCallback"),
        }
        with self.lock:
            self.messages.append(msg)
        return sid

    def _find(self, sid: str) -> dict[str, Any]:
        with self.lock:
            return next(m for m in self.messages if m["sid"] == sid)

    # -- helpers for assertions and callbacks ---------------------------------------------------------
    def bodies_by_to(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        with self.lock:
            for m in self.messages:
                out.setdefault(m["to"], []).append(m["body"])
        return out

    @staticmethod
    def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
        return RequestValidator(auth_token).compute_signature(url, params)

    @staticmethod
    def status_params(
        sid: str, status: str, *, to: str = "", error_code: str | None = None, account: str = "ACtest"
    ) -> dict[str, str]:
        p = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": to,
            "AccountSid": account,
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            p["ErrorCode"] = error_code
        return p

    def post_status(
        self,
        client,
        public_base_url: str,
        auth_token: str,
        sid: str,
        status: str,
        path: str = "/api/v1/webhooks/twilio/status",
        **kw,
    ):
        """Post a signed status callback through a Starlette TestClient (or httpx.Client) to the app."""
        params = self.status_params(sid, status, **kw)
        sig = self.sign(auth_token, public_base_url.rstrip("/") + path, params)
        return client.post(path, data=params, headers={"X-Twilio-Signature": sig})
