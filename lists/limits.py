"""How much of a list file the product will read, checked before the file is parsed.

A lead list is data from outside: a spreadsheet can declare a row two hundred million lines
down, expand a megabyte into a gigabyte cell, or be a named pipe. Each limit has a default that
fits real lists with room to spare, an environment variable that changes it, and an error that
names both. The checks stream the file (a few megabytes in memory at a time), so a hostile file
is refused in about the time it takes to decompress it once.

==========================  ==================  ==========================
limit                       default             environment variable
==========================  ==================  ==========================
data rows                   10,000,000          ``DIALER_MAX_ROWS``
columns                     100                 ``DIALER_MAX_COLUMNS``
bytes in one cell           1 MiB               ``DIALER_MAX_CELL_KB``
XLSX, expanded size         1 GiB               ``DIALER_MAX_XLSX_MB``
==========================  ==================  ==========================
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dialer.core.errors import InvalidInput
from dialer.core.i18n import _

_CHUNK = 1024 * 1024
_MAX_RATIO = 200  # a real workbook's XML compresses about 5-20:1; a bomb, 1000:1
_RATIO_FLOOR = 8 * 1024 * 1024  # members smaller than this may compress as well as they like
_SMALL_XML = 16 * 1024 * 1024  # workbook.xml and its relationships: read whole, so kept small
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{0,3})(\d*)(?::([A-Z]{1,3})(\d+))?"')
_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')
_SHEET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\b\w+:id="([^"]*)"')
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTRIBUTE = re.compile(rb'\b(Id|Target)="([^"]*)"')


@dataclass(frozen=True)
class ReadLimits:
    max_rows: int = 10_000_000
    max_columns: int = 100
    max_cell_bytes: int = 1024 * 1024
    max_xlsx_bytes: int = 1024 * 1024 * 1024

    @classmethod
    def from_env(cls) -> ReadLimits:
        """The defaults, as changed by ``DIALER_MAX_*`` variables."""
        base = cls()
        return cls(
            max_rows=_env_int("DIALER_MAX_ROWS", base.max_rows, 1),
            max_columns=_env_int("DIALER_MAX_COLUMNS", base.max_columns, 1),
            max_cell_bytes=_env_int("DIALER_MAX_CELL_KB", base.max_cell_bytes // 1024, 1) * 1024,
            max_xlsx_bytes=_env_int("DIALER_MAX_XLSX_MB", base.max_xlsx_bytes // 2**20, 1) * 2**20,
        )

    def too_many_rows(self, where: str) -> InvalidInput:
        return InvalidInput(
            f"{where}: more than {self.max_rows:,} data rows, the limit; split the list "
            "or raise it with DIALER_MAX_ROWS"
        )

    def too_many_columns(self, where: str, count: int) -> InvalidInput:
        return InvalidInput(
            f"{where}: {count:,} columns, more than the limit of {self.max_columns}; "
            "drop the extra columns or raise it with DIALER_MAX_COLUMNS"
        )

    def cell_too_big(self, where: str) -> InvalidInput:
        return InvalidInput(
            f"{where}: a cell or line longer than {self.max_cell_bytes // 1024:,} KB, the limit; "
            "raise it with DIALER_MAX_CELL_KB"
        )


def _env_int(name: str, default: int, low: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 12 or int(text) < low:
        raise InvalidInput(
            _("{name}={text!r}: expected a whole number of at least {low}").format(
                name=name, text=text[:20], low=low
            )
        )
    return int(text)


def shown(path: Path) -> str:
    text = " ".join(str(path).split())
    return text if len(text) <= 80 else text[:77] + "..."


def some(names: list[str], count: int = 8, width: int = 30) -> str:
    """A few column names for a message: the first ``count``, each cut to ``width`` characters."""
    cut = [name if len(name) <= width else name[: width - 3] + "..." for name in names[:count]]
    more = _(" and {count} more").format(count=len(names) - count) if len(names) > count else ""
    return ", ".join(cut) + more


def unreadable(path: Path, exc: OSError) -> InvalidInput:
    """One line for a file that cannot be opened: missing, a folder, or refused by the system."""
    if isinstance(exc, FileNotFoundError):
        return InvalidInput(_("{file}: no such file").format(file=shown(path)))
    if isinstance(exc, IsADirectoryError):
        return InvalidInput(_("{file} is a directory, not a file").format(file=shown(path)))
    return InvalidInput(
        _("{file}: cannot read it ({problem})").format(file=shown(path), problem=exc.strerror)
    )


def check_regular(path: Path) -> None:
    """A list is read more than once (sniff, header, rows): a pipe or device would lose its start."""
    try:
        info = path.stat()
    except OSError as exc:
        raise unreadable(path, exc) from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidInput(_("{file} is a directory, not a file").format(file=shown(path)))
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(
            f"{shown(path)} is not a regular file (a pipe or a device): save the list to a file first"
        )


# --- CSV ------------------------------------------------------------------------------


def check_csv_lines(path: Path, limits: ReadLimits) -> None:
    """Refuse a line longer than the cell limit before pandas holds it whole.

    Read in chunks the size of the limit: a line longer than the limit spans a chunk boundary,
    so only the run of bytes across boundaries needs counting; the rest is C-speed ``rfind``.
    A line ends at LF or at CR (old Mac files).
    """
    run = 0
    with path.open("rb") as handle:
        while chunk := handle.read(limits.max_cell_bytes):
            ends = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
            if not ends:
                run += len(chunk)
            else:
                run += min(ends)
                if run > limits.max_cell_bytes:
                    break
                run = len(chunk) - max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) - 1
            if run > limits.max_cell_bytes:
                break
    if run > limits.max_cell_bytes:
        raise limits.cell_too_big(shown(path))


# --- XLSX -----------------------------------------------------------------------------


@dataclass(frozen=True)
class XlsxShape:
    last_row: int  # the highest row number of the first sheet (1-based, header included)


def check_xlsx(path: Path, limits: ReadLimits) -> XlsxShape:
    """Sizes, compression ratios, declared dimension, last row and longest text of the first sheet."""
    where = shown(path)
    try:
        with zipfile.ZipFile(path) as book:
            members = book.infolist()
            _check_sizes(members, limits, where)
            sheet = _first_sheet(book)
            scanned = [sheet] + [m for m in ("xl/sharedStrings.xml",) if m in book.NameToInfo]
            last_row = 0
            for name in scanned:
                found = _scan_member(book, name, limits, where)
                if name == sheet:
                    last_row = found
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError, OSError):
        raise InvalidInput(_("{file}: not a readable XLSX workbook").format(file=where)) from None
    except NotImplementedError:  # a compression method zipfile cannot read
        raise InvalidInput(
            _("{file}: not a readable XLSX workbook (unknown compression)").format(file=where)
        ) from None
    if last_row - 1 > limits.max_rows:
        raise limits.too_many_rows(where)
    return XlsxShape(last_row)


def _check_sizes(members: Iterable[zipfile.ZipInfo], limits: ReadLimits, where: str) -> None:
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size // max(1, member.compress_size)
        if member.file_size > _RATIO_FLOOR and ratio > _MAX_RATIO:
            raise InvalidInput(
                f"{where}: a part of the workbook expands {ratio:,} times, more than the "
                f"{_MAX_RATIO} of any real workbook: refused as a decompression bomb"
            )
    if total > limits.max_xlsx_bytes:
        raise InvalidInput(
            f"{where}: expands to {total // 2**20:,} MB, more than the limit of "
            f"{limits.max_xlsx_bytes // 2**20:,} MB; save it as CSV or raise it with DIALER_MAX_XLSX_MB"
        )


def _first_sheet(book: zipfile.ZipFile) -> str:
    """The XML member of the workbook's first sheet, the one the reader imports.

    Found with two searches in small parts, not an XML parser: no entity is ever expanded.
    """
    for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if name not in book.NameToInfo or book.getinfo(name).file_size > _SMALL_XML:
            raise zipfile.BadZipFile(f"{name} missing or too large")
    sheet = _SHEET.search(book.read("xl/workbook.xml"))
    if sheet is None:
        raise zipfile.BadZipFile("no sheet")
    for rel in _RELATIONSHIP.finditer(book.read("xl/_rels/workbook.xml.rels")):
        attributes = dict(_ATTRIBUTE.findall(rel.group(0)))
        if attributes.get(b"Id") == sheet.group(1):
            target = attributes.get(b"Target", b"").decode("utf-8", "replace").lstrip("/")
            return target if target.startswith("xl/") else f"xl/{target}"
    raise zipfile.BadZipFile("no first sheet")


def _scan_member(book: zipfile.ZipFile, name: str, limits: ReadLimits, where: str) -> int:
    """Stream one XML part: refuse a text run over the cell limit; the last row number it names."""
    last_row = 0
    run = 0
    tail = b""
    with book.open(name) as handle:
        head = True
        while chunk := handle.read(max(_CHUNK, limits.max_cell_bytes)):
            if head:
                _check_dimension(chunk, limits, where)
                head = False
            first = chunk.find(b"<")
            run = run + len(chunk) if first < 0 else run + first
            if run > limits.max_cell_bytes:
                raise limits.cell_too_big(where)
            if first >= 0:
                run = len(chunk) - chunk.rfind(b"<") - 1
            last_row = max(last_row, _highest_row(tail + chunk, limits, where))
            tail = chunk[-256:]
    return last_row


def _highest_row(window: bytes, limits: ReadLimits, where: str) -> int:
    """Refuse a row number past the limit anywhere in ``window``; the last row number seen.

    Rows need not come in order, and the reader fills every gap with empty rows, so one row
    far down costs as much as all the rows before it. Only numbers with as many digits as the
    limit's are looked at one by one: a search in C, not a match object per row.
    """
    digits = len(str(limits.max_rows + 1))
    for match in re.finditer(rb'<(?:\w+:)?row\b[^>]*?\br="(\d{%d,})"' % digits, window):
        if int(match.group(1)) - 1 > limits.max_rows:
            raise limits.too_many_rows(where)
    pos = window.rfind(b"row ")
    while pos >= 0:
        found = _ROW.match(window, window.rfind(b"<", 0, pos + 1))
        if found is not None:
            return int(found.group(1))
        pos = window.rfind(b"row ", 0, pos)
    return 0


def _check_dimension(head: bytes, limits: ReadLimits, where: str) -> None:
    match = _DIMENSION.search(head)
    if match is None:
        return
    end_col, end_row = match.group(3) or match.group(1), match.group(4) or match.group(2)
    if end_row and int(end_row) - 1 > limits.max_rows:
        raise limits.too_many_rows(where)
    if end_col and _column_number(end_col.decode()) > limits.max_columns:
        raise limits.too_many_columns(where, _column_number(end_col.decode()))


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (ord(letter) - ord("A") + 1)
    return number
