"""What an export is written as, chosen from the output's name and the options, and the zone of its times.

The rule, the same for every export (``dialer export leads|attempts|answers``):

- a name ending ``.xlsx`` is a workbook; ``.csv``, ``.txt``, no extension, or ``-`` (stdout) is CSV;
- ``--format csv|xlsx`` decides for any other name, and must agree with a name above;
- ``.xls``, ``.xlsm``, ``.xlsb`` and ``.ods`` are refused: only ``.xlsx`` workbooks are written;
- ``--excel`` (CSV only) is the Excel-flavoured CSV: a BOM, ``;`` separators, neutralised text;
- Excel flavours write headers in ``--lang`` (default: the command line's language); plain CSV keeps
  English identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.core import i18n
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from lists.safe_write import shown

FORMATS = ("csv", "xlsx")
_CSV_SUFFIXES = ("", ".csv", ".txt")
_OTHER_WORKBOOKS = (".xls", ".xlsm", ".xlsb", ".ods")
LOCAL = "local"


@dataclass(frozen=True)
class ExportFormat:
    kind: str = "csv"  # one of FORMATS
    excel: bool = False  # the Excel-flavoured CSV
    lang: str = "en"

    @property
    def for_excel(self) -> bool:
        """A workbook or the Excel-flavoured CSV: seconds-precision times, Excel-safe text."""
        return self.kind == "xlsx" or self.excel


def choose_format(
    output: str, fmt: str | None = None, excel: bool = False, lang: str | None = None
) -> ExportFormat:
    """The format for ``output`` under the options; one line of ``InvalidInput`` when they disagree."""
    if lang is not None:
        i18n.check_lang(lang)
    if fmt is not None and fmt not in FORMATS:
        raise InvalidInput(_("--format {format!r}: use csv or xlsx").format(format=fmt[:20]))
    suffix = "" if output == "-" else Path(output).suffix.lower()
    if suffix in _OTHER_WORKBOOKS:
        raise InvalidInput(
            _("-o {file}: only .xlsx workbooks are written; name it .xlsx or .csv").format(file=shown(output))
        )
    by_name = "xlsx" if suffix == ".xlsx" else "csv" if suffix in _CSV_SUFFIXES else None
    if fmt is None:
        if by_name is None:
            raise InvalidInput(
                _("-o {file}: name it .csv or .xlsx, or give --format csv or xlsx").format(file=shown(output))
            )
        fmt = by_name
    elif by_name is not None and by_name != fmt and output != "-":
        raise InvalidInput(
            _("-o {file}: the name says {by_name} but --format says {format}").format(
                file=shown(output), by_name=by_name, format=fmt
            )
        )
    if excel and fmt == "xlsx":
        raise InvalidInput(_("--excel shapes CSV for Excel; an .xlsx workbook needs no --excel"))
    if lang is not None and fmt == "csv" and not excel:
        raise InvalidInput(_("--lang applies to Excel output: add --excel, or write an .xlsx file"))
    if fmt == "csv" and not excel:
        return ExportFormat(fmt, excel, "en")
    return ExportFormat(fmt, excel, lang or i18n.current())


@dataclass(frozen=True)
class TimeChoice:
    """The zone an export's times are shown in: each lead's own (``local``), ``UTC`` or one IANA zone.

    A lead's own zone is the first of its candidate zones (as the report takes it); a lead with
    none, or with a name this machine does not know, is shown in UTC.
    """

    name: str = LOCAL

    def zone(self, lead_zones: str | None) -> tuple[str, tzinfo]:
        """The zone's name and the zone for a lead with these candidate zones (comma-separated)."""
        wanted = self.name if self.name != LOCAL else (lead_zones or "").split(",")[0].strip()
        return _named_zone(wanted) or ("UTC", UTC)


def check_tz(text: str) -> TimeChoice:
    """``--tz``: local, UTC or an IANA zone name such as Europe/Moscow."""
    name = text.strip()
    if name.lower() == LOCAL:
        return TimeChoice(LOCAL)
    if name.upper() == "UTC":
        return TimeChoice("UTC")
    if _named_zone(name) is None:
        raise InvalidInput(
            _("--tz {zone}: use local, UTC or an IANA zone such as Europe/Moscow").format(zone=shown(text))
        )
    return TimeChoice(name)


@lru_cache(maxsize=512)
def _named_zone(name: str) -> tuple[str, tzinfo] | None:
    if name.upper() == "UTC":
        return "UTC", UTC
    if not name or "\0" in name or len(name) > 64:
        return None
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
