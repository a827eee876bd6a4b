"""The region check every setting and list shares: a country libphonenumber knows."""

from __future__ import annotations

import phonenumbers

from dialer.core.errors import InvalidInput


def check_region(region: str) -> str:
    """The upper-cased region code, or ``InvalidInput`` if libphonenumber does not know it."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"unknown region {region!r}: use a two-letter country code such as RU")
    return code
