"""Figures for a reader: Russian gets a decimal comma and no-break spaces, English stays as it was."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.core import i18n, numbers

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("value", "digits", "english", "russian"),
    [
        (12.5, 1, "12.5", "12,5"),
        (8.25, None, "8.25", "8,25"),
        (6.0, None, "6.0", "6,0"),  # the decimals the value shows are kept
        (12345.678, 1, "12345.7", f"12{NBSP}345,7"),
        (1234567, None, "1234567", f"1{NBSP}234{NBSP}567"),
        (-3.25, 2, "-3.25", "-3,25"),
        (Decimal("0.5"), None, "0.5", "0,5"),
        (1e-07, None, "0.0000001", "0,0000001"),  # never in scientific notation
    ],
)
def test_a_decimal_in_each_language(value: float, digits: int | None, english: str, russian: str) -> None:
    assert numbers.decimal(value, digits, "en") == english
    assert numbers.decimal(value, digits, "ru") == russian


@pytest.mark.parametrize(
    ("share", "digits", "english", "russian"),
    [
        (0.125, 1, "12.5%", f"12,5{NBSP}%"),
        (0.03, 2, "3.00%", f"3,00{NBSP}%"),
        (0.5, 0, "50%", f"50{NBSP}%"),
        (12.345, 1, "1234.5%", f"1{NBSP}234,5{NBSP}%"),
    ],
)
def test_a_percentage_in_each_language(share: float, digits: int, english: str, russian: str) -> None:
    assert numbers.percent(share, digits, "en") == english
    assert numbers.percent(share, digits, "ru") == russian


def test_integers_and_compact_figures() -> None:
    assert (numbers.integer(12345, "en"), numbers.integer(12345, "ru")) == ("12345", f"12{NBSP}345")
    assert (numbers.integer(999, "ru"), numbers.integer(-1000, "ru")) == ("999", f"-1{NBSP}000")
    assert [numbers.compact(v, "en") for v in (2.0, 1.5, 0.25)] == ["2", "1.5", "0.25"]
    assert [numbers.compact(v, "ru") for v in (2.0, 1.5, 0.25)] == ["2", "1,5", "0,25"]


def test_not_a_number_is_shown_as_it_is() -> None:
    assert numbers.decimal(float("nan"), 1, "ru") == "nan"
    assert numbers.percent(float("inf"), 1, "ru") == "inf"


def test_the_language_of_the_moment_is_the_default() -> None:
    assert numbers.percent(0.125) == "12.5%"
    token = i18n.use("ru")
    try:
        assert numbers.percent(0.125) == f"12,5{NBSP}%"
        assert numbers.decimal(2.5, 1) == "2,5"
    finally:
        i18n.restore(token)


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(min_value=0, max_value=4))
def test_english_is_what_python_always_printed_and_russian_the_same_digits(value: float, digits: int) -> None:
    english = numbers.decimal(value, digits, "en")
    assert english == f"{value:.{digits}f}"
    russian = numbers.decimal(value, digits, "ru")
    assert russian.replace(NBSP, "").replace(",", ".") == english
    share = value / 1e7
    assert numbers.percent(share, digits, "en") == f"{share:.{digits}%}"
