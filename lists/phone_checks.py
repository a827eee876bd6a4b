"""What a list's numbers are besides valid or not: look-alike letters, service numbers, foreign zones.

- A letter that looks like a digit (Cyrillic or Latin ``О`` for 0, ``З`` for 3,
  ``l`` or ``I`` for 1, ``б`` for 6) among a number's digits is a typing or OCR
  slip. The number is rejected, never guessed, with a reason that names the letter.
- Short numbers (``112``, ``900``) are service numbers, never a subscriber's;
  premium-rate numbers cost the caller money. Both are rejected. Toll-free,
  shared-cost and universal-access numbers (``8-800``) are kept but counted, so
  the import summary can say how many a list holds.
- libphonenumber gives a number the zones of its prefix, and a prefix shared by
  several countries can give a number another country's zones (a Belarus number
  gets ``Europe/Moscow``, a Kazakh one Russia's sixteen). A foreign number whose
  zones are not all in its own country gets its country's zones instead (the tz
  database's ``zone.tab``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

from dialer.core import reasons

LOOKALIKES = {
    "О": "0",
    "о": "0",
    "O": "0",
    "o": "0",
    "З": "3",
    "з": "3",
    "l": "1",
    "I": "1",
    "б": "6",
}
_IN_NUMBER = re.compile(
    rf"(?<=[\d\s().-])[{''.join(LOOKALIKES)}]+(?=[\d\s().-])|(?<=\d)[{''.join(LOOKALIKES)}]+$"
)
_SHORT = re.compile(r"^\d{2,6}$")
# Kept, but counted: the number reaches a business line, not a person's phone.
SERVICE_TYPES = {
    PhoneNumberType.TOLL_FREE: "toll-free (8-800)",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.UAN: "universal access",
}
PREMIUM_REASON = reasons.PREMIUM
_ZONE_TABLES = (Path("/usr/share/zoneinfo/zone.tab"),)


def lookalike_reason(text: str) -> str | None:
    """Why a number with a letter among its digits is refused; None when it has none."""
    match = _IN_NUMBER.search(text)
    if match is None:
        return None
    letters = match.group(0)
    digits = "".join(LOOKALIKES[ch] for ch in letters)
    return reasons.LOOKALIKE.format(letters=letters, digits=digits)


def short_number_reason(text: str, region: str) -> str | None:
    """Why a short number (2-6 digits) is refused; None for anything longer or with other characters."""
    digits = text.translate(str.maketrans("", "", " -()"))
    if not _SHORT.match(digits):
        return None
    if shortnumberinfo.is_emergency_number(digits, region):
        return reasons.EMERGENCY.format(digits=digits)
    return reasons.SERVICE.format(digits=digits)


@lru_cache(maxsize=4096)
def own_country_zones(region: str, zones: str) -> str:
    """The zones, or the country's own zones when some of them are in another country."""
    country = _country_zones().get(region)
    if not country or (zones and set(zones.split(",")) <= country):
        return zones
    return ",".join(sorted(country))


@lru_cache(maxsize=1)
def _country_zones() -> dict[str, frozenset[str]]:
    text = _zone_table()
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            found.setdefault(fields[0], set()).add(fields[2])
    return {code: frozenset(names) for code, names in found.items()}


def _zone_table() -> str:
    """The system's ``zone.tab``, where ``zoneinfo`` looks first, else the ``tzdata`` package's."""
    for path in _ZONE_TABLES:
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            continue
    try:
        return (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return ""


def region_of(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.region_code_for_number(number) or ""
