"""The product's languages: one gettext mechanism for the command line, the console and the report.

English is the source language: a message is written in English in the code, wrapped in ``_()``,
and its Russian lives in ``locale/ru/LC_MESSAGES/<domain>.po`` beside this module. Two domains:

- ``dialer``: what the command line prints, the errors every layer raises, the report's labels;
- ``console``: the operator console's pages.

The ``.po`` files are the only source: they are compiled in memory (with Babel) the first time a
language is used, so no ``.mo`` file has to be built or kept in step with them.

The language of the moment is a context variable: the command line sets it once per invocation
(``--lang``, else the locale), and code that serves several users at once (the console) passes
each user's language explicitly. ``N_()`` marks a message for the catalogue where it is defined
(a table of column names) and the code translates it where it is shown.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextvars import ContextVar, Token
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from dialer.core.errors import InvalidInput

LOCALE = Path(__file__).parent / "locale"
LANGS = ("en", "ru")
DEFAULT = "en"
DOMAIN = "dialer"
CONSOLE = "console"
ENVIRONMENT = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX order: the first one set wins

_current: ContextVar[str] = ContextVar("dialer_language", default=DEFAULT)


def check_lang(lang: str) -> str:
    """A language the product speaks, or one line saying which ones it does."""
    if lang not in LANGS:
        raise InvalidInput(_("unknown --lang {lang!r}: use en or ru").format(lang=lang[:20]))
    return lang


def from_locale(environ: Mapping[str, str]) -> str:
    """The language the locale asks for: ``ru_RU.UTF-8`` (or ``ru``) is Russian, anything else English."""
    for name in ENVIRONMENT:
        value = environ.get(name, "")
        if value:
            return "ru" if value.split(".")[0].split("_")[0].lower() == "ru" else DEFAULT
    return DEFAULT


def from_accept_language(header: str) -> str | None:
    """The language the product speaks that a browser's ``Accept-Language`` prefers most
    (``ru-RU,ru;q=0.9,en;q=0.8`` is Russian), or None when it names neither."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header.split(",")[:50]):
        tag, _sep, params = item.strip().partition(";")
        lang = tag.strip().split("-")[0].lower()
        if lang not in LANGS:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0 and (best is None or (-weight, position) < (-best[0], best[1])):
            best = (weight, position, lang)
    return best[2] if best else None


def use(lang: str) -> Token[str]:
    """Speak ``lang`` from now on in this context; the token undoes it (``restore``)."""
    return _current.set(check_lang(lang))


def restore(token: Token[str]) -> None:
    _current.reset(token)


def current() -> str:
    return _current.get()


@cache
def translations(lang: str, domain: str = DOMAIN) -> NullTranslations:
    """The catalogue of ``domain`` in ``lang``; English (or a missing file) gives the messages as written."""
    po = LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"
    if not po.is_file():
        return NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


def gettext(message: str, lang: str | None = None) -> str:
    """``message`` in ``lang`` (default: the language of the moment)."""
    return translations(lang or _current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    return translations(lang or _current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str, lang: str | None = None) -> str:
    """``message`` in ``lang``, as meant in ``context`` (one English word, two Russian ones)."""
    return translations(lang or _current.get()).pgettext(context, message)


def _(message: str) -> str:
    """The usual short name: ``_("message")`` in the language of the moment."""
    return gettext(message)


def N_(message: str) -> str:  # gettext's own name for "mark, translate later"
    """Marks ``message`` for the catalogue without translating it here."""
    return message


def NC_(context: str, message: str) -> str:  # N_ with a context
    """Marks ``message`` in ``context`` for the catalogue (``pgettext`` translates it later)."""
    return message
