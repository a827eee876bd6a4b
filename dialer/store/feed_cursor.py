"""Following the console's event feed so that no committed event is passed over.

On PostgreSQL a row's id comes from a sequence when it is inserted, not when its transaction
commits: with two writers (two engine nodes, or an engine and a console) id N may commit after
N+1 has already been read. A reader that only asks for "ids above the highest seen" would never
see N. So the ids missing below the highest id read are kept as *gaps* and watched for
``GAP_HOLD_S``: a gap is an id whose transaction is still open, or one that was rolled back and
will never appear. The engine's and the console's transactions that write events last well under
a second; a transaction still open after ``GAP_HOLD_S`` is taken as gone, and its event (should
it commit after all) is still delivered as long as a gap below it is watched, else the page learns
of it at the next event that wakes it.

While there are no gaps the cheap look is the old one: is there any row above the highest id read.
With gaps it is one count over the ids from the lowest gap up (at most ``GAP_HOLD_S`` worth of
events), compared with the number of rows read there: a gap filled changes it. Only on a change
are the events read. SQLite has one writer at a time, so its ids commit in order and no gaps are
kept there (an id rolled back is given again to the next row).

A reader that starts (a console started or restarted) begins at the highest committed id; a
transaction that took its id before that and commits a moment later would be below the start. So
on PostgreSQL the ids missing in the ``START_WINDOW`` ids below the start are awaited as gaps too,
for the same hold (one read of that window's ids at the start; nothing on SQLite).
"""

from __future__ import annotations

import bisect
import contextlib
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Engine

from dialer.store.console_events import EVENT_TABLE, last_event_id

# How long an id missing below the highest id read is watched for its late commit, in seconds.
GAP_HOLD_S = 30.0
# The most events delivered by one read beyond those already seen; the rest come at the next look.
READ_LIMIT = 500
# The most ids awaited below one read's newest: a sequence that jumped (after a crash PostgreSQL may
# skip a few dozen values) must not make the look count a long stretch of the feed.
GAP_LIMIT = 1000
# The ids below a reader's starting id that are awaited as gaps: those of transactions still open at
# the start. Events are written in transactions that last well under a second, so only ids taken in
# the last second can commit after the start: far fewer than 200, even for a large busy team.
START_WINDOW = 200
Event = tuple[int, str, str, str | None]


class FeedCursor:
    """Where one reader is in the feed: the highest id delivered, and the gaps below it.

    One thread at a time. ``changed`` is the cheap look (through the driver's cursor, on a
    connection of its own); ``take`` reads and returns the events not delivered before."""

    def __init__(
        self, store: Engine, hold_s: float = GAP_HOLD_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._hold_s = hold_s
        self._clock = clock
        self._gaps_kept = store.dialect.name != "sqlite"
        self._raw: Any = None
        table = EVENT_TABLE.c
        newest = select(func.max(table.id))
        look = select(func.max(table.id), func.count()).where(table.id >= bindparam("floor"))
        self._newest_sql = str(newest.compile(dialect=store.dialect))
        compiled = look.compile(dialect=store.dialect)
        self._look_sql, self._look_positional = str(compiled), compiled.positional
        self.cursor = 0
        self.gaps: dict[int, float] = {}  # missing id -> when to stop watching it
        self._seen: list[int] = []  # ids delivered from the lowest gap up (sorted); empty without gaps

    @property
    def floor(self) -> int:
        return min(self.gaps) if self.gaps else self.cursor + 1

    def start(self) -> int:
        """Follow from the feed's highest committed id on, and return it. On PostgreSQL the ids
        missing in the ``START_WINDOW`` below it are awaited as gaps for the hold: a transaction
        that took its id before the start may commit after it. There it is one statement, so the
        highest id and the ids present below it are read at one moment; on SQLite the highest id."""
        table = EVENT_TABLE.c
        with self._store.connect() as conn:
            if not self._gaps_kept:
                self._begin(last_event_id(conn), [])
                return self.cursor
            newest = select(func.max(table.id)).scalar_subquery()
            window = select(table.id).where(table.id >= newest - START_WINDOW).order_by(table.id)
            present = list(conn.execute(window).scalars())
        self._begin(present[-1] if present else 0, present)
        return self.cursor

    def start_at(self, cursor: int) -> None:
        """Follow from ``cursor`` on, an id read before: as ``start``, with the ids present below it
        read now (one read of the window, on PostgreSQL only)."""
        low = max(1, cursor - START_WINDOW)
        if not self._gaps_kept or low >= cursor:
            self._begin(cursor, [])
            return
        table = EVENT_TABLE.c
        with self._store.connect() as conn:
            present = list(
                conn.execute(
                    select(table.id).where(table.id >= low, table.id <= cursor).order_by(table.id)
                ).scalars()
            )
        self._begin(cursor, present)

    def _begin(self, cursor: int, present: list[int]) -> None:
        """Start at ``cursor`` with ``present`` (sorted) the ids found below it: on PostgreSQL the
        others in the window are gaps."""
        self.cursor, self.gaps, self._seen = cursor, {}, []
        low = max(1, cursor - START_WINDOW)
        if not self._gaps_kept or low >= cursor:
            return
        until, found = self._clock() + self._hold_s, set(present)
        self.gaps = {missing: until for missing in range(low, cursor) if missing not in found}
        floor = self.floor
        self._seen = [i for i in present if floor <= i <= cursor] if self.gaps else []

    def read(self) -> int:
        """The feed's highest id (committed rows only)."""
        row = self._fetch(self._newest_sql, None)
        return int(row[0] or 0) if row else 0

    def changed(self) -> bool:
        """Whether the feed holds an event not delivered yet (a new one, or a gap filled)."""
        self._expire()
        floor = self.floor
        row = self._fetch(self._look_sql, (floor,) if self._look_positional else {"floor": floor})
        newest, count = (int(row[0] or 0), int(row[1])) if row else (0, 0)
        return newest > self.cursor or count != len(self._seen)

    def take(self) -> list[Event]:
        """The events not delivered before, in id order; the gaps and the cursor move on."""
        events, ids = self.peek()
        self.move_on(ids)
        return events

    def peek(self) -> tuple[list[Event], list[int]]:
        """The events not delivered before, and every id read (for ``move_on`` once they are
        handled: a reader that fails in between reads them again)."""
        floor, seen = self.floor, set(self._seen)
        limit = len(self._seen) + len(self.gaps) + READ_LIMIT
        with self._store.connect() as conn:
            rows = conn.execute(
                select(EVENT_TABLE.c.id, EVENT_TABLE.c.kind, EVENT_TABLE.c.subject, EVENT_TABLE.c.attempt_id)
                .where(EVENT_TABLE.c.id >= floor)
                .order_by(EVENT_TABLE.c.id)
                .limit(limit)
            ).all()
        events = [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]
        return [e for e in events if e[0] not in seen], [e[0] for e in events]

    def move_on(self, ids: list[int]) -> None:
        """After a read of ``ids`` (sorted, from the floor up): new gaps, filled gaps, new cursor."""
        for found in ids:
            self.gaps.pop(found, None)
        newest = max(ids[-1], self.cursor) if ids else self.cursor
        if self._gaps_kept and newest > self.cursor + 1:
            present, until = set(ids), self._clock() + self._hold_s
            for missing in range(max(self.cursor + 1, newest - GAP_LIMIT), newest):
                if missing not in present:
                    self.gaps[missing] = until
        self.cursor = newest
        floor = self.floor
        self._seen = ids[bisect.bisect_left(ids, floor) :] if self.gaps else []

    def _expire(self) -> None:
        now = self._clock()
        for gap in [gap for gap, until in self.gaps.items() if until <= now]:
            del self.gaps[gap]
        floor = self.floor
        self._seen = self._seen[bisect.bisect_left(self._seen, floor) :] if self.gaps else []

    def _fetch(self, sql: str, params: Any) -> Any:
        if self._raw is None:
            self._raw = self._store.raw_connection()
        try:
            cursor = self._raw.cursor()
            try:
                cursor.execute(sql) if params is None else cursor.execute(sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
            self._raw.rollback()  # no transaction left open: the next look sees every commit
        except Exception:
            self.close(broken=True)
            raise
        return row

    def close(self, broken: bool = False) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.invalidate() if broken else raw.close()
