"""The console's languages: gettext catalogues (``locale/<lang>/LC_MESSAGES/console.po``).

The ``.po`` files are read with Babel when first needed, so no compiled ``.mo`` file has to be
kept in step with them. English is the source language.
"""

from __future__ import annotations

import io
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "console"


@cache
def translations(language: str) -> NullTranslations:
    po = LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)
