"""The console/file channel: the default without Twilio credentials, so the demo runs offline.

Each message is one JSON line in ``settings.notices.console_outbox`` (and a log line), showing
exactly what would have been sent.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from pathlib import Path

from collections_svc.notices.channels.base import SendResult

log = logging.getLogger("collections_svc.notices.console")
_lock = threading.Lock()


class ConsoleSender:
    def __init__(self, path: str | Path, now=None):
        self.path = Path(path)
        self.now = now or (lambda: dt.datetime.now(dt.UTC))

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        sid = "CON" + uuid.uuid4().hex
        line = {"sid": sid, "to": to, "body": body, "at": self.now().isoformat()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock, self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        log.info("SMS (console) to %s: %s", to, body)
        return SendResult(sid=sid, status="sent")

    def find_sent(self, to: str, body: str, since: dt.datetime, until: dt.datetime) -> list[str]:
        if not self.path.exists():
            return []
        out = []
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            at = dt.datetime.fromisoformat(rec["at"])
            if rec["to"] == to and rec["body"] == body and since <= at <= until:
                out.append(rec["sid"])
        return out
