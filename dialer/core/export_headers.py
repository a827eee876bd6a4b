"""The exports' column headers in the reader's language, from the product's catalogue.

A column's key (``phone``, ``talk_s``) is an English identifier: plain CSV writes it as it is, so
scripts and pandas can rely on it. An export meant for people (an Excel workbook, Excel-flavoured
CSV) may write ``export_header(key, lang)`` instead. A key the catalogue does not know (a lead's
own column, a survey question) is kept as it is. The keys are looked up in the ``export column``
context, so the same word in the report or in a message may be translated differently.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialer.core.i18n import NC_, pgettext

CONTEXT = "export column"

# Every fixed column of the leads, attempts and answers exports, marked for the catalogue.
KEYS = frozenset(
    {
        NC_("export column", "lead_id"),
        NC_("export column", "attempt_id"),
        NC_("export column", "phone"),
        NC_("export column", "status"),
        NC_("export column", "attempts"),
        NC_("export column", "last_outcome"),
        NC_("export column", "zone"),
        NC_("export column", "next_call_at"),
        NC_("export column", "next_call_at_utc"),
        NC_("export column", "time_zones"),
        NC_("export column", "started_at"),
        NC_("export column", "started_at_utc"),
        NC_("export column", "ringing_at"),
        NC_("export column", "answered_at"),
        NC_("export column", "connected_at"),
        NC_("export column", "ended_at"),
        NC_("export column", "disposed_at"),
        NC_("export column", "ring_s"),
        NC_("export column", "wait_s"),
        NC_("export column", "talk_s"),
        NC_("export column", "wrapup_s"),
        NC_("export column", "outcome"),
        NC_("export column", "hangup_cause"),
        NC_("export column", "hangup_cause_name"),
        NC_("export column", "operator"),
        NC_("export column", "operator_interface"),
        NC_("export column", "disposition"),
        NC_("export column", "note"),
    }
)


def export_header(key: str, lang: str | None = None) -> str:
    """The header of column ``key`` in ``lang`` (default: the language of the moment)."""
    return pgettext(CONTEXT, key, lang) if key in KEYS else key


def export_headers(keys: Sequence[str], lang: str | None = None) -> list[str]:
    """A header row: every key in ``lang``, the lead's own columns as they are."""
    return [export_header(key, lang) for key in keys]
