"""Claiming due leads so that two dialer nodes never dial the same lead.

Portable by design (SQLite and PostgreSQL alike): a plain SELECT finds candidate
ids, then one conditional UPDATE per lead takes it only if it is still unclaimed
and dialable. The row count says who won; a loser simply moves on. No
``SELECT ... FOR UPDATE SKIP LOCKED``, no SQLite-only tricks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import DncEntry, Lead
from campaigns.retry import LeadStatus
from campaigns.store import session_scope
from dialer.gate import zones_of

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
    return (
        col(Lead.campaign_id).in_(list(campaign_ids)),
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
    claimed: list[ClaimedLead] = []
    with session_scope(store) as session:
        ids = session.exec(
            select(Lead.id).where(*_due([campaign_id], now)).order_by(col(Lead.id)).limit(limit)
        ).all()
        for lead_id in ids:
            result = session.execute(
                update(Lead)
                .where(col(Lead.id) == lead_id, *_due([campaign_id], now))
                .values(claimed_by=node, claimed_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another node was faster
            lead = session.get(Lead, lead_id)
            assert lead is not None and lead.id is not None
            claimed.append(
                ClaimedLead(
                    lead.id,
                    lead.campaign_id,
                    lead.phone,
                    zones_of(lead.time_zones),
                    lead.attempts,
                    dict(lead.data or {}),
                )
            )
    return claimed


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
    with Session(store) as session:
        rows = session.exec(
            select(DncEntry.phone).where(
                col(DncEntry.phone).in_(list(phones)),
                or_(col(DncEntry.campaign_id).is_(None), col(DncEntry.campaign_id) == campaign_id),
            )
        ).all()
        return set(rows)
