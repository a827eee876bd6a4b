"""The console's event feed: rows with a growing id that tell consoles where to look.

The engine writes one in the transaction that records what happened: an operator connected to a
customer, that call ended, a queue member's state changed. Each row is only a pointer; a console
reads the facts themselves from the store, so a missed or repeated event costs nothing. On
PostgreSQL the same transaction sends a NOTIFY, so consoles on other nodes wake at once; on any
store a console may also simply watch the highest id.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from campaigns.models import ConsoleEvent, utcnow

EVENT_TABLE: Table = ConsoleEvent.__table__  # type: ignore[attr-defined]
CHANNEL = "dialer_console"
CONNECTED = "connected"
ENDED = "ended"
STATE = "state"
DISPOSED = "disposed"  # a wrap-up expired and its default code was recorded


def write_events(conn: Connection, events: Sequence[tuple[str, str, str | None]]) -> None:
    """Append (kind, subject, attempt id) rows inside the caller's transaction."""
    if not events:
        return
    at = utcnow()
    conn.execute(
        insert(EVENT_TABLE),
        [{"at": at, "kind": kind, "subject": subject[:200], "attempt_id": a} for kind, subject, a in events],
    )
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def last_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(EVENT_TABLE.c.id), 0))).scalar_one())


def events_after(conn: Connection, after: int, limit: int = 500) -> list[tuple[int, str, str, str | None]]:
    rows = conn.execute(
        select(EVENT_TABLE.c.id, EVENT_TABLE.c.kind, EVENT_TABLE.c.subject, EVENT_TABLE.c.attempt_id)
        .where(EVENT_TABLE.c.id > after)
        .order_by(EVENT_TABLE.c.id)
        .limit(limit)
    ).all()
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


def listen(store: Engine, woken: Callable[[], None], stop: threading.Event) -> bool:
    """On PostgreSQL, call ``woken`` on each NOTIFY of the feed until ``stop`` is set (blocking).

    Returns False at once on any other store, or when the connection drops: the caller's wait
    loop on the feed's id goes on regardless, so a lost listener only costs latency.
    """
    if store.dialect.name != "postgresql":
        return False
    try:
        raw = store.raw_connection()
    except Exception:
        return False
    try:
        driver: Any = raw.driver_connection
        driver.autocommit = True
        driver.execute(f"LISTEN {CHANNEL}")
        while not stop.is_set():
            for _ in driver.notifies(timeout=1.0, stop_after=1):
                woken()
    except Exception:
        return False
    finally:
        raw.invalidate()  # LISTEN state must not go back to the pool
    return True
