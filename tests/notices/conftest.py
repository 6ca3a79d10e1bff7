"""Fixtures for notices: a case with overdue installments, notice settings in a temp dir, the fake Twilio."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy.orm import Session

from collections_svc.cases.models import Case
from collections_svc.common.clock import FixedClock
from collections_svc.config import Settings
from collections_svc.loans.models import Borrower, Contact, ContactRole
from tests.factories import make_loan
from tests.fakes.twilio_fake import FakeTwilio

AUTH_TOKEN = "test-auth-token"
PUBLIC = "https://collections.example.com"
_phones = itertools.count(1000)

SCHEDULE = [
    ("2026-02-15", "80000.00", "3625.00"),
    ("2026-03-15", "80000.00", "3625.00"),
    ("2026-06-15", "840000.00", "3625.00"),
]


def make_case(
    session: Session,
    *,
    phone: str | None = None,
    tz: str | None = None,
    role: ContactRole = ContactRole.legal_representative,
) -> Case:
    loan = make_loan(session, schedule=SCHEDULE)
    borrower = session.get(Borrower, loan.borrower_id)
    c = borrower.contacts[0]
    c.phone = phone or f"+86139{next(_phones):08d}"
    c.timezone = tz
    c.role = role
    case = Case(
        loan_id=loan.id,
        borrower_id=borrower.id,
        opened_on=dt.date(2026, 2, 16),
        stage_entered_on=dt.date(2026, 2, 16),
    )
    session.add(case)
    session.flush()
    return case


def contact_of(session: Session, case: Case) -> Contact:
    return session.get(Borrower, case.borrower_id).contacts[0]


def notice_settings(db_url: str, tmp_path, **twilio) -> Settings:
    return Settings(
        env="test",
        database={"url": db_url},
        public_base_url=PUBLIC,
        twilio={"auth_token": AUTH_TOKEN, **twilio},
        notices={
            "letters_dir": str(tmp_path / "letters"),
            "console_outbox": str(tmp_path / "outbox.log"),
            "http_timeout_seconds": 1.0,
            "lease_seconds": 5.0,
            "backoff_base_seconds": 1.0,
            "backoff_max_seconds": 60.0,
        },
    )


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return notice_settings(db_url, tmp_path)


@pytest.fixture
def fake_twilio(wed_10am):
    fake = FakeTwilio(hang_seconds=2.0, now=wed_10am.now)
    url = fake.start()
    fake.url = url
    yield fake
    fake.stop()


@pytest.fixture
def twilio_settings(db_url, tmp_path, fake_twilio) -> Settings:
    return notice_settings(
        db_url, tmp_path, account_sid="ACtest", from_number="+15005550006", api_base_url=fake_twilio.url
    )


@pytest.fixture
def wed_10am() -> FixedClock:
    # Wednesday 2026-04-01 10:00 Asia/Shanghai.
    return FixedClock(dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC))
