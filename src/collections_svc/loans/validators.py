"""Edge validation for identifiers of the loan book: USCC and phone numbers."""

from __future__ import annotations

import phonenumbers

# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V); the 18th is a check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Return the normalised code or raise ValueError with a message a bank clerk understands."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValueError(f"a unified social credit code has 18 characters, this one has {len(code)}")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise ValueError(f"contains characters not allowed in a unified social credit code: {''.join(bad)}")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValueError(f"check character is {code[17]} but should be {expected}; the code has a typo")
    return code


def validate_phone(value: str, default_region: str = "CN") -> str:
    """Parse and return E.164 (+8613812345678); reject numbers that cannot exist."""
    raw = (value or "").strip()
    try:
        num = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(num):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str | None) -> str:
    if not e164:
        return ""
    return e164[:4] + "*" * max(len(e164) - 8, 0) + e164[-4:]
