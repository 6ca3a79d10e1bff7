"""The channel seams (DESIGN.md rule 7): small protocols the dispatcher talks to.

Settings choose the implementation; tests inject a different one at this seam.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str  # the provider's status at acceptance (queued, accepted, sent...)


class SendError(Exception):
    """A provider refusal or a transport problem.

    ``retryable``: safe to try again later (429, 5xx, connection refused).
    ``unknown``: the request may have reached the provider (read timeout): reconcile before any retry.
    Otherwise permanent (21211 invalid number, 21614 not mobile, 21610 opted out, other 4xx).
    """

    def __init__(
        self, message: str, *, code: str | None = None, retryable: bool = False, unknown: bool = False
    ):
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.unknown = unknown


class SmsSender(Protocol):
    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult: ...

    def find_sent(self, to: str, body: str, since: dt.datetime, until: dt.datetime) -> list[str]:
        """SIDs of messages to ``to`` with this body created in [since, until] (for reconciliation)."""
        ...


class LetterRenderer(Protocol):
    def render_pdf(self, html: str) -> bytes: ...
