from __future__ import annotations

import pytest

from tests.sweep import standins

standins.install()


@pytest.fixture(autouse=True)
def _clear_holds():
    standins.HELD.clear()
    yield
    standins.HELD.clear()
