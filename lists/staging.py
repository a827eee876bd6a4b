"""A lead list imported in small committed batches, dialable only once it is whole.

A big import in one transaction holds SQLite's single writer lock for minutes, so the dial
engine's own writes (an answer, a hand-off) wait behind it. Instead:

1. ``open_batch`` creates the list row with ``importing`` set (one short transaction);
2. ``write_batch`` stores a few thousand leads per transaction: it looks up which of their
   numbers the campaign already has (the (campaign, phone) unique index does the dedupe, so no
   set of every number is kept in memory) and inserts the rest with ON CONFLICT DO NOTHING;
3. ``release`` clears ``importing`` in one one-row update: the whole list becomes dialable at
   once. The claim queries (``dialer.store.claims``) skip leads of a list still importing.

A failed import deletes its leads (``discard``). One that crashed is found by the next import
or service start (``clean_abandoned``): its owner process is gone, or it gave no sign of life
for ``STALE_S``; its leads are deleted, so a crash leaves nothing dialable and nothing behind.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from campaigns.models import utcnow
from campaigns.tables import LEAD_TABLE, LIST_TABLE
from dialer.core.clock import aware

STALE_S = 600.0  # an import silent this long is taken as dead, whoever ran it
_DELETE_BATCH = 5_000
_LOOKUP_SLICE = 500  # bound parameters per IN (...) lookup


def owner() -> str:
    """This process, as written on the lists it imports: ``host:pid``."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def open_batch(store: Engine, campaign_id: int, name: str, columns: list[str]) -> int:
    """A new list, not dialable yet; returns its id."""
    now = utcnow()
    with store.begin() as conn:
        result = conn.execute(
            insert(LIST_TABLE).values(
                campaign_id=campaign_id,
                name=name[:255],
                columns=columns,
                imported_at=now,
                importing=True,
                import_owner=owner(),
                import_seen_at=now,
            )
        )
        key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def known_phones(
    conn: Connection, campaign_id: int, phones: Iterable[str]
) -> dict[str, tuple[int | None, int | None]]:
    """Which of ``phones`` the campaign has: phone -> (its list, its row in that list's file)."""
    wanted = list(phones)
    lead = LEAD_TABLE.c
    found: dict[str, tuple[int | None, int | None]] = {}
    for start in range(0, len(wanted), _LOOKUP_SLICE):
        rows = conn.execute(
            select(lead.phone, lead.list_id, lead.import_row).where(
                lead.campaign_id == campaign_id, lead.phone.in_(wanted[start : start + _LOOKUP_SLICE])
            )
        )
        for phone, list_id, row in rows:
            found[phone] = (list_id, row)
    return found


def alive(conn: Connection, list_id: int) -> None:
    """A sign of life for ``clean_abandoned``, written with each batch."""
    conn.execute(update(LIST_TABLE).where(LIST_TABLE.c.id == list_id).values(import_seen_at=utcnow()))


def release(store: Engine, list_id: int, values: dict[str, Any]) -> None:
    """Make the whole list dialable at once (one row), recording ``values`` (its counts) on it."""
    with store.begin() as conn:
        conn.execute(
            update(LIST_TABLE)
            .where(LIST_TABLE.c.id == list_id)
            .values(importing=False, import_owner=None, import_seen_at=None, **values)
        )


def discard(store: Engine, list_id: int) -> int:
    """Delete a list still importing and its leads, a few thousand per transaction."""
    removed = 0
    while True:
        with store.begin() as conn:
            ids = list(
                conn.scalars(
                    select(LEAD_TABLE.c.id).where(LEAD_TABLE.c.list_id == list_id).limit(_DELETE_BATCH)
                )
            )
            if not ids:
                conn.execute(delete(LIST_TABLE).where(LIST_TABLE.c.id == list_id, LIST_TABLE.c.importing))
                return removed
            conn.execute(delete(LEAD_TABLE).where(LEAD_TABLE.c.id.in_(ids)))
            removed += len(ids)


def clean_abandoned(store: Engine) -> list[int]:
    """Discard the lists whose import died (owner gone on this host, or silent for ``STALE_S``)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(LIST_TABLE.c.id, LIST_TABLE.c.import_owner, LIST_TABLE.c.import_seen_at).where(
                LIST_TABLE.c.importing
            )
        ).all()
    dead = [list_id for list_id, who, seen in rows if _abandoned(who, seen)]
    for list_id in dead:
        discard(store, list_id)
    return dead


def _abandoned(who: str | None, seen: Any) -> bool:
    if seen is None or (utcnow() - aware(seen)) > timedelta(seconds=STALE_S):
        return True
    host, _, pid = (who or "").rpartition(":")
    if host != socket.gethostname()[:80] or not pid.isdigit():
        return False  # another machine's import: only its silence tells
    if int(pid) == os.getpid():
        return False  # this process: an import running on another thread
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
