"""`collections-svc check-config` against a real SQLite file, migrated or not."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from collections_svc.cli import app
from collections_svc.config import get_settings

REAL_SECRET = "x" * 40


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Environment pointing at a fresh SQLite file; returns a function running check-config."""
    monkeypatch.setenv("COLLECTIONS_DATABASE__URL", f"sqlite:///{tmp_path / 'ops.db'}")
    monkeypatch.setenv("COLLECTIONS_ENV", "test")
    for var in ("ACCOUNT_SID", "AUTH_TOKEN", "FROM_NUMBER", "MESSAGING_SERVICE_SID"):
        monkeypatch.delenv(f"COLLECTIONS_TWILIO__{var}", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        get_settings.cache_clear()
        return runner.invoke(app, list(args))
    yield run
    get_settings.cache_clear()


def _line(output: str, name: str) -> str:
    found = [ln for ln in output.splitlines() if f" {name}: " in ln]
    assert found, f"no line for {name} in:\n{output}"
    return found[0]


def test_migrated_database_passes_every_check(env):
    assert env("migrate").exit_code == 0
    r = env("check-config")
    assert r.exit_code == 0, r.output
    for name in ("database", "migrations", "twilio", "public_base_url", "secrets", "templates", "strategy"):
        assert _line(r.output, name).startswith("OK")
    assert "All checks passed." in r.output


def test_unmigrated_database_is_a_problem_with_the_fix_named(env):
    r = env("check-config")
    assert r.exit_code == 1, r.output
    assert _line(r.output, "database").startswith("OK")
    line = _line(r.output, "migrations")
    assert line.startswith("PROBLEM") and "collections-svc migrate" in line
    assert _line(r.output, "templates").startswith("OK")  # the other checks still run


def test_unreachable_database(env, monkeypatch):
    monkeypatch.setenv("COLLECTIONS_DATABASE__URL", "postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none")
    r = env("check-config")
    assert r.exit_code == 1
    line = _line(r.output, "database")
    assert line.startswith("PROBLEM") and "Cannot reach the database" in line
    assert "secretpw" not in r.output  # the password is never printed


def test_partial_twilio_config_names_what_is_missing(env, monkeypatch):
    assert env("migrate").exit_code == 0
    monkeypatch.setenv("COLLECTIONS_TWILIO__ACCOUNT_SID", "AC123")
    r = env("check-config")
    assert r.exit_code == 1
    line = _line(r.output, "twilio")
    assert line.startswith("PROBLEM")
    assert "COLLECTIONS_TWILIO__AUTH_TOKEN" in line and "FROM_NUMBER" in line
    monkeypatch.setenv("COLLECTIONS_TWILIO__AUTH_TOKEN", "tok")
    monkeypatch.setenv("COLLECTIONS_TWILIO__FROM_NUMBER", "+15005550006")
    r = env("check-config")
    assert r.exit_code == 0, r.output
    assert "complete" in _line(r.output, "twilio")


def test_public_base_url_must_be_absolute(env, monkeypatch):
    assert env("migrate").exit_code == 0
    monkeypatch.setenv("COLLECTIONS_PUBLIC_BASE_URL", "collections.bank.local")
    r = env("check-config")
    assert r.exit_code == 1
    assert _line(r.output, "public_base_url").startswith("PROBLEM")


def test_production_refuses_placeholder_secret_and_plain_http(env, monkeypatch):
    assert env("migrate").exit_code == 0
    monkeypatch.setenv("COLLECTIONS_ENV", "production")
    r = env("check-config")
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    line = _line(r.output, "settings")
    assert line.startswith("PROBLEM") and "SECRET_KEY" in line and "placeholder" in line
    monkeypatch.setenv("COLLECTIONS_SECURITY__SECRET_KEY", REAL_SECRET)
    r = env("check-config")
    assert r.exit_code == 1
    assert "https" in _line(r.output, "public_base_url")
    monkeypatch.setenv("COLLECTIONS_PUBLIC_BASE_URL", "https://collections.bank.example")
    r = env("check-config")
    assert r.exit_code == 0, r.output
    assert REAL_SECRET not in r.output
