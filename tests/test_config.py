"""Settings: environment variables, refusal of placeholder secrets in production, bucket validation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from collections_svc.config import PLACEHOLDER_SECRET, Bucket, DpdSettings, PaymentSettings, Settings

GOOD_SECRET = "s" * 40


def test_defaults_are_an_embedded_sqlite_book_in_shanghai_cny(monkeypatch):
    for var in ("COLLECTIONS_DATABASE__URL", "COLLECTIONS_ENV"):
        monkeypatch.delenv(var, raising=False)
    s = Settings(_env_file=None)
    assert s.database.url.startswith("sqlite:///./var/")
    assert (s.bank.timezone, s.bank.currency, s.env) == ("Asia/Shanghai", "CNY", "development")
    assert [b.label for b in s.dpd.buckets] == ["current", "1-30", "31-60", "61-90", "91-180", "181+"]
    assert s.dpd.materiality_absolute == Decimal(0)


def test_nested_settings_come_from_prefixed_environment_variables(monkeypatch):
    monkeypatch.setenv("COLLECTIONS_DATABASE__URL", "postgresql://u@db/collections")
    monkeypatch.setenv("COLLECTIONS_DPD__MATERIALITY_ABSOLUTE", "100.00")
    monkeypatch.setenv("COLLECTIONS_BANK__TIMEZONE", "Asia/Hong_Kong")
    s = Settings(_env_file=None)
    assert s.database.url == "postgresql://u@db/collections"
    assert s.dpd.materiality_absolute == Decimal("100.00")
    assert s.bank.timezone == "Asia/Hong_Kong"


def test_production_refuses_the_placeholder_secret_with_a_clear_message():
    with pytest.raises(ValidationError, match="COLLECTIONS_SECURITY__SECRET_KEY is a placeholder"):
        Settings(_env_file=None, env="production")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(_env_file=None, env="production", security={"secret_key": PLACEHOLDER_SECRET})
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(_env_file=None, env="production", security={"secret_key": "short-but-real"})
    assert (
        Settings(_env_file=None, env="production", security={"secret_key": GOOD_SECRET}).env == "production"
    )


def test_development_and_test_accept_the_placeholder():
    assert (
        Settings(_env_file=None, env="development").security.secret_key.get_secret_value()
        == PLACEHOLDER_SECRET
    )
    assert Settings(_env_file=None, env="test").env == "test"


def test_production_from_the_environment_refuses_to_build_the_app(monkeypatch):
    monkeypatch.setenv("COLLECTIONS_ENV", "production")
    monkeypatch.delenv("COLLECTIONS_SECURITY__SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="set a real secret in production"):
        Settings(_env_file=None)


def _b(code, lo, hi):
    return Bucket(code=code, label=code, min_dpd=lo, max_dpd=hi)


def test_custom_contiguous_buckets_are_accepted():
    s = DpdSettings(buckets=[_b("C", 0, 0), _b("A", 1, 89), _b("NPL", 90, None)])
    assert [b.code for b in s.buckets] == ["C", "A", "NPL"]


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ([_b("C", 0, 0), _b("A", 2, 30), _b("B", 31, None)], "C and A are not contiguous"),
        ([_b("C", 0, 10), _b("A", 5, 30), _b("B", 31, None)], "C and A are not contiguous"),
        ([_b("C", 1, 30), _b("B", 31, None)], "must start at DPD 0"),
        ([_b("C", 0, 0), _b("A", 1, 30)], "last bucket must be open-ended"),
        ([_b("C", 0, None), _b("A", 1, None)], "not contiguous"),
        ([], "must start at DPD 0"),
    ],
)
def test_gaps_overlaps_and_open_middles_are_refused(buckets, message):
    with pytest.raises(ValidationError, match=message):
        DpdSettings(buckets=buckets)


def test_buckets_from_the_environment_are_validated(monkeypatch):
    monkeypatch.setenv(
        "COLLECTIONS_DPD__BUCKETS",
        '[{"code":"C","label":"c","min_dpd":0,"max_dpd":0},'
        '{"code":"X","label":"x","min_dpd":5,"max_dpd":null}]',
    )
    with pytest.raises(ValidationError, match="not contiguous"):
        Settings(_env_file=None)


def test_allocation_order_must_name_each_component_once():
    assert (
        PaymentSettings(allocation_order=["interest", "penalty", "principal"]).allocation_order[0]
        == "interest"
    )
    with pytest.raises(ValidationError, match="once each"):
        PaymentSettings(allocation_order=["interest", "interest", "principal"])
