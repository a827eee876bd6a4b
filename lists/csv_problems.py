"""What went wrong in a CSV, said so a manager can fix the file: above all a delimiter inside an
unquoted value, which gives a row more fields than the header."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from lists.limits import shown


class _Format(Protocol):
    @property
    def encoding(self) -> str: ...
    @property
    def delimiter(self) -> str: ...


def next_chunk(reader: Any, path: Path, fmt: _Format, header_rows: int, columns: int) -> pd.DataFrame | None:
    """The reader's next chunk, ``None`` at the end. pandas only warns (and would shift the table)
    when the first data row has one field too many: that is an error here, with its line."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            chunk: pd.DataFrame = reader.get_chunk()
            return chunk
        except StopIteration:
            return None
        except pd.errors.ParserWarning:
            line = first_long_row(path, fmt, header_rows, columns)
            raise InvalidInput(f"{shown(path)}: {too_many_fields(line, columns, fmt.delimiter)}") from None


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab"}


def csv_problem(exc: Exception, delimiter: str) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid {exc.encoding} text (use --encoding)"
    message = str(exc).strip().splitlines()[-1] if str(exc).strip() else "malformed CSV"
    fields = _FIELDS.search(message)
    if fields is not None:
        expected, line, _saw = (int(n) for n in fields.groups())
        return too_many_fields(line, expected, delimiter)
    return f"malformed CSV: {message[:120]}"


def too_many_fields(line: int, expected: int, delimiter: str) -> str:
    """Why a row has more fields than the header: almost always a delimiter inside an unquoted value."""
    where = _("line {line}").format(line=line) if line else _("a row")
    return _(
        "{where} has more fields than the header ({expected}): "
        "a value containing {delimiter} must be in double quotes"
    ).format(where=where, expected=expected, delimiter=_DELIMITER_NAMES.get(delimiter, repr(delimiter)))


def first_long_row(path: Path, fmt: _Format, header_rows: int, columns: int, limit: int = 10_000_000) -> int:
    """The file line (1-based) of the first record after the header with more than ``columns``
    fields; 0 if none within ``limit`` records."""
    with path.open(encoding=fmt.encoding, errors="replace", newline="") as text:
        records = csv.reader(text, delimiter=fmt.delimiter)
        for number, record in enumerate(records, start=1):
            if number > header_rows and len(record) > columns:
                return records.line_num
            if number > limit:
                break
    return 0
