"""`collections-svc sweep --as-of DATE [--dry-run] [--partition K/N]` as an operator uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from collections_svc import cli
from collections_svc.config import get_settings
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.migrate import upgrade
from tests.factories import make_loan


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(url)
    monkeypatch.setenv("COLLECTIONS_DATABASE__URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        make_loan(s, schedule=[("2026-03-01", "100000.00", "500.00"),
                               ("2026-09-01", "100000.00", "500.00")])
        s.commit()
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def flat(output: str) -> str:
    return " ".join(output.split())   # rich wraps long lines


def _cases(engine) -> int:
    with engine.connect() as c:
        return c.execute(text("SELECT COUNT(*) FROM collection_case")).scalar_one()


def test_dry_run_then_run_then_rerun(cli_db):
    runner = CliRunner()
    r = runner.invoke(cli.app, ["sweep", "--as-of", "2026-03-20", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "would change: 1 opened, 1 escalated" in flat(r.output) and "nothing was written" in flat(r.output)
    assert "demand_letter" in r.output     # the preview lists the escalation and the rule behind it
    assert _cases(cli_db) == 0
    r = runner.invoke(cli.app, ["sweep", "--as-of", "2026-03-20"])
    assert r.exit_code == 0, r.output
    assert "changed: 1 opened, 1 escalated" in flat(r.output)
    assert _cases(cli_db) == 1
    r = runner.invoke(cli.app, ["sweep", "--as-of", "2026-03-20"])
    assert r.exit_code == 0 and "already ran" in flat(r.output) and "nothing was changed" in flat(r.output)


def test_partition_and_bad_partition(cli_db):
    runner = CliRunner()
    r = runner.invoke(cli.app, ["sweep", "--as-of", "2026-03-20", "--partition", "1/2", "--json"])
    assert r.exit_code == 0, r.output
    assert '"partition": "1/2"' in r.output
    r = runner.invoke(cli.app, ["sweep", "--as-of", "2026-03-20", "--partition", "5/2"])
    assert r.exit_code == 2 and "out of range" in flat(r.output)
