"""人民币大写: exact conversions and a round-trip property over random amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collections_svc.notices.amounts import DIGITS, money, rmb_upper


@pytest.mark.parametrize(
    "amount,upper",
    [
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        ("10000", "壹万元整"),
        ("100000010.05", "壹亿零壹拾元零伍分"),
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("1.50", "壹元伍角整"),
        ("10", "壹拾元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1001", "壹仟零壹元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("105000", "壹拾万零伍仟元整"),
        ("1000000", "壹佰万元整"),
        ("100000000", "壹亿元整"),
        ("100010000", "壹亿零壹万元整"),
        ("120000000000", "壹仟贰佰亿元整"),
        ("1000000000000", "壹万亿元整"),
        ("83625.00", "捌万叁仟陆佰贰拾伍元整"),
        ("-12.30", "负壹拾贰元叁角整"),
    ],
)
def test_known_amounts(amount, upper):
    assert rmb_upper(Decimal(amount)) == upper


@pytest.mark.parametrize("bad", ["1.234", "NaN", "Infinity", "10000000000000000"])
def test_rejects_sub_cent_and_absurd_amounts(bad):
    with pytest.raises(ValueError):
        rmb_upper(Decimal(bad))


SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def parse_upper(s: str) -> Decimal:
    """An independent reader of uppercase amounts, for the round-trip property."""
    neg = s.startswith("负")
    s = s.removeprefix("负").removesuffix("整")
    yuan_part, _, frac = s.partition("元") if "元" in s else ("", "", s)
    total = 0
    section = 0
    digit = 0
    i = 0
    while i < len(yuan_part):
        ch = yuan_part[i]
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch in SMALL:
            section += digit * SMALL[ch]
            digit = 0
        elif yuan_part.startswith("万亿", i):
            total += (section + digit) * 10**12
            section = digit = 0
            i += 1
        elif ch == "亿":
            total += (section + digit) * 10**8
            section = digit = 0
        elif ch == "万":
            total += (section + digit) * 10**4
            section = digit = 0
        i += 1
    total += section + digit
    fen = 0
    for j, ch in enumerate(frac):
        if ch == "角":
            fen += DIGITS.index(frac[j - 1]) * 10
        elif ch == "分":
            fen += DIGITS.index(frac[j - 1])
    value = Decimal(total) + Decimal(fen) / 100
    return -value if neg else value


@given(st.integers(min_value=0, max_value=10**16 - 1))
def test_round_trip(fen):
    amount = Decimal(fen) / 100
    text = rmb_upper(amount)
    assert parse_upper(text) == amount
    assert "零零" not in text and not text.startswith("零") or text == "零元整"


def test_babel_formats_per_locale():
    assert money(Decimal("1234.5"), "CNY", "zh_CN") == "¥1,234.50"
    assert money(Decimal("1234.5"), "CNY", "en") == "CN¥1,234.50"
