"""Reading lead tables: CSV (any of the encodings and delimiters lists arrive in) and XLSX.

Every cell comes back as a string, exactly as written: a phone column must never pass through float
parsing. Rows are yielded in chunks so memory stays bounded.

Lists exported from 1C or Excel often carry title rows above the header ("Выгрузка клиентов от ...").
The header row is the first of the first ``HEADER_SEARCH_ROWS`` rows that names a phone column;
without one, the first row. ``header_row`` (1-based, as a spreadsheet numbers its rows) names it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from lists.csv_problems import csv_problem, next_chunk
from lists.limits import ReadLimits, XlsxShape, check_csv_lines, check_regular, check_xlsx, shown, unreadable

DELIMITERS = (",", ";", "\t")
ENCODINGS = ("utf-8-sig", "utf-8", "cp1251")
_SAMPLE_BYTES = 256 * 1024
HEADER_SEARCH_ROWS = 30
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_ENCODING_ALIASES = {"utf8": "utf-8", "utf-8-bom": "utf-8-sig", "windows-1251": "cp1251", "win1251": "cp1251"}


@dataclass(frozen=True)
class TableFormat:
    kind: str  # "csv" or "xlsx"
    encoding: str = "utf-8"
    delimiter: str = ","


def detect_encoding(sample: bytes) -> str:
    """UTF-8 with BOM, UTF-8 or Windows-1251, from the first bytes of a file.

    Raises ``InvalidInput`` for binary content (NUL bytes or many control characters).
    """
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if b"\x00" in sample or controls > max(2, len(sample) // 100):
        raise InvalidInput(_("the file is binary, not a CSV or XLSX table"))
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut mid-character is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    return "cp1251"


def detect_delimiter(text: str) -> str:
    """The delimiter among ``,`` ``;`` and tab that splits the sample into the most consistent columns."""
    lines = text.splitlines(keepends=True)
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end mid-record
    sample = "".join(lines[:200])
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        except csv.Error:
            continue
        widths = [len(row) for row in rows if row]
        if not widths:
            continue
        # The most common width, not the first row's: title rows above the header are narrower.
        width = max(set(widths), key=lambda w: (widths.count(w), w))
        if width < 2:
            continue
        score = (widths.count(width), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def sniff(path: Path, encoding: str | None = None, delimiter: str | None = None) -> TableFormat:
    """Decide how to read ``path``; ``InvalidInput`` for missing, empty, unreadable or binary files."""
    check_regular(path)
    sample = _read_sample(path)
    if not sample.strip():
        raise InvalidInput(_("{file} is empty").format(file=shown(path)))
    if sample.startswith(_ZIP_MAGIC):
        return TableFormat("xlsx")
    if sample.startswith(_OLE_MAGIC):
        wrong = _("{file} is an old binary .xls workbook: save it as .xlsx or CSV")
        raise InvalidInput(wrong.format(file=shown(path)))
    chosen = _check_encoding(encoding) if encoding else None
    try:
        found = chosen or detect_encoding(sample)
    except InvalidInput as exc:
        raise InvalidInput(f"{shown(path)}: {exc}") from None
    text = sample.decode(found, errors="replace")
    if delimiter is not None:
        delimiter = _check_delimiter(delimiter)
    return TableFormat("csv", found, delimiter or detect_delimiter(text))


class Table:
    """An open lead table: its header and its rows as chunks of string DataFrames."""

    def __init__(
        self,
        path: Path,
        fmt: TableFormat,
        header: bool = True,
        limits: ReadLimits | None = None,
        header_row: int | None = None,
    ) -> None:
        self.path = path
        self.format = fmt
        self.size = path.stat().st_size
        self.limits = limits or ReadLimits.from_env()
        self._header = header
        self._shape: XlsxShape | None = check_xlsx(path, self.limits) if fmt.kind == "xlsx" else None
        if self._shape is None:
            check_csv_lines(path, self.limits)  # like check_xlsx: before a parser reads a byte
        if header_row is not None and header_row < 1:
            raise InvalidInput(_("--header-row {row}: rows are numbered from 1").format(row=header_row))
        # Rows above the header (title rows): skipped, never read as data.
        self.skip = header_row - 1 if header_row is not None else (self._find_header() if header else 0)
        self.columns: list[str] = self._read_columns()
        if len(self.columns) > self.limits.max_columns:
            raise self.limits.too_many_columns(shown(path), len(self.columns))

    def chunks(self, rows: int = 50_000) -> Iterator[tuple[pd.DataFrame, int]]:
        """``(chunk, progress)`` pairs; progress counts bytes for CSV, rows for XLSX (see ``total``)."""
        if self.format.kind == "xlsx":
            yield from self._xlsx_chunks(rows)
        else:
            yield from self._csv_chunks(rows)

    @property
    def total(self) -> int:
        return self.size if self.format.kind == "csv" else self._xlsx_rows()

    # --- CSV --------------------------------------------------------------------------

    def _csv_reader(self, handle: BinaryIO, rows: int | None, nrows: int | None = None) -> Any:
        return pd.read_csv(
            handle,
            sep=self.format.delimiter,
            encoding=self.format.encoding,
            header=0 if self._header else None,
            skiprows=self.skip,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            index_col=False,  # a row with one field too many is an error, not a shifted table
            chunksize=rows,
            nrows=nrows,
            engine="c",
        )

    def _csv_chunks(self, rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
        read = 0
        with self.path.open("rb") as handle:
            try:
                reader = self._csv_reader(handle, rows)
                while (
                    chunk := next_chunk(reader, self.path, self.format, self.skip + 1, len(self.columns))
                ) is not None:
                    read += len(chunk)
                    if read > self.limits.max_rows:
                        raise self.limits.too_many_rows(shown(self.path))
                    frame = _as_strings(chunk, self.columns)
                    yield frame, handle.tell()
            except InvalidInput:  # a ValueError too, but already ours and one line
                raise
            except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
                problem = csv_problem(exc, self.format.delimiter)
                raise InvalidInput(f"{shown(self.path)}: {problem}") from None

    def _find_header(self) -> int:
        """How many rows stand above the first one that names a phone column; 0 if none does."""
        for index, cells in enumerate(self._first_rows()):
            if find_phone_column([c for c in cells if c]) is not None:
                return index
        return 0

    def _first_rows(self) -> list[list[str]]:
        if self.format.kind == "xlsx":
            book, sheet = self._open_sheet()
            try:
                rows = sheet.iter_rows(values_only=True, max_row=HEADER_SEARCH_ROWS)
                return [[cell_text(v) for v in row] for row in rows]
            finally:
                book.close()
        text = _read_sample(self.path).decode(self.format.encoding, errors="replace")
        lines = text.splitlines()[:HEADER_SEARCH_ROWS]
        return [next(csv.reader([line], delimiter=self.format.delimiter), []) for line in lines]

    def _read_columns(self) -> list[str]:
        if self.format.kind == "xlsx":
            return self._xlsx_columns()
        with self.path.open("rb") as handle:
            try:
                head = self._csv_reader(handle, None, nrows=0)
            except pd.errors.EmptyDataError:
                where = _(" at row {row}").format(row=self.skip + 1) if self.skip else ""
                raise InvalidInput(
                    _("{file} is empty{where}").format(file=shown(self.path), where=where)
                ) from None
            except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
                raise InvalidInput(f"{shown(self.path)}: {csv_problem(exc, self.format.delimiter)}") from None
        if not self._header:
            return [str(i) for i in range(len(head.columns))]
        return [str(c) for c in head.columns]

    # --- XLSX -------------------------------------------------------------------------

    def _open_sheet(self) -> Any:
        import openpyxl

        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            sheet = book.worksheets[0]
        except Exception as exc:  # openpyxl raises many unrelated types for a damaged file
            raise InvalidInput(
                f"{shown(self.path)}: not a readable XLSX workbook ({type(exc).__name__})"
            ) from None
        # Without this, every row is padded to the declared width: "A1:XFD1" makes 16,384 cells a row.
        sheet.reset_dimensions()
        return book, sheet

    def _xlsx_rows(self) -> int:
        return self._shape.last_row if self._shape is not None else 0

    def _xlsx_columns(self) -> list[str]:
        book, sheet = self._open_sheet()
        try:
            first = next(sheet.iter_rows(values_only=True, min_row=self.skip + 1), None)
        finally:
            book.close()
        if first is None or all(cell is None for cell in first):
            raise InvalidInput(_("{file} is empty").format(file=shown(self.path)))
        if len(first) > self.limits.max_columns:
            raise self.limits.too_many_columns(shown(self.path), len(first))
        if not self._header:
            return [str(i) for i in range(len(first))]
        return _unique([cell_text(c) or f"column {i + 1}" for i, c in enumerate(first)])

    def _xlsx_chunks(self, rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
        book, sheet = self._open_sheet()
        width = len(self.columns)
        try:
            batch: list[list[str]] = []
            done = 0
            for index, values in enumerate(sheet.iter_rows(values_only=True, min_row=self.skip + 1)):
                if index == 0 and self._header:
                    continue
                cells = [cell_text(v) for v in values[:width]]
                if any(len(c) > self.limits.max_cell_bytes for c in cells):
                    raise self.limits.cell_too_big(shown(self.path))
                done += 1
                if not any(cells):
                    continue  # blank rows, as for CSV
                batch.append(cells + [""] * (width - len(cells)))
                if len(batch) >= rows:
                    yield pd.DataFrame(batch, columns=self.columns, dtype=object), done
                    batch = []
            if batch:
                yield pd.DataFrame(batch, columns=self.columns, dtype=object), done
        finally:
            book.close()


def _header_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


# Header names lists use for the number, most specific first.
PHONE_HEADERS = tuple(
    _header_key(name)
    for name in (
        "phone",
        "phone number",
        "phone_number",
        "phonenumber",
        "msisdn",
        "mobile",
        "mobile phone",
        "cell",
        "cellphone",
        "tel",
        "telephone",
        "number",
        "телефон",
        "номер телефона",
        "мобильный",
        "мобильный телефон",
        "сотовый",
        "тел",
        "номер",
    )
)


def find_phone_column(columns: list[str]) -> str | None:
    """The column that holds phone numbers, judged by its header name."""
    keys = {_header_key(column): column for column in reversed(columns)}
    for wanted in PHONE_HEADERS:
        if wanted in keys:
            return keys[wanted]
    return None


def open_table(
    path: Path,
    encoding: str | None = None,
    delimiter: str | None = None,
    header: bool = True,
    limits: ReadLimits | None = None,
    header_row: int | None = None,
) -> Table:
    return Table(path, sniff(path, encoding, delimiter), header, limits, header_row)


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person sees; whole floats lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value).strip()


def _as_strings(chunk: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = chunk.fillna("") if chunk.isna().to_numpy().any() else chunk
    frame.columns = columns
    return frame


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}.{count}")
    return out


def _read_sample(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_SAMPLE_BYTES)
    except OSError as exc:
        raise unreadable(path, exc) from None


def _check_encoding(name: str) -> str:
    key = name.strip().lower()
    key = _ENCODING_ALIASES.get(key, key)
    try:
        info = codecs.lookup(key)
    except LookupError:
        wrong = _("unknown encoding {name!r}: try utf-8, utf-8-sig or cp1251")
        raise InvalidInput(wrong.format(name=name[:40])) from None
    # Only text encodings in which the delimiters and line ends are the ASCII bytes themselves:
    # not rot13 or base64 (not text encodings), not UTF-16/32 (two or four bytes a character).
    if not getattr(info, "_is_text_encoding", True) or not _ascii_compatible(info.name):
        raise InvalidInput(
            f"encoding {name[:40]!r} cannot be read: save the list as UTF-8 or cp1251 "
            "(or another one-byte or UTF-8 encoding)"
        )
    return info.name


def _ascii_compatible(encoding: str) -> bool:
    probe = 'phone,;\t\r\n"0123456789+'
    try:
        return probe.encode("ascii").decode(encoding) == probe
    except (UnicodeError, LookupError, TypeError):
        return False


def _check_delimiter(value: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}
    delimiter = named.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in '\r\n"':
        wrong = _("delimiter {value!r}: expected one character such as , ; or tab")
        raise InvalidInput(wrong.format(value=value))
    return delimiter
