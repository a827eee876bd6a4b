"""Lead export: a campaign's leads as CSV, with the columns they were imported with.

Fixed columns first (``lead_id``, ``phone``, ``status``, ``attempts``,
``last_outcome``, ``next_call_at``, ``time_zones``), then every original column under its own
header, in the order the lists were imported. Rows are streamed, so a large
campaign never sits in memory.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns.service import find_campaign
from campaigns.tables import LEAD_TABLE, LIST_TABLE
from dialer.core.clock import aware

LEAD_COLUMNS = ("lead_id", "phone", "status", "attempts", "last_outcome", "next_call_at", "time_zones")
_FETCH = 5000


def export_leads(store: Engine, campaign: str, out: TextIO) -> int:
    """Write the campaign's leads to ``out``; the number of leads written."""
    with Session(store) as session:
        campaign_id = find_campaign(session, campaign).id
    with store.connect() as conn:
        extra = _original_columns(conn, campaign_id)
        writer = csv.writer(out)
        writer.writerow([*LEAD_COLUMNS, *extra])
        query = (
            select(
                LEAD_TABLE.c.id,
                LEAD_TABLE.c.phone,
                LEAD_TABLE.c.status,
                LEAD_TABLE.c.attempts,
                LEAD_TABLE.c.last_outcome,
                LEAD_TABLE.c.next_call_at,
                LEAD_TABLE.c.time_zones,
                LEAD_TABLE.c.data,
            )
            .where(LEAD_TABLE.c.campaign_id == campaign_id)
            .order_by(LEAD_TABLE.c.id)
        )
        count = 0
        for row in conn.execution_options(stream_results=True, yield_per=_FETCH).execute(query):
            data: dict[str, Any] = row.data or {}
            writer.writerow(
                [
                    row.id,
                    row.phone,
                    row.status,
                    row.attempts,
                    row.last_outcome or "",
                    _utc(row.next_call_at),
                    row.time_zones,
                    *(_cell(data.get(name)) for name in extra),
                ]
            )
            count += 1
    return count


def _original_columns(conn: Any, campaign_id: int | None) -> list[str]:
    """The union of the imported lists' columns, first-seen order."""
    lists = conn.execute(
        select(LIST_TABLE.c.columns).where(LIST_TABLE.c.campaign_id == campaign_id).order_by(LIST_TABLE.c.id)
    ).scalars()
    seen: dict[str, None] = {}
    for columns in lists:
        seen.update(dict.fromkeys(columns or []))
    return list(seen)


def _utc(moment: datetime | None) -> str:
    """An instant as ISO 8601 UTC; empty when there is none (a lead never scheduled is due at once)."""
    return "" if moment is None else aware(moment).astimezone(UTC).isoformat()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
