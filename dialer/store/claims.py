"""Claiming due leads so that two dialer nodes never dial the same lead.

Portable by design (SQLite and PostgreSQL alike): a plain SELECT finds candidate
ids, then one conditional UPDATE takes those of them that are still unclaimed and
dialable, stamping them with the node and the claim instant; a SELECT of the rows
carrying that stamp says which were won. A lead another node took in between fails
the UPDATE's condition and is simply left out. Where the database has row locks
(PostgreSQL) the candidate SELECT also skips rows another node is claiming at that
moment, so concurrent nodes take different leads instead of colliding on the oldest;
SQLite omits the clause. No SQLite-only tricks, three statements whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import DncEntry, Lead
from campaigns.retry import LeadStatus
from campaigns.store import session_scope
from campaigns.tables import LEAD_TABLE, LIST_TABLE
from dialer.policy.gate import zones_of

DIALABLE = (LeadStatus.NEW.value, LeadStatus.SCHEDULED.value)


@dataclass(frozen=True)
class ClaimedLead:
    """What the engine needs of a lead it holds, copied out of the session."""

    lead_id: int
    campaign_id: int
    phone: str
    zones: list[str]
    attempts: int
    data: dict[str, Any]


def _due(campaign_ids: Sequence[int], now: datetime) -> Any:
    importing = core_select(LIST_TABLE.c.id).where(LIST_TABLE.c.importing)
    return (
        col(Lead.campaign_id).in_(list(campaign_ids)),
        # A list still being imported is dialed only once whole (lists.staging).
        or_(col(Lead.list_id).is_(None), col(Lead.list_id).not_in(importing)),
        col(Lead.status).in_(DIALABLE),
        col(Lead.claimed_by).is_(None),
        or_(col(Lead.next_call_at).is_(None), col(Lead.next_call_at) <= now),
    )


def due_count(store: Engine, campaign_ids: Sequence[int], now: datetime) -> int:
    """Leads of these campaigns that could be dialed now (before window and DNC checks)."""
    if not campaign_ids:
        return 0
    with Session(store) as session:
        return int(session.exec(select(func.count()).select_from(Lead).where(*_due(campaign_ids, now))).one())


def claim_due_leads(
    store: Engine, campaign_id: int, node: str, now: datetime, limit: int
) -> list[ClaimedLead]:
    """Take up to ``limit`` due leads of the campaign for ``node``, oldest first."""
    if limit <= 0:
        return []
    lead = LEAD_TABLE.c
    with store.begin() as conn:
        ids = list(
            conn.scalars(
                core_select(lead.id)
                .where(*_due([campaign_id], now))
                .order_by(lead.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
        )
        if not ids:
            return []
        conn.execute(
            update(LEAD_TABLE)
            .where(lead.id.in_(ids), *_due([campaign_id], now))
            .values(claimed_by=node, claimed_at=now)
        )
        # The candidates were unclaimed when read, so those now stamped with this
        # node and this instant are exactly the ones this UPDATE won.
        rows = conn.execute(
            core_select(lead.id, lead.campaign_id, lead.phone, lead.time_zones, lead.attempts, lead.data)
            .where(lead.id.in_(ids), lead.claimed_by == node, lead.claimed_at == now)
            .order_by(lead.id)
        ).all()
    return [
        ClaimedLead(lead_id, cid, phone, zones_of(zones), attempts, dict(data or {}))
        for lead_id, cid, phone, zones, attempts, data in rows
    ]


def release_claims(store: Engine, node: str) -> int:
    """Give back every lead ``node`` holds that is not in a call (after a stop or a crash)."""
    with session_scope(store) as session:
        result = session.execute(
            update(Lead)
            .where(col(Lead.claimed_by) == node, col(Lead.status) != LeadStatus.IN_CALL.value)
            .values(claimed_by=None, claimed_at=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def dnc_phones(store: Engine, campaign_id: int, phones: Sequence[str]) -> set[str]:
    """Which of ``phones`` are on the global or this campaign's do-not-call list, right now."""
    if not phones:
        return set()
    with store.connect() as conn:
        rows = conn.scalars(
            select(DncEntry.phone).where(
                col(DncEntry.phone).in_(list(phones)),
                or_(col(DncEntry.campaign_id).is_(None), col(DncEntry.campaign_id) == campaign_id),
            )
        ).all()
        return set(rows)
