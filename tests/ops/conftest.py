"""Fixtures shared with the notices tests (the fake Twilio and its settings)."""

from tests.notices.conftest import fake_twilio, twilio_settings, wed_10am  # noqa: F401 - fixtures
