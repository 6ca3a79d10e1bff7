"""A small simulated week with real processes on one PostgreSQL database (bench/simulate_week.py has the
full description and a bigger run): 2 API processes, 2 schedulers, 3 dispatchers, collectors and
payments through the API; the active scheduler and one dispatcher are SIGKILLed midway. Exactly one
sweep per date, every notice sent exactly once (the fake Twilio's log), no lost update, case invariants."""

from __future__ import annotations

import pytest
from bench.simulate_week import Params, check, simulate

from tests.conftest import BACKENDS, create_database
from tests.fakes.twilio_fake import FakeTwilio

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only,
              pytest.mark.skipif("postgresql" not in BACKENDS, reason="several machines share PostgreSQL")]


def test_a_week_with_two_apis_two_schedulers_three_dispatchers_and_kills(tmp_path_factory, tmp_path):
    url, drop = create_database("postgresql", tmp_path_factory)
    fake = FakeTwilio(seed=5)
    fake.base_url = fake.start()
    try:
        report = simulate(Params(), tmp_path, fake, url)
        figures = check(url, report, fake)
        print(report, figures)
        assert report["killed"][1] == "dispatch0" and report["took_over"], report
        assert report["contacts_ok"] > 0 and report["payments_ok"] > 0
        assert figures["sms_sent"] > 0, "the week sent no SMS: the witness saw nothing"
        assert figures["sweeps"] >= Params().days
        # the survivors stopped cleanly on SIGTERM (uvicorn re-raises the signal after draining)
        assert all(code in (0, -15) for code in report["exit_codes"].values()), report["exit_codes"]
    finally:
        fake.stop()
        drop()
