"""What an operator's desk phone shows on a connected call: the customer's number and name.

The name comes from the lead: the column the campaign names (``--callerid-name-column``) or,
when it names none, the first name-like column (ФИО, Имя, Name ...). Lead data is whatever a
list file held, so the name reaches Asterisk only through ``caller_name``: control and format
characters, quotes, the characters that mean something in dialplan arguments or in a caller ID
(``"Name" <number>``), and ``;`` are dropped, spaces are collapsed and the length is capped.
Letters of any script stay: "Иванова Анна" is shown as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

MAX_NAME_CHARS = 40  # desk phones show about this many; Asterisk keeps more, SIP carries it in From
# Header names, compared case-insensitively, that hold the customer's name, best first.
NAME_COLUMNS = (
    "фио",
    "ф.и.о.",
    "имя",
    "клиент",
    "абонент",
    "контакт",
    "контактное лицо",
    "name",
    "full name",
    "fullname",
    "customer",
    "contact",
    "contact name",
)
# Quotes, dialplan argument and expression characters, and a caller ID's own <> brackets.
_DROPPED = frozenset("\"'`;,|\\$[]{}<>()^&*=%#!?@~")
_NUMBER = re.compile(r"\+?[0-9]{3,15}")


def caller_name(data: Mapping[str, object], column: str = "") -> str:
    """The customer's name for the operator's phone, made safe; "" when the lead has none."""
    if column:
        return safe_name(data.get(column, ""))
    by_header = {str(key).strip().casefold(): key for key in data}
    for header in NAME_COLUMNS:
        key = by_header.get(header)
        if key is not None:
            name = safe_name(data[key])
            if name:
                return name
    return ""


def safe_name(value: object, limit: int = MAX_NAME_CHARS) -> str:
    """``value`` as a caller-ID name: one line of letters, digits, spaces and harmless punctuation."""
    text = unicodedata.normalize("NFC", "" if value is None else str(value))
    kept = "".join(" " if _unsafe(ch) else ch for ch in text)
    return " ".join(kept.split())[:limit].strip()


def caller_number(e164: str) -> str:
    """The dialed number as the operator's phone shows it; "" for anything but digits."""
    return e164 if _NUMBER.fullmatch(e164) else ""


def _unsafe(ch: str) -> bool:
    if ch in _DROPPED:
        return True
    # C*: controls, formats (invisible marks), surrogates, unassigned; Z* but the plain space.
    category = unicodedata.category(ch)
    return category[0] == "C" or (category[0] == "Z" and ch != " ")
