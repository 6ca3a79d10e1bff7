"""Money on notices: babel formatting per locale and Chinese uppercase amounts (人民币大写).

The uppercase converter works on exact Decimals (integer fen), never floats. Conventions followed
(as on bank vouchers): 元整 when there are no jiao/fen; a single 零 for any run of zeros inside the
integer part; 零 between 元 and 分 when jiao is zero; 壹拾 (never bare 拾) at the front.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
SECTION_UNITS = ("", "万", "亿", "万亿")
LIMIT = Decimal(10) ** 16
CENT = Decimal("0.01")


def _to_fen(amount: Decimal | int | str) -> int:
    d = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    if not d.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    q = d.quantize(CENT)
    if q != d:
        raise ValueError(f"amount {amount} has more than two decimal places")
    return int(q * 100)


def _integer_upper(n: int) -> str:
    digits = str(n)
    width = len(digits)
    out: list[str] = []
    pending_zero = False
    section_has_digit = False
    for i, ch in enumerate(digits):
        pos = width - 1 - i  # power of ten of this digit
        d = int(ch)
        if d == 0:
            if out:
                pending_zero = True
        else:
            if pending_zero:
                out.append("零")
                pending_zero = False
            out.append(DIGITS[d] + SMALL_UNITS[pos % 4])
            section_has_digit = True
        if pos % 4 == 0:
            if section_has_digit:
                out.append(SECTION_UNITS[pos // 4])
            section_has_digit = False
    return "".join(out)


def rmb_upper(amount: Decimal | int | str) -> str:
    """1234.56 -> 壹仟贰佰叁拾肆元伍角陆分; 10000 -> 壹万元整; 100000010.05 -> 壹亿零壹拾元零伍分."""
    fen = _to_fen(amount)
    if abs(fen) >= LIMIT * 100:
        raise ValueError(f"amount {amount} is too large for an uppercase amount")
    if fen < 0:
        return "负" + rmb_upper(Decimal(-fen) / 100)
    yuan, rest = divmod(fen, 100)
    jiao, f = divmod(rest, 10)
    if fen == 0:
        return "零元整"
    parts = []
    if yuan:
        parts.append(_integer_upper(yuan) + "元")
    if jiao == 0 and f == 0:
        return "".join(parts) + "整"
    if jiao:
        parts.append(DIGITS[jiao] + "角")
    elif yuan:
        parts.append("零")
    if f:
        parts.append(DIGITS[f] + "分")
    else:
        parts.append("整")
    return "".join(parts)


def money(amount: Decimal, currency: str = "CNY", locale: str = "zh_CN") -> str:
    """Locale-aware currency display, e.g. ¥1,234.56 (zh_CN) or CN¥1,234.56 (en)."""
    return format_currency(amount, currency, locale=locale)


def number(amount: Decimal, locale: str = "zh_CN") -> str:
    return format_decimal(amount, format="#,##0.00", locale=locale)
