"""Lead export: a campaign's leads, with the columns they were imported with.

Fixed columns first (``lists.export_columns.LEADS``), then every original column under its own
header, in the order the lists were imported. Rows are streamed, so a large campaign never
sits in memory. ``leads_table`` gives the rows; ``lists.export_writer`` writes them as CSV or XLSX.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from campaigns.service import find_campaign
from campaigns.tables import LEAD_TABLE, LIST_TABLE
from dialer.core.clock import aware
from lists.export_columns import KEYS, LEADS, text_column
from lists.export_format import ExportFormat, TimeChoice
from lists.export_writer import Table, write_csv

LEAD_COLUMNS = KEYS["leads"]
_FETCH = 5000


def export_leads(
    store: Engine, campaign: str, out: TextIO, fmt: ExportFormat | None = None, tz: TimeChoice | None = None
) -> int:
    """Write the campaign's leads to ``out`` as CSV; the number of leads written."""
    return write_csv(leads_table(store, campaign, tz or TimeChoice()), out, fmt)


def leads_table(store: Engine, campaign: str, tz: TimeChoice) -> Table:
    """The campaign's leads as a table whose rows are read from the store as they are written."""
    with Session(store) as session:
        campaign_id = find_campaign(session, campaign).id
    with store.connect() as conn:
        extra = original_columns(conn, campaign_id)
    return Table("leads", [*LEADS, *map(text_column, extra)], _lead_rows(store, campaign_id, extra, tz))


def _lead_rows(
    store: Engine, campaign_id: int | None, extra: list[str], tz: TimeChoice
) -> Iterator[list[object]]:
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
    with store.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=_FETCH).execute(query):
            data: dict[str, Any] = row.data or {}
            name, zone = tz.zone(row.time_zones)
            next_call = None if row.next_call_at is None else aware(row.next_call_at)
            yield [
                row.id,
                row.phone,
                row.status,
                row.attempts,
                row.last_outcome or "",
                name,
                None if next_call is None else next_call.astimezone(zone),
                None if next_call is None else next_call.astimezone(UTC),
                row.time_zones,
                *(lead_value(data.get(column)) for column in extra),
            ]


def original_columns(conn: Connection, campaign_id: int | None) -> list[str]:
    """The union of the imported lists' columns, first-seen order."""
    lists = conn.execute(
        select(LIST_TABLE.c.columns).where(LIST_TABLE.c.campaign_id == campaign_id).order_by(LIST_TABLE.c.id)
    ).scalars()
    seen: dict[str, None] = {}
    for columns in lists:
        seen.update(dict.fromkeys(columns or []))
    return list(seen)


def lead_value(value: Any) -> str:
    """A lead's cell as text, exactly as imported; empty when the lead's list had no such column."""
    return "" if value is None else str(value)
