"""Claiming due leads so that two dialer nodes never dial the same lead.

Portable by design (SQLite and PostgreSQL alike): plain SELECTs find candidate
ids, then one conditional UPDATE takes those of them that are still unclaimed and
dialable, stamping them with the node and the claim instant, and returns the rows it
won (RETURNING: SQLite 3.35 or newer). A lead another node took in between fails
the UPDATE's condition and is simply left out. Where the database has row locks
(PostgreSQL) the candidate SELECTs also skip rows another node is claiming at that
moment, so concurrent nodes take different leads instead of colliding on the oldest;
SQLite omits the clause. No SQLite-only tricks, at most three statements whatever the batch size.

Cost: each candidate SELECT reads one range of a partial index that holds only the
unclaimed dialable leads (``campaigns.models``: ``ix_lead_retry``, ``ix_lead_fresh``),
in the order it returns them, and stops after ``limit`` rows. So a claim costs the
same whatever the number of leads the store keeps, dialed or not, of this campaign
or another. That is why the order is by due instant and then by id, not by id
alone: "due, oldest id first" cannot be read off one index, and reading the leads
in id order means stepping over every one that is not due yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import col, select

from campaigns.models import DIALABLE, DncEntry
from campaigns.retry import LeadStatus
from campaigns.tables import LEAD_TABLE
from dialer.policy.gate import zones_of


@dataclass(frozen=True)
class ClaimedLead:
    """What the engine needs of a lead it holds, copied out of the session."""

    lead_id: int
    campaign_id: int
    phone: str
    zones: list[str]
    attempts: int
    data: dict[str, Any]


def _unclaimed(campaign_ids: Sequence[int]) -> tuple[ColumnElement[bool], ...]:
    """The terms of the claim indexes' condition, the statuses written into the SQL as literals."""
    lead = LEAD_TABLE.c
    statuses: BindParameter[list[str]] = bindparam(
        "dialable", list(DIALABLE), expanding=True, literal_execute=True, unique=True
    )
    ids = list(campaign_ids)
    campaign = lead.campaign_id == ids[0] if len(ids) == 1 else lead.campaign_id.in_(ids)
    return (campaign, lead.status.in_(statuses), lead.claimed_by.is_(None))


def _due_retries(campaign_ids: Sequence[int], now: datetime) -> Select[Any]:
    """Leads put off until an instant that has come (``ix_lead_retry``), the longest due first."""
    lead = LEAD_TABLE.c
    return core_select(lead.id).where(*_unclaimed(campaign_ids), lead.next_call_at <= now)


def _fresh(campaign_ids: Sequence[int]) -> Select[Any]:
    """Leads never put off (``ix_lead_fresh``), in list order."""
    lead = LEAD_TABLE.c
    return core_select(lead.id).where(*_unclaimed(campaign_ids), lead.next_call_at.is_(None))


def due_count(store: Engine, campaign_ids: Sequence[int], now: datetime) -> int:
    """Leads of these campaigns that could be dialed now (before window and DNC checks)."""
    if not campaign_ids:
        return 0
    with store.connect() as conn:
        return sum(
            int(conn.scalar(core_select(func.count()).select_from(query.subquery())) or 0)
            for query in (_due_retries(campaign_ids, now), _fresh(campaign_ids))
        )


def _in_claim_order(campaign_id: int, now: datetime) -> tuple[Select[Any], Select[Any]]:
    """The campaign's due retries by due instant, then its fresh leads by id: each an index's order.

    Reading in the index's own order is what lets a LIMIT stop early. Without it PostgreSQL
    may guess that matching leads are spread evenly over the table and scan it from the start.
    """
    lead = LEAD_TABLE.c
    return (
        _due_retries([campaign_id], now).order_by(lead.next_call_at, lead.id),
        _fresh([campaign_id]).order_by(lead.id),
    )


def has_due(store: Engine, campaign_ids: Sequence[int], now: datetime) -> bool:
    """Whether any lead of these campaigns could be dialed now: a few index entries read at most."""
    with store.connect() as conn:
        return any(
            conn.scalar(query.limit(1)) is not None
            for campaign_id in campaign_ids
            for query in _in_claim_order(campaign_id, now)
        )


def _candidates(conn: Connection, campaign_id: int, now: datetime, limit: int) -> list[int]:
    """Up to ``limit`` ids: due retries first, by due instant, then fresh leads by id."""
    ids: list[int] = []
    for query in _in_claim_order(campaign_id, now):
        if len(ids) < limit:
            # The LIMIT is written into the SQL: a prepared statement's generic plan that
            # cannot see it may guess a large share of the index and read it all.
            need: BindParameter[int] = bindparam("need", limit - len(ids), literal_execute=True, unique=True)
            ids += conn.scalars(query.limit(need).with_for_update(skip_locked=True)).all()
    return ids


def claim_due_leads(
    store: Engine, campaign_id: int, node: str, now: datetime, limit: int
) -> list[ClaimedLead]:
    """Take up to ``limit`` due leads of the campaign for ``node``: due retries first, then fresh leads."""
    if limit <= 0:
        return []
    lead = LEAD_TABLE.c
    with store.begin() as conn:
        ids = _candidates(conn, campaign_id, now, limit)
        if not ids:
            return []
        won = conn.execute(
            update(LEAD_TABLE)
            # By id alone (the candidates are this campaign's): naming the campaign here
            # would let SQLite walk all its dialable leads in ix_lead_due instead.
            .where(
                lead.id.in_(ids),
                lead.status.in_(DIALABLE),
                lead.claimed_by.is_(None),
                or_(lead.next_call_at.is_(None), lead.next_call_at <= now),
            )
            .values(claimed_by=node, claimed_at=now)
            .returning(lead.id, lead.campaign_id, lead.phone, lead.time_zones, lead.attempts, lead.data)
        ).all()
    rows = {row[0]: row for row in won}
    return [
        ClaimedLead(lead_id, cid, phone, zones_of(zones), attempts, dict(data or {}))
        for lead_id, cid, phone, zones, attempts, data in (rows[i] for i in ids if i in rows)
    ]


def release_claims(store: Engine, node: str) -> int:
    """Give back every lead ``node`` holds that is not in a call (after a stop or a crash)."""
    lead = LEAD_TABLE.c
    with store.begin() as conn:  # ix_lead_claimed: only the leads some node holds
        result = conn.execute(
            update(LEAD_TABLE)
            .where(lead.claimed_by == node, lead.status != LeadStatus.IN_CALL.value)
            .values(claimed_by=None, claimed_at=None)
        )
        return int(result.rowcount)


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
