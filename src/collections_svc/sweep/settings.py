"""Settings groups for strategies, the close-of-business sweep and the scheduler process.

Kept apart from ``config.py`` (which only nests them) so the sweep's knobs live with the sweep.
Environment examples: ``COLLECTIONS_SWEEP__BATCH_SIZE=1000``, ``COLLECTIONS_SCHEDULER__SWEEP_HOUR=2``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class StrategySettings(BaseModel):
    # Shipped YAML file (inside the package) used when no version was activated through the API.
    default_file: str = "default_ladder.yaml"


class SweepSettings(BaseModel):
    # Loans or cases handled per batch (open, cure, evaluate); bounds memory on a big book.
    batch_size: int = Field(500, ge=1, le=50_000)
    # Skip Saturdays and Sundays when listing business dates for catch-up.
    skip_weekends: bool = False
    # ISO country code of public holidays to skip (python-holidays), e.g. "CN"; None = none.
    holidays_country: str | None = None
    # A catch-up never runs more dates than this in one go (protects against a wrong clock).
    max_catch_up_days: int = Field(62, ge=1)
    # Dry runs return at most this many detailed items per list (counts are always complete).
    preview_limit: int = Field(1000, ge=0)


class SchedulerSettings(BaseModel):
    # The sweep job: a cron in the bank's timezone; it runs the business date that just closed.
    sweep_hour: int = Field(1, ge=0, le=23)
    sweep_minute: int = Field(0, ge=0, le=59)
    # A late start (process down at 01:00) still runs the day's sweep once within this window.
    sweep_misfire_grace_hours: int = Field(12, ge=1)
    notice_dispatch_seconds: int = Field(60, ge=1)
    promise_check_minutes: int = Field(60, ge=1)
    review_check_hour: int = Field(6, ge=0, le=23)
    # Leader election: how often a standby retries the lock and the leader re-checks it holds it.
    leader_poll_seconds: float = Field(5.0, gt=0)
    # Advisory lock key on PostgreSQL (any 64-bit integer agreed by all scheduler processes).
    advisory_lock_key: int = 7_316_442_905
    # Lock file on SQLite; empty = next to the database file.
    lock_file: str = ""
    # Run a catch-up of missed sweeps as soon as this process becomes the leader.
    catch_up_on_start: bool = True
    # The leader also looks for closed, unswept dates every this many seconds (0 = only at start and at
    # the nightly cron). The run ledger makes each look a no-op once the date is swept.
    catch_up_every_seconds: float = Field(0, ge=0)
