"""Phone numbers: normalisation to E.164 and candidate time zones.

The rules are libphonenumber's (the ``phonenumbers`` package). Calling it costs
30-50 µs a number, too slow for million-row lists, so ``PhoneNormalizer`` has a
fast path for the shapes that fill real lists (``+7 916 123-45-67``,
``8 (916) 123-45-67``, ``9161234567``, ``79161234567``) and hands anything else
to ``phonenumbers.parse``. The fast path decides nothing by itself:

* how many leading digits a shape drops (national prefix, country code) is
  learnt from ``phonenumbers.parse`` on the first number of that shape and
  reused; for country code 7 (RU, KZ) every rule behind that decision — the
  international prefix, the country code, national prefix ``8`` and the general
  patterns ``8\\d{13}|[347-9]\\d{9}`` / ``8\\d{13}|[78]\\d{9}`` — looks at the
  length and the first three digits only, so a shape is (plus sign, length,
  first four digits);
* validity and number type replay ``phonenumbers``' own metadata patterns in
  the library's order;
* time zones replay the library's prefix lookup, cached by prefix.

``tests/test_phones.py`` compares the fast path with ``phonenumbers`` on
generated input.

Spreadsheet damage is handled before either path: ``79161234567.0`` loses its
``.0``; scientific notation is accepted only when the mantissa still carries
every digit, otherwise it is rejected, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers.phonenumberutil import is_number_type_geographical
from phonenumbers.timezone import time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from campaigns.region import check_region as check_region
from dialer.core import reasons
from dialer.core.errors import FieldRejected, InvalidInput
from dialer.core.i18n import _
from lists.phone_checks import (
    PREMIUM_REASON,
    SERVICE_TYPES,
    lookalike_reason,
    own_country_zones,
    region_of,
    short_number_reason,
)

DEFAULT_REGION = "RU"
UNKNOWN_ZONE = "Etc/Unknown"

# Separators people and spreadsheets put inside numbers; anything else goes the slow way.
_SEPARATORS = str.maketrans("", "", " -().\t\u00a0")
# Between numbers in one cell ("8 (903) 100-20-34; 8 (495) 200-30-44").
_CELL_SEPARATORS = re.compile(r"[;,/\r\n]+")
_DECIMAL_COMMA = re.compile(r"\+?\d+,0+|\+?\d,\d+[eE]\+?\d{1,2}")
_FLOAT_ARTEFACT = re.compile(r"(\+?\d+)\.0+")
_SCIENTIFIC = re.compile(r"\+?(\d)(?:[.,](\d+))?[eE]\+?(\d{1,2})")
# Country codes whose parse decision depends on the length and first digits only (see above).
_FAST_COUNTRY_CODES = frozenset({7})
_FAST_LENGTHS = range(10, 13)
_SHAPE_DIGITS = 4
_SLOW = -1

_TYPE_ORDER = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)


class Phone(NamedTuple):
    e164: str
    zones: str  # candidate IANA zones, comma-separated (the form the store keeps)
    service: str = ""  # a kept service-number kind (lists.phone_checks.SERVICE_TYPES), else ""

    @property
    def time_zones(self) -> tuple[str, ...]:
        return tuple(self.zones.split(",")) if self.zones else ()


def split_numbers(raw: str) -> list[str]:
    """A cell's numbers: people write several into one, separated by ``;``, ``,``, ``/`` or a line break.

    A cell with none of these is one number, as it was (the common case stays one test), and
    so is a spreadsheet's number written with a decimal comma (``7,9161234567E+10``,
    ``79161234567,0``), which ``repair_spreadsheet_value`` then mends or refuses.
    Empty parts (``a;;b``, a trailing ``;``) are dropped.
    """
    text = str(raw)
    if _CELL_SEPARATORS.search(text) is None or _DECIMAL_COMMA.fullmatch(text.strip()):
        return [text]
    parts = [part.strip() for part in _CELL_SEPARATORS.split(text)]
    return [part for part in parts if part] or [text]


def repair_spreadsheet_value(raw: str) -> str:
    """Undo what spreadsheets do to long numbers, or reject what cannot be undone."""
    text = raw.strip()
    if "." not in text and "e" not in text and "E" not in text:
        return text
    match = _FLOAT_ARTEFACT.fullmatch(text)
    if match:
        return match.group(1)
    match = _SCIENTIFIC.fullmatch(text)
    if match:
        lead, fraction, exponent = match.group(1), match.group(2) or "", int(match.group(3))
        if len(fraction) != exponent:
            raise FieldRejected(reasons.SCIENTIFIC.format(text=repr(text)))
        return ("+" if text.startswith("+") else "") + lead + fraction
    return text


def reference_normalize(raw: str, region: str = DEFAULT_REGION) -> Phone:
    """Normalise with ``phonenumbers`` alone (after spreadsheet repair): what the fast path must match."""
    text = repair_spreadsheet_value(raw)
    if not text:
        raise FieldRejected(reasons.NO_PHONE)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        why = reasons.NOT_A_NUMBER.format(why=_parse_error(exc))
        raise FieldRejected(_why_not(text, region, why)) from None
    if not phonenumbers.is_valid_number(number):
        raise FieldRejected(_why_not(text, region, reasons.NOT_VALID))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    zones = _zones_text(time_zones_for_number(number))
    number_region = region_of(number)
    return _checked(e164, zones, phonenumbers.number_type(number), number_region)


def _why_not(text: str, region: str, reason: str) -> str:
    """A look-alike letter or a short number explains a refusal better than the parser's reason."""
    return lookalike_reason(text) or short_number_reason(text, region) or reason


def _checked(e164: str, zones: str, number_type: int, region: str) -> Phone:
    if number_type == PhoneNumberType.PREMIUM_RATE:
        raise FieldRejected(PREMIUM_REASON)
    if region and region != DEFAULT_REGION:
        zones = own_country_zones(region, zones)
    return Phone(e164, zones, SERVICE_TYPES.get(number_type, ""))


class PhoneNormalizer:
    """Normalises many numbers for one default region, caching what numbers share."""

    def __init__(self, region: str = DEFAULT_REGION) -> None:
        self.region = check_region(region)
        metadata = _metadata(self.region)
        self._country_code = int(metadata.country_code or 0)
        self._cc_text = str(self._country_code)
        self._fast = self._country_code in _FAST_COUNTRY_CODES
        self._idd = re.compile(metadata.international_prefix) if metadata.international_prefix else None
        self._shapes: dict[tuple[bool, int, str], int] = {}
        self._geographic: dict[int, bool] = {}
        self._matchers = [
            _RegionMatcher(r) for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[self._country_code]
        ]

    def normalize(self, raw: str) -> Phone:
        text = repair_spreadsheet_value(raw)
        if self._fast:
            cleaned = text.translate(_SEPARATORS)
            plus = cleaned.startswith("+")
            digits = cleaned[1:] if plus else cleaned
            if len(digits) in _FAST_LENGTHS and digits.isascii() and digits.isdigit():
                drop = self._drop(text, plus, digits)
                if drop != _SLOW:
                    return self._fast_result(digits[drop:])
        return reference_normalize(text, self.region)

    def _drop(self, text: str, plus: bool, digits: str) -> int:
        key = (plus, len(digits), digits[:_SHAPE_DIGITS])
        drop = self._shapes.get(key)
        if drop is None:
            drop = self._learn_shape(text, plus, digits)
            self._shapes[key] = drop
        return drop

    def _learn_shape(self, text: str, plus: bool, digits: str) -> int:
        if plus and not digits.startswith(self._cc_text):
            return _SLOW
        if not plus and self._idd is not None and self._idd.match(digits):
            return _SLOW  # the international prefix: the country code follows beyond the shape
        try:
            number = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException:
            return _SLOW
        nsn = phonenumbers.national_significant_number(number)
        if number.country_code != self._country_code or not digits.endswith(nsn) or not nsn:
            return _SLOW
        return len(digits) - len(nsn)

    def _fast_result(self, nsn: str) -> Phone:
        number_type = PhoneNumberType.UNKNOWN
        region = ""
        for matcher in self._matchers:
            if matcher.claims(nsn):
                number_type, region = matcher.number_type(nsn), matcher.region
                break
        if number_type == PhoneNumberType.UNKNOWN:
            raise FieldRejected(reasons.NOT_VALID)
        e164 = f"+{self._cc_text}{nsn}"
        geographic = self._geographic.get(number_type)
        if geographic is None:
            geographic = self._geographic[number_type] = is_number_type_geographical(
                number_type, self._country_code
            )
        zones = _zones_for(e164 if geographic else f"+{self._cc_text}", geographic)
        return _checked(e164, zones, number_type, region)


class _RegionMatcher:
    """``phonenumbers``' region and type rules for one region, with the patterns compiled once.

    The type patterns are joined into one ordered alternation (each guarded by its
    possible lengths), so the first alternative that matches the whole number is
    the type the library's one-by-one checks would find.
    """

    def __init__(self, region: str) -> None:
        self.region = region
        metadata = _metadata(region)
        self._leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        self._general = _Desc.of(metadata.general_desc)
        self._mobile = _Desc.of(metadata.mobile)
        self._same = bool(metadata.same_mobile_and_fixed_line_pattern)
        ordered = [(t, _Desc.of(getattr(metadata, name))) for name, t in _TYPE_ORDER]
        ordered.append((PhoneNumberType.FIXED_LINE, _Desc.of(metadata.fixed_line)))
        if not self._same:
            ordered.append((PhoneNumberType.MOBILE, self._mobile))
        present = [(t, d) for t, d in ordered if d is not None]
        self._types = {f"t{i}": t for i, (t, _) in enumerate(present)}
        self._any = re.compile(
            "|".join(f"(?P<t{i}>{d.guarded()})" for i, (_, d) in enumerate(present)) or "(?!)"
        )

    def claims(self, nsn: str) -> bool:
        """Whether the number belongs to this region of a shared country code."""
        if self._leading is not None:
            return self._leading.match(nsn) is not None
        return self.number_type(nsn) != PhoneNumberType.UNKNOWN

    def number_type(self, nsn: str) -> int:
        match = self._any.fullmatch(nsn)
        if match is None:
            return PhoneNumberType.UNKNOWN
        name = match.lastgroup
        if name in self._types:
            number_type = self._types[name]
        else:  # a pattern with its own groups: look the alternative up the long way
            number_type = next(self._types[n] for n, text in match.groupdict().items() if text is not None)
        if number_type == PhoneNumberType.FIXED_LINE and (
            self._same or (self._mobile is not None and self._mobile.matches(nsn))
        ):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return number_type


@dataclass(frozen=True, slots=True)
class _Desc:
    pattern: re.Pattern[str]
    lengths: frozenset[int]

    @classmethod
    def of(cls, desc: object) -> _Desc | None:
        pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
        if pattern is None:
            return None
        return cls(re.compile(pattern), frozenset(getattr(desc, "possible_length", None) or ()))

    def matches(self, nsn: str) -> bool:
        if self.lengths and len(nsn) not in self.lengths:
            return False
        return self.pattern.fullmatch(nsn) is not None

    def guarded(self) -> str:
        """The pattern with its length check in front, for use inside a larger alternation."""
        if not self.lengths:
            return f"(?:{self.pattern.pattern})"
        positive = sorted(n for n in self.lengths if n > 0)
        if not positive:
            return "(?!)"  # libphonenumber's [-1]: the type has no numbers here
        lengths = "|".join(rf"\d{{{n}}}" for n in positive)
        return f"(?=(?:{lengths})$)(?:{self.pattern.pattern})"


def _metadata(region: str) -> PhoneMetadata:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        raise InvalidInput(_("unknown region {region!r}").format(region=region))
    return metadata


def _zones_for(e164: str, geographic: bool) -> str:
    """libphonenumber's longest-prefix zone lookup (country level for non-geographic numbers)."""
    digits = e164[1:]
    if not geographic:
        return _zones_for_prefix(digits)
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        if digits[:length] in TIMEZONE_DATA:
            return _zones_for_prefix(digits[:length])
    return UNKNOWN_ZONE


@lru_cache(maxsize=65536)
def _zones_for_prefix(prefix: str) -> str:
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(prefix)), 0, -1):
        zones = TIMEZONE_DATA.get(prefix[:length])
        if zones is not None:
            return _zones_text(zones)
    return UNKNOWN_ZONE


def _zones_text(zones: tuple[str, ...] | list[str]) -> str:
    return ",".join(zones)


def _parse_error(exc: phonenumbers.NumberParseException) -> str:
    return {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: reasons.PARSE_ERRORS[0],
        phonenumbers.NumberParseException.NOT_A_NUMBER: reasons.PARSE_ERRORS[1],
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: reasons.PARSE_ERRORS[2],
        phonenumbers.NumberParseException.TOO_SHORT_NSN: reasons.PARSE_ERRORS[2],
        phonenumbers.NumberParseException.TOO_LONG: reasons.PARSE_ERRORS[3],
    }.get(exc.error_type, reasons.CANNOT_READ)


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """One number in E.164, or ``FieldRejected`` with the reason."""
    return _normalizer(region.upper()).normalize(raw).e164


@lru_cache(maxsize=32)
def _normalizer(region: str) -> PhoneNormalizer:
    return PhoneNormalizer(region)
