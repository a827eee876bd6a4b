"""The catalogues: every message the code marks is translated, and the locale picks the language.

The messages are read from the source the way Babel extracts them for translators (``_``,
``N_``, ``ngettext`` in Python; ``{{ _() }}`` and ``{% trans %}`` in the console's templates), so a
new message without its Russian fails here, not in front of a Russian manager.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dialer.core import i18n
from dialer.core.errors import InvalidInput
from dialer.core.export_headers import export_header, export_headers

ROOT = Path(__file__).parent.parent
PACKAGES = ("dialer", "campaigns", "lists")
# Which arguments of each marker are (context, message): a context is one leading argument.
KEYWORDS = {"_": False, "N_": False, "gettext": False, "ngettext": False, "pgettext": True, "NC_": True}
TEMPLATES = [("**.html", "jinja2")]
Key = tuple[str | None, str]  # (context, msgid); a plural message is known by its singular


def _python_messages() -> Iterator[Key]:
    """Literal arguments of the markers (``_``, ``N_``, ``NC_``, ``gettext``, ``ngettext``,
    ``pgettext``), f-strings' insides included."""
    files = [ROOT / "cli.py"] + [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS:
                texts = [a.value if isinstance(a, ast.Constant) else None for a in node.args[:2]]
                if KEYWORDS[node.func.id] and len(texts) == 2 and all(isinstance(t, str) for t in texts):
                    yield texts[0], texts[1]
                elif not KEYWORDS[node.func.id] and texts and isinstance(texts[0], str):
                    yield None, texts[0]


def _template_messages() -> Iterator[Key]:
    templates = ROOT / "dialer" / "web" / "templates"
    for _file, _line, message, _comments, context in extract_from_dir(templates, TEMPLATES):
        yield context, message if isinstance(message, str) else message[0]


SOURCES = {i18n.DOMAIN: _python_messages, i18n.CONSOLE: _template_messages}


def used(domain: str) -> set[Key]:
    """The (context, msgid) pairs the code uses in ``domain``."""
    return set(SOURCES[domain]())


def catalogue(lang: str, domain: str) -> Catalog:
    with (i18n.LOCALE / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        return read_po(handle, locale=lang, domain=domain)


def _fields(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("domain", [i18n.DOMAIN, i18n.CONSOLE])
def test_every_message_the_code_uses_has_its_russian(domain: str) -> None:
    russian = catalogue("ru", domain)
    missing = [key for key in used(domain) if not _translated(russian, key)]
    assert missing == [], f"{len(missing)} messages have no Russian in {domain}.po: {missing}"


def _translated(russian: Catalog, key: Key) -> bool:
    message = russian.get(key[1], context=key[0])
    return message is not None and all(
        message.string if isinstance(message.string, tuple) else [message.string]
    )


def test_the_extraction_finds_the_cli_and_the_report() -> None:
    """A guard on the test above: the walk over the source really finds marked messages."""
    messages = used(i18n.DOMAIN)
    assert {
        (None, "error:"),
        (None, "Campaign report"),
        (None, "no campaigns yet: dialer campaign create NAME"),
    } <= messages
    assert (None, "dialed by") in messages  # marked with N_ in a table of headers
    assert (None, "{count} line skipped") in messages  # ngettext, known by its singular
    assert ("export column", "talk_s") in messages  # NC_, with its context


def test_translations_keep_the_placeholders_of_their_message() -> None:
    for message in catalogue("ru", i18n.DOMAIN):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(_fields(m) for m in ids))
        for text in strings:
            assert _fields(text) == wanted, f"{message.id!r} -> {text!r}"


def test_the_catalogue_has_no_message_the_code_no_longer_uses() -> None:
    """In Python every message is marked where it is written (``N_`` for the dynamic ones).

    The console's templates translate states read at run time (``_(state.desired)``), so its
    catalogue holds messages no literal names; this check is for the ``dialer`` domain only.
    """
    code = used(i18n.DOMAIN)
    unused = [m.id for m in catalogue("ru", i18n.DOMAIN) if m.id and (m.context, _singular(m.id)) not in code]
    assert unused == []


def _singular(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "ru_RU"}, "ru"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "ru_RU.UTF-8", "LC_MESSAGES": "C"}, "en"),
        ({"LANG": "C", "LC_MESSAGES": "ru_RU.UTF-8"}, "ru"),
        ({"LC_ALL": "ru_RU.UTF-8", "LC_MESSAGES": "en_US.UTF-8", "LANG": "C"}, "ru"),
        ({"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "ru_RU.UTF-8"}, "ru"),  # an empty variable is not set
    ],
)
def test_the_locale_picks_the_language(environ: dict[str, str], lang: str) -> None:
    assert i18n.from_locale(environ) == lang


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en-US,en;q=0.9", "en"),
        ("en-GB,ru;q=0.5", "en"),
        ("de-DE,de;q=0.9,ru;q=0.8,en;q=0.7", "ru"),  # the first the product speaks
        ("ru;q=0.4, en;q=0.6", "en"),  # by weight, not by place
        ("en;q=0, ru;q=0.1", "ru"),  # q=0 means "not this one"
        ("RU", "ru"),
        ("en;q=oops,ru;q=0.2", "ru"),  # a weight that is not a number counts as refused
        ("de-DE,fr", None),
        ("", None),
        ("*", None),
    ],
)
def test_the_browser_picks_the_login_pages_language(header: str, lang: str | None) -> None:
    assert i18n.from_accept_language(header) == lang


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInput, match="use en or ru"):
        i18n.check_lang("de")


def test_the_language_of_the_moment_is_undone_by_its_token() -> None:
    assert i18n.current() == "en"
    token = i18n.use("ru")
    try:
        assert i18n._("error:") == "ошибка:"
        assert i18n.gettext("error:", "en") == "error:"
    finally:
        i18n.restore(token)
    assert i18n._("error:") == "error:"


def test_russian_plurals_take_three_forms() -> None:
    forms = [i18n.ngettext("{count} line skipped", "{count} lines skipped", n, "ru") for n in (1, 3, 5, 21)]
    assert [f.format(count=n) for f, n in zip(forms, (1, 3, 5, 21), strict=True)] == [
        "пропущена 1 строка",
        "пропущено 3 строки",
        "пропущено 5 строк",
        "пропущена 21 строка",
    ]


def test_export_headers_follow_the_language_and_keep_a_leads_own_columns() -> None:
    keys = ["phone", "talk_s", "ФИО", "status"]
    assert export_headers(keys, "en") == keys
    assert export_headers(keys, "ru") == ["Телефон", "Разговор, с", "ФИО", "Статус"]
    token = i18n.use("ru")
    try:
        assert export_header("hangup_cause_name") == "Причина отбоя"
    finally:
        i18n.restore(token)
    assert export_header("hangup_cause_name") == "hangup_cause_name"


def test_the_same_word_differs_between_the_report_and_an_export() -> None:
    assert i18n.gettext("talk_s", "ru") == "разговор, с"  # the report's column, through labels.column
    assert export_header("talk_s", "ru") == "Разговор, с"  # the export's header, in its own context
