"""Every export's fixed columns, in one place: the header and the kind of value.

The header (``key``) is an English identifier and is what plain CSV writes; the Excel flavours
(``--excel`` CSV and XLSX) write it in the reader's language, from the product's catalogue
(``dialer.core.export_headers``). The kind says
how a cell is typed in a workbook: ``INT`` and ``SECONDS`` are numbers, ``TIME`` a date-time,
``TEXT`` always a text cell (never a formula, whatever it starts with).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dialer.core.export_headers import export_header


class Kind(Enum):
    INT = "int"
    SECONDS = "seconds"
    TIME = "time"
    TEXT = "text"


@dataclass(frozen=True)
class Column:
    key: str
    kind: Kind = Kind.TEXT

    def header(self, lang: str = "en") -> str:
        return export_header(self.key, lang)


def text_column(name: str) -> Column:
    """A column named by the user (a lead's own column, a question's key): text in every format."""
    return Column(name, Kind.TEXT)


LEADS = (
    Column("lead_id", Kind.INT),
    Column("phone", Kind.TEXT),
    Column("status", Kind.TEXT),
    Column("attempts", Kind.INT),
    Column("last_outcome", Kind.TEXT),
    Column("zone", Kind.TEXT),
    Column("next_call_at", Kind.TIME),
    Column("next_call_at_utc", Kind.TIME),
    Column("time_zones", Kind.TEXT),
)

ATTEMPTS = (
    Column("attempt_id", Kind.TEXT),
    Column("lead_id", Kind.INT),
    Column("phone", Kind.TEXT),
    Column("zone", Kind.TEXT),
    Column("started_at", Kind.TIME),
    Column("started_at_utc", Kind.TIME),
    Column("ringing_at", Kind.TIME),
    Column("answered_at", Kind.TIME),
    Column("connected_at", Kind.TIME),
    Column("ended_at", Kind.TIME),
    Column("disposed_at", Kind.TIME),
    Column("ring_s", Kind.SECONDS),
    Column("wait_s", Kind.SECONDS),
    Column("talk_s", Kind.SECONDS),
    Column("wrapup_s", Kind.SECONDS),
    Column("outcome", Kind.TEXT),
    Column("hangup_cause", Kind.INT),
    Column("hangup_cause_name", Kind.TEXT),
    Column("operator", Kind.TEXT),
    Column("operator_interface", Kind.TEXT),
    Column("disposition", Kind.TEXT),
    Column("note", Kind.TEXT),
)

ANSWERS = (
    Column("attempt_id", Kind.TEXT),
    Column("lead_id", Kind.INT),
    Column("phone", Kind.TEXT),
    Column("operator", Kind.TEXT),
    Column("disposition", Kind.TEXT),
)

KEYS = {
    "leads": tuple(c.key for c in LEADS),
    "attempts": tuple(c.key for c in ATTEMPTS),
    "answers": tuple(c.key for c in ANSWERS),
}
