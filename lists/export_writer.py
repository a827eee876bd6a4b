"""Write an export's rows as plain CSV, Excel-flavoured CSV or an XLSX workbook, through the safe writer.

Rows carry typed values: ``int``, ``float`` (seconds), aware ``datetime`` (already in the zone
they are shown in), ``str`` and ``None``. The writers only render them:

- plain CSV: UTF-8, ``,``, every text byte as stored (byte-faithful: nothing added, nothing
  escaped but CSV quoting), times as ISO 8601 with their UTC offset;
- ``--excel`` CSV: UTF-8 with a BOM, ``;``, times ``YYYY-MM-DD HH:MM:SS`` (no offset, no
  fraction), seconds as whole numbers (the same under a decimal point or comma), and a text
  that begins with ``=``, ``+``, ``-``, ``@``, a tab or a CR gets a leading apostrophe so a
  spreadsheet reads it as text, never as a formula;
- XLSX: a write-only (streamed) workbook, one sheet, frozen header row; numbers as numbers, times
  as date-times to the second, every text (phone and lead values included) as a text cell.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, TextIO

from lists.export_columns import Column, Kind
from lists.export_format import ExportFormat
from lists.safe_write import OutputRules, write_bytes, write_text

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_TIME = "%Y-%m-%d %H:%M:%S"
_MAX_CELL = 32767  # Excel's limit on the characters of one cell
_WIDTHS = {Kind.INT: 10, Kind.SECONDS: 10, Kind.TIME: 20}


@dataclass
class Table:
    """One export: its sheet name, its columns and its rows (streamed, read once)."""

    sheet: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]]


def write_export(target: str, fmt: ExportFormat, table: Table, rules: OutputRules | None = None) -> int:
    """Write ``table`` to ``target`` whole or not at all; the number of rows written."""
    if fmt.kind == "xlsx":
        return write_bytes(target, lambda handle: write_xlsx(table, handle, fmt.lang), rules)
    return write_text(target, lambda handle: write_csv(table, handle, fmt), rules)


def neutralise(text: str) -> str:
    """A text a spreadsheet would take for a formula, made plain text by a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(table: Table, out: TextIO, fmt: ExportFormat | None = None) -> int:
    fmt = fmt or ExportFormat()
    if fmt.excel:
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.header(fmt.lang) for c in table.columns])
    render = _excel_text if fmt.excel else _plain_text
    count = 0
    for row in table.rows:
        writer.writerow([render(value) for value in row])
        count += 1
    return count


def _plain_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _excel_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(_EXCEL_TIME)
    if isinstance(value, float):
        return str(round(value))
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def write_xlsx(table: Table, handle: BinaryIO, lang: str = "en") -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet: Any = book.create_sheet(table.sheet[:31])
    for number, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = _width(column, lang)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in table.columns:
        cell = _text_cell(sheet, WriteOnlyCell, column.header(lang))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in table.rows:
        sheet.append(
            [_cell(sheet, WriteOnlyCell, c.kind, v) for c, v in zip(table.columns, row, strict=True)]
        )
        count += 1
    book.save(handle)
    return count


def _cell(sheet: Any, make: Any, kind: Kind, value: object) -> Any:
    if value is None:
        return None
    if kind is Kind.TIME and isinstance(value, datetime):
        cell = make(sheet, value=value.replace(tzinfo=None, microsecond=0))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if kind in (Kind.INT, Kind.SECONDS) and isinstance(value, int | float):
        return make(sheet, value=value)
    return _text_cell(sheet, make, str(value))


def _text_cell(sheet: Any, make: Any, text: str) -> Any:
    """A cell holding ``text`` as a string, whatever it starts with: never a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = make(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text)[:_MAX_CELL])
    cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula unless told otherwise
    return cell


def _width(column: Column, lang: str) -> float:
    if column.key == "phone":
        return 17
    return max(_WIDTHS.get(column.kind, 14), min(40, len(column.header(lang)) + 3))
