"""``dialer export attempts``: every call attempt of a campaign, oldest first.

Columns: ``lists.export_columns.ATTEMPTS``, then the lead's own columns asked for. Times are
shown in the chosen zone (by default each lead's own) with ``started_at_utc`` beside them.
Durations, in seconds, come from the attempt's timestamps:

- ``ring_s``: from the ringing signal (the dial, when none came) to the answer, or to the end
  of an unanswered call;
- ``wait_s``: from the answer to the operator's pick-up, or to the end when none picked up;
- ``talk_s``: from the operator's pick-up to the end;
- ``wrapup_s``: from the end to the disposition the operator recorded in the console.

A duration is empty when a timestamp it needs is missing. ``operator`` is the operator's name
(looked up by the queue interface the call reached); ``operator_interface`` is that interface.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from campaigns.service import find_campaign
from campaigns.tables import ATTEMPT_TABLE, LEAD_TABLE, OPERATOR_TABLE
from dialer.core.clock import aware
from dialer.core.errors import InvalidInput
from dialer.core.hangup_causes import cause_name
from lists.export import lead_value, original_columns
from lists.export_columns import ATTEMPTS, KEYS, text_column
from lists.export_format import ExportFormat, TimeChoice
from lists.export_writer import Table, write_csv

COLUMNS = KEYS["attempts"]
ALL = "all"
_FETCH = 5000


@dataclass(frozen=True)
class AttemptsRequest:
    campaign: str
    tz: TimeChoice = field(default_factory=TimeChoice)
    lead_columns: str = ""  # "all", or names separated by commas; empty: none


def export_attempts(store: Engine, campaign: str, out: TextIO, fmt: ExportFormat | None = None) -> int:
    """Write the campaign's attempts, oldest first, to ``out`` as CSV; the number of rows written."""
    return write_csv(attempts_table(store, AttemptsRequest(campaign)), out, fmt)


def attempts_table(store: Engine, request: AttemptsRequest) -> Table:
    """The attempts as a table whose rows are read from the store as they are written."""
    with Session(store) as session:
        campaign_id = find_campaign(session, request.campaign).id
    with store.connect() as conn:
        extra = pick_lead_columns(request.lead_columns, original_columns(conn, campaign_id))
        names = operator_names(conn)
    rows = _attempt_rows(store, campaign_id, extra, names, request.tz)
    return Table("attempts", [*ATTEMPTS, *map(text_column, extra)], rows)


def operator_names(conn: Connection) -> dict[str, str]:
    """Every operator's name by the queue interface calls reach them at."""
    rows = conn.execute(select(OPERATOR_TABLE.c.interface, OPERATOR_TABLE.c.name))
    return {row.interface: row.name for row in rows}


def pick_lead_columns(asked: str, available: Sequence[str]) -> list[str]:
    """``--lead-columns``: ``all``, or names of the campaign's imported columns (any letter case)."""
    wanted = [name.strip() for name in asked.split(",") if name.strip()]
    if wanted == [ALL]:
        return list(available)
    by_key = {name.casefold(): name for name in available}
    missing = [name for name in wanted if name.casefold() not in by_key]
    if missing:
        have = ", ".join(available[:12]) or "none"
        raise InvalidInput(
            f"--lead-columns: no column {missing[0][:40]!r} in the campaign's lists (they have: {have})"
        )
    return list(dict.fromkeys(by_key[name.casefold()] for name in wanted))


def _attempt_rows(
    store: Engine, campaign_id: int | None, extra: list[str], names: dict[str, str], tz: TimeChoice
) -> Iterator[list[object]]:
    a = ATTEMPT_TABLE.c
    query = (
        select(ATTEMPT_TABLE, LEAD_TABLE.c.time_zones, LEAD_TABLE.c.data)
        .join(LEAD_TABLE, LEAD_TABLE.c.id == a.lead_id, isouter=True)
        .where(a.campaign_id == campaign_id)
        .order_by(a.started_at, a.id)
    )
    with store.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=_FETCH).execute(query):
            zone_name, zone = tz.zone(row.time_zones)
            data: dict[str, Any] = row.data or {}
            yield [
                row.id,
                row.lead_id,
                row.phone,
                zone_name,
                _shown(row.started_at, zone),
                _shown(row.started_at, UTC),
                *(_shown(t, zone) for t in (row.ringing_at, row.answered_at, row.connected_at)),
                *(_shown(t, zone) for t in (row.ended_at, row.disposed_at)),
                *durations(row),
                row.outcome or "",
                row.hangup_cause,
                cause_name(row.hangup_cause),
                *operator_of(row.operator or "", names),
                row.disposition or "",
                row.note or "",
                *(lead_value(data.get(column)) for column in extra),
            ]


def operator_of(value: str, names: dict[str, str]) -> tuple[str, str]:
    """The operator's name and interface, from what the attempt recorded (an interface, or a name)."""
    if not value or value in names:
        return names.get(value, ""), value
    interface = next((i for i, name in names.items() if name == value), None)
    if interface is not None:
        return value, interface
    return value, value  # an operator since removed: the interface is all that is known


def durations(row: Any) -> tuple[float | None, float | None, float | None, float | None]:
    """Ring, wait, talk and wrap-up seconds of an attempt row (see the module's docstring)."""
    ringing = row.ringing_at if row.ringing_at is not None else row.started_at
    ring = _seconds(ringing, row.answered_at if row.answered_at is not None else row.ended_at)
    wait = None
    if row.answered_at is not None:
        wait = _seconds(row.answered_at, row.connected_at if row.connected_at is not None else row.ended_at)
    talk = _seconds(row.connected_at, row.ended_at)
    wrapup = _seconds(row.ended_at, row.disposed_at)
    return ring, wait, talk, wrapup


def _seconds(begin: datetime | None, end: datetime | None) -> float | None:
    if begin is None or end is None:
        return None
    return round(max(0.0, (aware(end) - aware(begin)).total_seconds()), 1)


def _shown(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return None if moment is None else aware(moment).astimezone(zone)
