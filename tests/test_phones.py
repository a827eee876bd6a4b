"""Phone normalisation: the fast path follows libphonenumber's rules exactly."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.core.errors import FieldRejected as PhoneRejected
from dialer.core.errors import InvalidInput
from lists.phones import (
    Phone,
    PhoneNormalizer,
    check_region,
    normalize_phone,
    reference_normalize,
    repair_spreadsheet_value,
)

# Leading digits that exercise every rule: national prefix 8, country code 7, the 810
# international prefix, Kazakh 7xx, toll-free 8800, Moscow 495, mobiles 9xx.
PREFIXES = [
    "7",
    "8",
    "9",
    "810",
    "89",
    "79",
    "78",
    "77",
    "70",
    "3",
    "4",
    "495",
    "8800",
    "7800",
    "88",
    "80",
    "0",
]
SEPARATORS = ["", " ", "-", "(", ")", ".", "\u00a0"]


@st.composite
def raw_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(PREFIXES))
    length = draw(st.integers(min_value=6, max_value=15))
    rest = draw(st.text(alphabet="0123456789", min_size=max(0, length - len(prefix)), max_size=length))
    digits = (prefix + rest)[: max(length, len(prefix))]
    out = "+" if draw(st.booleans()) else ""
    for digit in digits:
        out += draw(st.sampled_from(SEPARATORS)) + digit
    return out


def outcome(normalize: object, raw: str) -> Phone | str:
    assert callable(normalize)
    try:
        result = normalize(raw)
        assert isinstance(result, Phone)
        return result
    except PhoneRejected:
        return "rejected"


@pytest.mark.parametrize("region", ["RU", "KZ"])
@settings(max_examples=3000, deadline=None)
@given(raw=raw_numbers())
def test_fast_path_agrees_with_phonenumbers(region: str, raw: str) -> None:
    fast = PhoneNormalizer(region)
    assert outcome(fast.normalize, raw) == outcome(lambda r: reference_normalize(r, region), raw)


@settings(max_examples=500, deadline=None)
@given(raw=raw_numbers(), region=st.sampled_from(["US", "DE", "GB", "UA"]))
def test_other_regions_agree_with_phonenumbers(raw: str, region: str) -> None:
    assert outcome(PhoneNormalizer(region).normalize, raw) == outcome(
        lambda r: reference_normalize(r, region), raw
    )


@settings(max_examples=300, deadline=None)
@given(national=st.from_regex(r"9[0-9]{9}", fullmatch=True))
def test_a_mobile_in_every_common_format_normalises_to_one_e164(national: str) -> None:
    number = phonenumbers.parse("+7" + national)
    expected = "+7" + national if phonenumbers.is_valid_number(number) else None
    formats = [
        f"+7 {national[:3]} {national[3:6]}-{national[6:8]}-{national[8:]}",
        f"8 ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}",
        national,
        "7" + national,
        f"7{national}.0",
    ]
    results = {outcome(PhoneNormalizer("RU").normalize, f) for f in formats}
    if expected is None:
        assert results == {"rejected"}
    else:
        assert {r.e164 for r in results if isinstance(r, Phone)} == {expected}
        assert "rejected" not in results


def test_russian_mobile_has_sixteen_candidate_zones() -> None:
    phone = PhoneNormalizer("RU").normalize("8 (916) 123-45-67")
    assert phone.e164 == "+79161234567"
    assert "Europe/Moscow" in phone.time_zones
    assert "Asia/Vladivostok" in phone.time_zones
    assert len(phone.time_zones) >= 16


def test_moscow_landline_has_one_zone() -> None:
    assert PhoneNormalizer("RU").normalize("(495) 123-45-67").time_zones == ("Europe/Moscow",)


@pytest.mark.parametrize("raw", ["7.91612E+10", "7.9E+10", "7,916E+10", "+7.91612345E+10"])
def test_scientific_notation_with_lost_digits_is_rejected(raw: str) -> None:
    with pytest.raises(PhoneRejected, match="digits were lost"):
        normalize_phone(raw)


def test_scientific_notation_that_kept_every_digit_is_read() -> None:
    assert repair_spreadsheet_value("7.9161234567E+10") == "79161234567"
    assert normalize_phone("7.9161234567E+10") == "+79161234567"


def test_spreadsheet_float_suffix_is_dropped() -> None:
    assert normalize_phone("79161234567.0") == "+79161234567"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "123", "8 (916) 123-45", "+7 916 123 45 67 89 00"])
def test_non_numbers_are_rejected_with_a_reason(raw: str) -> None:
    with pytest.raises(PhoneRejected) as info:
        normalize_phone(raw)
    assert str(info.value)


def test_foreign_number_with_plus_keeps_its_country() -> None:
    assert normalize_phone("+44 20 7946 0018") == "+442079460018"


def test_unknown_region_is_a_user_error() -> None:
    with pytest.raises(InvalidInput, match="unknown region"):
        check_region("XX")
