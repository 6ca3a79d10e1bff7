"""The collector/supervisor web UI: static files served by the app, a client of the JSON API.

The UI is plain HTML, CSS and JavaScript modules (no build step, no CDN). Every response of the UI
mount carries a strict Content-Security-Policy: scripts and styles only from our own origin, no
inline code, no framing. The API under /api/v1 is unaffected (it is routed before this mount).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'; object-src 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecureStatic:
    """Wraps an ASGI app (our StaticFiles) and adds the CSP and friends to every HTTP response.

    HTML is revalidated on every load (``no-cache``) so a deploy is picked up at once; other assets
    may be cached briefly and are revalidated by ETag.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.extend(SECURITY_HEADERS)
                ctype = dict(message.get("headers", [])).get(b"content-type", b"")
                cache = b"no-cache" if ctype.startswith(b"text/html") else b"max-age=60, must-revalidate"
                headers.append((b"cache-control", cache))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount_ui(app: FastAPI, directory: Path) -> None:
    app.mount("/", SecureStatic(StaticFiles(directory=directory, html=True)), name="ui")
