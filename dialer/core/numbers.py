"""Figures as a reader of the language expects them: ``12.5%`` in English, ``12,5 %`` in Russian.

Only text for people is formatted here: a terminal table, a status line, a report's page. What a
program reads (CSV, JSON, Excel cells, metrics) keeps its numbers as numbers and never comes here.

The digits are Python's in every language (the value is rounded as ``f"{value:.1f}"`` rounds it),
so English and Russian never disagree on a figure; Babel (CLDR) supplies the rest of the
language's convention: the decimal sign, the thousands separator (a no-break space in Russian)
and where the percent sign goes. English prints figures exactly as the product always has, with
no thousands separator, so a line someone greps for still matches.
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache

from dialer.core.i18n import DEFAULT, current

Number = int | float | Decimal


def decimal(value: Number, digits: int | None = None, lang: str | None = None) -> str:
    """``value`` with ``digits`` decimals (None: the decimals ``str(value)`` shows), in ``lang``
    (default: the language of the moment). An integer gets its thousands grouped."""
    text = _plain(value, digits)
    if text is None:
        return str(value)
    places = len(text.partition(".")[2])
    return _babel_decimal(Decimal(text), _fraction("#,##0", places), _lang(lang))


def percent(share: Number, digits: int = 1, lang: str | None = None) -> str:
    """``share`` (0.125) as a percentage with ``digits`` decimals: ``12.5%``, ``12,5 %``."""
    if not math.isfinite(share):
        return str(share)
    hundredths = Decimal(f"{float(share) * 100:.{digits}f}")  # what f"{share:.1%}" shows
    lang = _lang(lang)
    from babel.numbers import format_percent

    return format_percent(
        hundredths / 100, format=_percent_pattern(lang, digits), locale=lang, group_separator=lang != DEFAULT
    )


def compact(value: Number, lang: str | None = None) -> str:
    """``value`` as ``f"{value:g}"`` shows it (``2``, ``1.5``: no trailing zeros), in ``lang``."""
    if not math.isfinite(value):
        return str(value)
    return decimal(Decimal(f"{value:g}"), None, lang)


def integer(value: int, lang: str | None = None) -> str:
    """A count: ``12345`` in English, ``12 345`` (a no-break space) in Russian."""
    return decimal(value, 0, lang)


def _plain(value: Number, digits: int | None) -> str | None:
    """The value's digits, rounded, in positional notation; None for infinity and NaN."""
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return None
    if digits is not None:
        return f"{value:.{digits}f}"
    text = str(value)
    return format(Decimal(text), "f") if "e" in text.lower() else text


def _lang(lang: str | None) -> str:
    return lang or current()


def _fraction(pattern: str, places: int) -> str:
    """``pattern``'s integer part followed by exactly ``places`` decimals."""
    return pattern + ("." + "0" * places if places else "")


def _babel_decimal(value: Decimal, pattern: str, lang: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, format=pattern, locale=lang, group_separator=lang != DEFAULT)


@cache
def _percent_pattern(lang: str, digits: int) -> str:
    """The language's own percent pattern (``#,##0 %`` in Russian) with ``digits`` decimals."""
    from babel import Locale

    pattern = str(Locale.parse(lang).percent_formats[None].pattern)
    head, zero, tail = pattern.partition("0")
    return _fraction(head + zero, digits) + tail
