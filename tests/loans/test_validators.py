"""Edge validation of identifiers: the unified social credit code (GB 32100-2015) and phone numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from collections_svc.loans.schemas import BorrowerIn, ContactIn
from collections_svc.loans.validators import (
    USCC_ALPHABET,
    mask_phone,
    uscc_check_char,
    validate_phone,
    validate_uscc,
)

VALID = ["91350100M000100Y43", "91110000600037341L"]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_are_accepted(code):
    assert validate_uscc(code) == code


def test_lower_case_and_spaces_are_normalised():
    assert validate_uscc("  91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y44", "check character is 4 but should be 3"),
        ("91350100M000100Y4", "has 18 characters, this one has 17"),
        ("91350100M000100Y433", "this one has 19"),
        ("", "this one has 0"),
        ("91350100M000I00Y43", "not allowed in a unified social credit code: I"),
        ("91350100O00S100Y43", "not allowed in a unified social credit code: OS"),
    ],
)
def test_wrong_codes_are_rejected_with_a_clear_message(code, message):
    with pytest.raises(ValueError, match=message):
        validate_uscc(code)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_any_single_character_typo_is_caught(body):
    code = body + uscc_check_char(body)
    assert validate_uscc(code) == code
    for pos in (0, 8, 16):
        for c in USCC_ALPHABET[:5]:
            if c != code[pos]:
                with pytest.raises(ValueError):
                    validate_uscc(code[:pos] + c + code[pos + 1 :])
                break


def test_the_borrower_schema_rejects_a_bad_code_on_the_uscc_field():
    with pytest.raises(ValidationError) as exc:
        BorrowerIn(external_id="B1", name="测试有限公司", uscc="91350100M000100Y44")
    err = exc.value.errors()[0]
    assert err["loc"] == ("uscc",) and "check character" in err["msg"]


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("021-6234 5678", "+862162345678"),  # Shanghai landline
        ("+1 415 555 2671", "+14155552671"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, e164):
    assert validate_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "not a phone", "", "+86 138 0013 80001"])
def test_impossible_phone_numbers_are_rejected(raw):
    with pytest.raises(ValueError):
        validate_phone(raw)


def test_contact_schema_normalises_phone_and_treats_blank_as_missing():
    c = ContactIn(borrower_external_id="B1", role="finance", name="王芳", phone="13912345678")
    assert c.phone == "+8613912345678"
    assert ContactIn(borrower_external_id="B1", role="finance", name="王芳", phone="  ").phone is None


def test_masked_phone_keeps_only_prefix_and_last_four_digits():
    assert mask_phone("+8613812345678") == "+861******5678"
    assert mask_phone(None) == ""
