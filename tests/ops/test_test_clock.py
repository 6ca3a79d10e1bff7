"""The test-only clock file used by the multi-process simulation: refused outside env=test."""

from __future__ import annotations

import datetime as dt

import pytest

from collections_svc.common.clock import FileClock, SystemClock, clock_for
from collections_svc.config import Settings


@pytest.mark.parametrize("env", ["production", "development"])
def test_clock_file_is_refused_outside_tests(env, tmp_path):
    with pytest.raises(ValueError, match="tests only"):
        Settings(env=env, test_clock_file=str(tmp_path / "clock.txt"), security={"secret_key": "k" * 40})


def test_clock_file_moves_every_reader_and_is_off_by_default(tmp_path):
    assert isinstance(clock_for(Settings(env="test")), SystemClock)
    f = tmp_path / "clock.txt"
    f.write_text("2026-03-30T10:00:00+08:00")
    clock = clock_for(Settings(env="test", test_clock_file=str(f)))
    assert isinstance(clock, FileClock)
    assert clock.now() == dt.datetime(2026, 3, 30, 2, 0, tzinfo=dt.UTC)
    f.write_text("2026-03-31T10:00:00+08:00")
    assert clock.now() == dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)
