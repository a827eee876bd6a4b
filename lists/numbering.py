"""The numbering plan in the store: load the registry's files, say what is loaded, look numbers up.

Loading replaces every range in one transaction, so a failed or interrupted
load leaves the previous plan in place, never half of a new one. Look-ups go
code by code: the first number of a code reads that code's ranges once through
the ``(code, first)`` index, and every later number of the code is a binary
search in memory. Number portability in Russia keeps a number inside its
region, so a range's region stays right after the number changes operator.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.engine import Connection, Engine

from campaigns.models import NumberingFile, NumberingRange, utcnow
from dialer.core.errors import InvalidInput
from dialer.core.i18n import _
from lists.numbering_file import RangeFile, read_range_file
from lists.ru_regions import subject_zones

RANGE_TABLE: Table = NumberingRange.__table__  # type: ignore[attr-defined]
FILE_TABLE: Table = NumberingFile.__table__  # type: ignore[attr-defined]
_BATCH = 10_000
_RU_NUMBER_LENGTH = 12  # +7 and ten digits


@dataclass(frozen=True)
class LoadedFile:
    name: str
    rows: int
    skipped: int
    modified_at: datetime | None
    loaded_at: datetime


@dataclass(frozen=True)
class NumberingLoad:
    files: list[LoadedFile]
    problems: list[str]  # every skipped line, "FILE line N: reason"
    unknown_regions: list[str]  # region names no time zone is known for, as the files spell them

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def load_numbering(engine: Engine, paths: Sequence[Path]) -> NumberingLoad:
    """Replace the loaded plan with these files' ranges; ``InvalidInput`` leaves the old plan as it was."""
    if not paths:
        raise InvalidInput(_("name at least one registry file (ABC-3xx.csv, DEF-9xx.csv ...)"))
    parsed = [read_range_file(path) for path in paths]
    if not any(f.rows for f in parsed):
        detail = f" ({parsed[0].problems[0]})" if parsed[0].problems else ""
        raise InvalidInput(
            _("no range could be read from {files}{detail}").format(
                files=", ".join(map(str, paths)), detail=detail
            )
        )
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(delete(RANGE_TABLE))
        conn.execute(delete(FILE_TABLE))
        for ranges in parsed:
            _insert_ranges(conn, ranges)
            conn.execute(
                insert(FILE_TABLE).values(
                    name=ranges.name[:255],
                    rows=len(ranges.rows),
                    skipped=len(ranges.problems),
                    modified_at=ranges.modified_at,
                    loaded_at=now,
                )
            )
    files = [LoadedFile(f.name, len(f.rows), len(f.problems), f.modified_at, now) for f in parsed]
    regions = sorted({row.region for f in parsed for row in f.rows if not subject_zones(row.region)})
    return NumberingLoad(files, [p for f in parsed for p in f.problems], regions)


def _insert_ranges(conn: Connection, ranges: RangeFile) -> None:
    rows = [asdict(row) for row in ranges.rows]
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert(RANGE_TABLE), rows[start : start + _BATCH])


def numbering_status(engine: Engine) -> list[LoadedFile]:
    """The files the loaded plan came from, in load order; empty when none is loaded."""
    with engine.connect() as conn:
        result = conn.execute(select(FILE_TABLE).order_by(FILE_TABLE.c.id))
        return [LoadedFile(row.name, row.rows, row.skipped, row.modified_at, row.loaded_at) for row in result]


def loaded_ranges(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(RANGE_TABLE)).scalar_one())


class NumberingPlan:
    """Region and time zones of Russian numbers from the loaded plan, read through one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._codes: dict[int, tuple[list[int], list[int], list[str]]] = {}
        self.loaded = conn.execute(select(RANGE_TABLE.c.id).limit(1)).first() is not None

    def region(self, e164: str) -> str | None:
        """The region the plan gives a +7 number; None if no loaded range holds it."""
        if not self.loaded or len(e164) != _RU_NUMBER_LENGTH or not e164.startswith("+7"):
            return None
        code, subscriber = int(e164[2:5]), int(e164[5:])
        firsts, lasts, regions = self._ranges(code)
        at = bisect_right(firsts, subscriber) - 1
        if at < 0 or lasts[at] < subscriber:
            return None
        return regions[at]

    def zones(self, e164: str) -> tuple[str, ...]:
        """The zones of the number's region; empty when the plan does not know it or its region."""
        region = self.region(e164)
        return subject_zones(region) if region else ()

    def _ranges(self, code: int) -> tuple[list[int], list[int], list[str]]:
        cached = self._codes.get(code)
        if cached is None:
            result = self._conn.execute(
                select(RANGE_TABLE.c.first, RANGE_TABLE.c.last, RANGE_TABLE.c.region)
                .where(RANGE_TABLE.c.code == code)
                .order_by(RANGE_TABLE.c.first)
            ).all()
            cached = ([r.first for r in result], [r.last for r in result], [r.region for r in result])
            self._codes[code] = cached
        return cached
