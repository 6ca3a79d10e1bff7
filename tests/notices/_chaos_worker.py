"""A dispatcher process for the chaos test: real SystemClock, real twilio client, and (optionally) a
SIGKILL of itself right after Twilio accepted a message and before the SID is recorded."""

from __future__ import annotations

import json
import os
import random
import signal
import sys

from collections_svc.config import Settings
from collections_svc.notices.worker import run


def main() -> None:
    settings = Settings(**json.loads(sys.argv[1]))
    p_kill = float(sys.argv[2])
    rng = random.Random(os.getpid())

    def crash(point: str, notice_id: int) -> None:
        if point == "after_send" and rng.random() < p_kill:
            os.kill(os.getpid(), signal.SIGKILL)

    run(settings, limit=3, interval=0.05, idle_exit=False, crash_at=crash)


if __name__ == "__main__":
    main()
