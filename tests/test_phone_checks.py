"""Look-alike letters, service numbers and foreign numbers' zones, through both normalisation paths."""

from __future__ import annotations

import pytest

from dialer.core.errors import FieldRejected as PhoneRejected
from lists.phones import PhoneNormalizer, reference_normalize

KAZAKHSTAN = {"Asia/Almaty", "Asia/Aqtau", "Asia/Aqtobe", "Asia/Atyrau", "Asia/Oral", "Asia/Qostanay"}


def normalize(text: str) -> tuple[str, str, str]:
    fast = PhoneNormalizer("RU").normalize(text)
    assert reference_normalize(text, "RU") == fast  # the fast path agrees with libphonenumber's
    return fast.e164, fast.zones, fast.service


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("8 (916) 12О-45-67", "'О'"),  # Cyrillic O
        ("8 (916) 12O-45-67", "'O'"),  # Latin O
        ("8 916 l23 45 67", "'l'"),
        ("8 916 123 45 6З", "'З'"),
    ],
)
def test_a_look_alike_letter_gives_a_reason_that_says_so(text: str, letter: str) -> None:
    with pytest.raises(PhoneRejected, match=rf"the letter {letter} stands among the digits .*look-alike"):
        PhoneNormalizer("RU").normalize(text)


def test_words_around_a_number_are_not_taken_for_look_alikes() -> None:
    with pytest.raises(PhoneRejected, match="no digits"):
        PhoneNormalizer("RU").normalize("Иван Олегович")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("112", "short number 112: an emergency number"),
        ("900", "short number 900: a service number"),
        ("0911", "short number 0911: a service number"),
        ("8 (809) 505-00-00", "premium-rate number"),
    ],
)
def test_short_and_premium_rate_numbers_are_refused(text: str, reason: str) -> None:
    with pytest.raises(PhoneRejected, match=reason):
        PhoneNormalizer("RU").normalize(text)


def test_a_toll_free_number_is_kept_and_marked() -> None:
    assert normalize("8 800 555-35-35")[2] == "toll-free (8-800)"
    assert normalize("8 916 123-45-67")[2] == ""


@pytest.mark.parametrize("text", ["+375 29 123-45-67", "8 10 375 29 123 45 67"])
def test_a_belarus_number_gets_minsk_not_moscow(text: str) -> None:
    assert normalize(text)[:2] == ("+375291234567", "Europe/Minsk")


def test_a_kazakh_number_gets_kazakhstan_zones_not_russias() -> None:
    zones = set(normalize("+7 701 123 45 67")[1].split(","))
    assert zones and zones <= KAZAKHSTAN | {"Asia/Qyzylorda"}


def test_numbers_whose_zones_are_their_own_country_keep_them() -> None:
    assert normalize("+1 212 555 0100")[1] == "America/New_York"
    assert normalize("+380 44 123 4567")[1] == "Europe/Kyiv"
    assert normalize("8 (495) 123-45-67")[1] == "Europe/Moscow"
    assert len(normalize("8 916 123-45-67")[1].split(",")) == 16  # a Russian mobile: see lists.lead_zones
