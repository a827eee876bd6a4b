"""Every export's fixed columns, in one place: the header, the kind of value, the Russian header.

The header (``key``) is an English identifier and is what plain CSV writes; the Excel flavours
(``--excel`` CSV and XLSX) may write the Russian header instead with ``--lang ru``. The kind says
how a cell is typed in a workbook: ``INT`` and ``SECONDS`` are numbers, ``TIME`` a date-time,
``TEXT`` always a text cell (never a formula, whatever it starts with).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dialer.core.errors import InvalidInput


class Kind(Enum):
    INT = "int"
    SECONDS = "seconds"
    TIME = "time"
    TEXT = "text"


@dataclass(frozen=True)
class Column:
    key: str
    kind: Kind = Kind.TEXT
    ru: str = ""

    def header(self, lang: str = "en") -> str:
        return self.ru if lang == "ru" and self.ru else self.key


def text_column(name: str) -> Column:
    """A column named by the user (a lead's own column, a question's key): text in every format."""
    return Column(name, Kind.TEXT)


LANGS = ("en", "ru")

LEADS = (
    Column("lead_id", Kind.INT, "ID контакта"),
    Column("phone", Kind.TEXT, "Телефон"),
    Column("status", Kind.TEXT, "Статус"),
    Column("attempts", Kind.INT, "Попыток"),
    Column("last_outcome", Kind.TEXT, "Последний исход"),
    Column("zone", Kind.TEXT, "Часовой пояс времени"),
    Column("next_call_at", Kind.TIME, "Следующий звонок"),
    Column("next_call_at_utc", Kind.TIME, "Следующий звонок (UTC)"),
    Column("time_zones", Kind.TEXT, "Часовые пояса контакта"),
)

ATTEMPTS = (
    Column("attempt_id", Kind.TEXT, "ID попытки"),
    Column("lead_id", Kind.INT, "ID контакта"),
    Column("phone", Kind.TEXT, "Телефон"),
    Column("zone", Kind.TEXT, "Часовой пояс времени"),
    Column("started_at", Kind.TIME, "Начало"),
    Column("started_at_utc", Kind.TIME, "Начало (UTC)"),
    Column("ringing_at", Kind.TIME, "Гудки"),
    Column("answered_at", Kind.TIME, "Ответ"),
    Column("connected_at", Kind.TIME, "Соединение с оператором"),
    Column("ended_at", Kind.TIME, "Конец"),
    Column("disposed_at", Kind.TIME, "Итог записан"),
    Column("ring_s", Kind.SECONDS, "Гудки, с"),
    Column("wait_s", Kind.SECONDS, "Ожидание оператора, с"),
    Column("talk_s", Kind.SECONDS, "Разговор, с"),
    Column("wrapup_s", Kind.SECONDS, "Обработка, с"),
    Column("outcome", Kind.TEXT, "Исход"),
    Column("hangup_cause", Kind.INT, "Код отбоя"),
    Column("hangup_cause_name", Kind.TEXT, "Причина отбоя"),
    Column("operator", Kind.TEXT, "Оператор"),
    Column("operator_interface", Kind.TEXT, "Интерфейс оператора"),
    Column("disposition", Kind.TEXT, "Итог звонка"),
    Column("note", Kind.TEXT, "Комментарий"),
)

ANSWERS = (
    Column("attempt_id", Kind.TEXT, "ID попытки"),
    Column("lead_id", Kind.INT, "ID контакта"),
    Column("phone", Kind.TEXT, "Телефон"),
    Column("operator", Kind.TEXT, "Оператор"),
    Column("disposition", Kind.TEXT, "Итог звонка"),
)

KEYS = {
    "leads": tuple(c.key for c in LEADS),
    "attempts": tuple(c.key for c in ATTEMPTS),
    "answers": tuple(c.key for c in ANSWERS),
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InvalidInput(f"--lang {lang[:20]!r}: use en or ru")
    return lang
