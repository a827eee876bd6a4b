"""Reading the Russian numbering-plan registry's range files (ABC-3xx.csv, DEF-9xx.csv ...).

The ministry publishes the plan as ``;``-separated text, in cp1251 or UTF-8 by
release, one range a line under a header row:

    АВС/ DEF;От;До;Емкость;Оператор;Регион[;Территория ГАР;ИНН]

``От`` and ``До`` are seven-digit subscriber numbers (leading zeros may be
dropped), both inclusive; the newer releases add the address registry's
territory and the operator's tax number. Columns are found by their header,
not their position. A line that cannot be read is skipped and reported with its
file and line number; it never stops the rest from loading.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dialer.core.errors import InvalidInput
from dialer.core.i18n import _

_REQUIRED = ("code", "first", "last", "region")
_MAX_SUBSCRIBER = 9_999_999


@dataclass(frozen=True, slots=True)
class RangeRow:
    code: int
    first: int
    last: int
    capacity: int
    operator: str
    region: str
    territory: str = ""
    inn: str = ""


@dataclass
class RangeFile:
    name: str
    modified_at: datetime | None
    rows: list[RangeRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "FILE line N: reason", one per skipped line


def read_range_file(path: Path) -> RangeFile:
    """Every range of one registry file; ``InvalidInput`` if it is not such a file at all."""
    try:
        raw = path.read_bytes()
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as exc:
        raise InvalidInput(
            _("cannot read {file}: {problem}").format(file=path, problem=exc.strerror)
        ) from None
    lines = csv.reader(io.StringIO(_decode(raw), newline=""), delimiter=";")
    result = RangeFile(path.name, modified)
    columns: dict[str, int] | None = None
    for number, cells in enumerate(lines, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if columns is None:
            columns = _header(cells, path)
            continue
        try:
            result.rows.append(_range(cells, columns))
        except ValueError as exc:
            result.problems.append(f"{path.name} line {number}: {exc}")
    if columns is None:
        raise InvalidInput(_("{file}: empty file, expected the registry's header row").format(file=path))
    return result


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251", errors="replace")


def _header_key(cell: str) -> str | None:
    text = "".join(cell.casefold().replace("ё", "е").split())
    if "def" in text or "abc" in text or "авс" in text or "абс" in text:
        return "code"
    keys = {"от": "first", "до": "last", "инн": "inn"}
    if text in keys:
        return keys[text]
    for prefix, key in (("емкость", "capacity"), ("оператор", "operator"), ("регион", "region")):
        if text.startswith(prefix):
            return key
    return "territory" if text.startswith("территория") else None


def _header(cells: list[str], path: Path) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _header_key(cell)
        if key is not None and key not in columns:
            columns[key] = index
    missing = [key for key in _REQUIRED if key not in columns]
    if missing:
        raise InvalidInput(
            f"{path}: not a numbering-plan range file (its first row has no "
            f"{', '.join(_HEADER_WORDS[k] for k in missing)} column; expected "
            "АВС/ DEF;От;До;Емкость;Оператор;Регион)"
        )
    return columns


_HEADER_WORDS = {"code": "АВС/ DEF", "first": "От", "last": "До", "region": "Регион"}


def _range(cells: list[str], columns: dict[str, int]) -> RangeRow:
    if len(cells) <= max(columns.values()):
        raise ValueError(f"{len(cells)} fields, expected {max(columns.values()) + 1}")
    text = {key: cells[index].strip() for key, index in columns.items()}
    code = _digits(text["code"], "code", 3, exact=True)
    first = _digits(text["first"], "От", 7)
    last = _digits(text["last"], "До", 7)
    if first > last:
        raise ValueError(f"range {text['first']}-{text['last']} ends before it starts")
    capacity = _digits(text["capacity"], "Емкость", 8) if text.get("capacity") else last - first + 1
    return RangeRow(
        code,
        first,
        last,
        capacity,
        text.get("operator", "")[:255],
        text["region"][:255],
        text.get("territory", "")[:500],
        text.get("inn", "")[:20],
    )


def _digits(value: str, what: str, width: int, exact: bool = False) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > width or (exact and len(value) != width):
        size = f"{width} digits" if exact else f"up to {width} digits"
        raise ValueError(f"{what} {value!r} is not a number of {size}")
    number = int(value)
    if width == 7 and number > _MAX_SUBSCRIBER:
        raise ValueError(f"{what} {value!r} is out of range")
    return number
