"""Claiming due leads so that two dialer nodes never dial the same lead.

Portable by design (SQLite and PostgreSQL alike): plain SELECTs find candidate ids
(fresh leads off one partial index, due retries as ``claim_due_leads`` says; the lowest
ids kept), then one conditional UPDATE takes those of them that are still
unclaimed and dialable, stamping them with the node and the claim instant, and returns
the rows it won; once the due retries are marked (the usual case) the SELECTs are
subqueries of that UPDATE, and a claim is two statements (three when it marks retries
that fell due). A lead another node took in
between fails the UPDATE's condition and is simply left out. Where the database has row
locks (PostgreSQL) the candidate SELECTs also skip rows another node is claiming at that
moment, so concurrent nodes take different leads instead of colliding on the oldest;
SQLite omits the clause. No
SQLite-only tricks, two or three statements whatever the batch size or the store's (six
or seven for the few claims after many retries fell due at once).

The order is the leads' id order (their order in the list), as it always was: a lead's
place in the list decides when it is called, whether it was put off or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Update, bindparam, func, or_, union_all, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import col, select

from campaigns.models import DncEntry, Lead
from campaigns.retry import LeadStatus
from campaigns.store import session_scope
from campaigns.tables import LEAD_TABLE, LIST_TABLE
from dialer.policy.gate import zones_of

DIALABLE = (LeadStatus.NEW.value, LeadStatus.SCHEDULED.value)
# Newly due retries a claim marks at most, and retries its walk in id order passes at most
# while more fell due than it marks (_due_retries).
PROMOTE_WINDOW = 500
WALK_WINDOW = 1000


@dataclass(frozen=True)
class ClaimedLead:
    """What the engine needs of a lead it holds, copied out of the session."""

    lead_id: int
    campaign_id: int
    phone: str
    zones: list[str]
    attempts: int
    data: dict[str, Any]
    numbers: Any = None  # every number of a lead with several (campaigns.lead_numbers), else None
    turn: int = 0  # the position of the number this attempt dials first


def _whole_lists() -> ColumnElement[bool]:
    """A list still being imported is dialed only once whole (``lists.staging``); its leads are fresh."""
    importing = core_select(LIST_TABLE.c.id).where(LIST_TABLE.c.importing)
    return or_(LEAD_TABLE.c.list_id.is_(None), LEAD_TABLE.c.list_id.not_in(importing))


def due_count(store: Engine, campaign_ids: Sequence[int], now: datetime) -> int:
    """Leads of these campaigns that could be dialed now (before window and DNC checks).

    Two counts added up: the fresh leads off ``ix_lead_fresh`` and the due retries, marked
    or not, off ``ix_lead_due`` up to now, so the retries not due yet are never read.
    """
    if not campaign_ids:
        return 0
    lead = LEAD_TABLE.c
    statuses: BindParameter[list[str]] = bindparam(
        "dialable", list(DIALABLE), expanding=True, literal_execute=True, unique=True
    )
    unclaimed = (
        lead.campaign_id.in_(list(campaign_ids)),
        lead.status.in_(statuses),
        lead.claimed_by.is_(None),
    )
    fresh = core_select(func.count()).where(*unclaimed, lead.next_call_at.is_(None))
    due = core_select(func.count()).where(
        *unclaimed, lead.next_call_at.is_not(None), lead.next_call_at <= now
    )
    counts = [part.where(_whole_lists()).scalar_subquery() for part in (fresh, due)]
    with store.connect() as conn:
        return int(conn.scalar(core_select(counts[0] + counts[1])) or 0)


def _unclaimed(campaign_id: int | BindParameter[int]) -> tuple[ColumnElement[bool], ...]:
    """The claim indexes' condition, the statuses written into the SQL so a generic plan sees them."""
    lead = LEAD_TABLE.c
    statuses: BindParameter[list[str]] = bindparam(
        "dialable", list(DIALABLE), expanding=True, literal_execute=True, unique=True
    )
    return (lead.campaign_id == campaign_id, lead.status.in_(statuses), lead.claimed_by.is_(None))


def _limit(name: str, value: int) -> BindParameter[int]:
    """A LIMIT written into the SQL: a generic plan that cannot see it may guess a large share."""
    return bindparam(name, value, literal_execute=True, unique=True)


def _fresh(campaign_id: int | BindParameter[int], limit: int) -> Select[tuple[int]]:
    """The lowest ids of the campaign's fresh leads, off ``ix_lead_fresh`` in id order, locked."""
    lead = LEAD_TABLE.c
    fresh = core_select(lead.id).where(*_unclaimed(campaign_id), lead.next_call_at.is_(None), _whole_lists())
    return fresh.order_by(lead.id).limit(_limit("need", limit)).with_for_update(skip_locked=True)


def _ready() -> tuple[ColumnElement[bool], ...]:
    """``ix_lead_ready``'s condition past ``_unclaimed``: a retry marked due at its present instant."""
    lead = LEAD_TABLE.c
    return (lead.next_call_at.is_not(None), lead.ready_for == lead.next_call_at)


def _waiting() -> tuple[ColumnElement[bool], ...]:
    """``ix_lead_waiting``'s condition past ``_unclaimed``: a retry not marked due at its present instant."""
    lead = LEAD_TABLE.c
    return (
        lead.next_call_at.is_not(None),
        or_(lead.ready_for.is_(None), lead.ready_for != lead.next_call_at),
    )


def _claiming(ids: ColumnElement[bool]) -> Update:
    """The UPDATE that takes the leads ``ids`` picks that are still unclaimed, dialable and due."""
    lead = LEAD_TABLE.c
    now: BindParameter[datetime] = bindparam("now")
    return (
        update(LEAD_TABLE)
        .where(
            ids,
            lead.status.in_(DIALABLE),
            lead.claimed_by.is_(None),
            or_(lead.next_call_at.is_(None), lead.next_call_at <= now),
        )
        .values(claimed_by=bindparam("node"), claimed_at=now)
        .returning(*_RETURNED)
    )


_RETURNED = (
    LEAD_TABLE.c.id,
    LEAD_TABLE.c.campaign_id,
    LEAD_TABLE.c.phone,
    LEAD_TABLE.c.time_zones,
    LEAD_TABLE.c.attempts,
    LEAD_TABLE.c.data,
    LEAD_TABLE.c.numbers,
    LEAD_TABLE.c.phone_turn,
)


@cache
def _newly_due(window: int) -> Select[tuple[int]]:
    """Up to ``window`` retries of the campaign that fell due and are not marked yet.

    Read off ``ix_lead_waiting`` up to now, so neither the retries not due yet nor those
    marked before are read. Rows another node is marking or claiming are skipped (PostgreSQL).
    """
    lead = LEAD_TABLE.c
    waiting = (*_unclaimed(bindparam("campaign")), *_waiting(), lead.next_call_at <= bindparam("now"))
    found = core_select(lead.id).where(*waiting).limit(_limit("promote", window))
    return found.with_for_update(skip_locked=True)


def _promote(conn: Connection, values: dict[str, Any]) -> int:
    """Mark the retries that fell due since the last claim (at most ``PROMOTE_WINDOW``); how many.

    The mark is the due instant itself (``ready_for``): a retry given a new ``next_call_at``
    (called again, put off) is waiting again without anyone clearing it. The marking goes by
    the ids found (a subquery's guessed row count could lead a generic plan to a table scan).
    """
    lead = LEAD_TABLE.c
    found = list(conn.scalars(_newly_due(PROMOTE_WINDOW), values))
    if found:
        conn.execute(update(LEAD_TABLE).where(lead.id.in_(found)).values(ready_for=lead.next_call_at))
    return len(found)


@cache
def _steady_claim(limit: int) -> Update:
    """The whole claim once every due retry is marked: one statement.

    The ``limit`` lowest ids of the fresh leads (``ix_lead_fresh``) and of the marked retries
    (``ix_lead_ready``), each read in id order and locked, the lowest ``limit`` of both taken
    by id. No due test on the marked ones (a due range would lead the planner away from the
    id order): the marks are due instants already passed, and the UPDATE checks each again.
    """
    lead = LEAD_TABLE.c
    campaign: BindParameter[int] = bindparam("campaign")
    fresh = _fresh(campaign, limit).subquery("fresh")
    ready = core_select(lead.id).where(*_unclaimed(campaign), *_ready()).order_by(lead.id)
    marked = ready.limit(_limit("need", limit)).with_for_update(skip_locked=True).subquery("marked")
    due = union_all(core_select(fresh.c.id), core_select(marked.c.id)).subquery("due")
    lowest = core_select(due.c.id).order_by(due.c.id).limit(_limit("need", limit))
    return _claiming(lead.id.in_(lowest))


def _drain_candidates(conn: Connection, campaign_id: int, now: datetime, limit: int) -> list[int]:
    """The ``limit`` lowest due ids while more retries fell due at once than one claim marks.

    Until the marks catch up (a paused campaign resumed, say), ``_walk`` looks for the
    lowest due ids in id order; where it does not find enough within its window, the due
    range is read whole and sorted. The lowest ids of those found are then locked by id,
    and the fresh leads' lowest are read as always.
    """
    lead = LEAD_TABLE.c
    ids: list[int] = list(conn.scalars(_fresh(campaign_id, limit)))
    found = _walk(conn, campaign_id, now, limit)
    if len(found) < limit:
        due = (*_unclaimed(campaign_id), lead.next_call_at.is_not(None), lead.next_call_at <= now)
        # Sorted by ``id + 0``: by ``id`` itself a generic plan may walk the primary key.
        lowest = core_select(lead.id).where(*due).order_by(lead.id + 0).limit(_limit("need", limit))
        found = list(conn.scalars(lowest))
    if found:
        # By id alone (the UPDATE checks again that each is due), still unclaimed under the lock.
        pick = core_select(lead.id).where(lead.id.in_(found), *_unclaimed(campaign_id)[1:])
        pick = pick.order_by(lead.id).limit(_limit("need", limit)).with_for_update(skip_locked=True)
        ids += conn.scalars(pick)
    return sorted(ids)[:limit]


def _walk(conn: Connection, campaign_id: int, now: datetime, limit: int) -> list[int]:
    """The lowest due ids among the first ``WALK_WINDOW`` retries in id order (``ix_lead_retry_id``).

    The window is a LIMIT inside, the due test outside: the read stops after ``limit`` due
    retries or the window, whichever comes first, however the planner guesses how many are due.
    The outer query takes the rows in the order the inner one gives them (an outer ORDER BY
    makes SQLite read the whole window to sort it); ``tests/test_claim_plans.py`` checks that
    both stores read the index in id order and sort nothing.
    """
    lead = LEAD_TABLE.c
    retries = (
        core_select(lead.id, lead.next_call_at)
        .where(*_unclaimed(campaign_id), lead.next_call_at.is_not(None))
        .order_by(lead.id)
        .limit(_limit("walk", WALK_WINDOW))
        .subquery("walked")
    )
    walked = retries.c
    first = core_select(walked.id).where(walked.next_call_at <= now)
    return list(conn.scalars(first.limit(_limit("need", limit))))


def claim_due_leads(
    store: Engine, campaign_id: int, node: str, now: datetime, limit: int
) -> list[ClaimedLead]:
    """Take up to ``limit`` due leads of the campaign for ``node``, oldest (lowest id) first.

    First the retries that fell due since the last claim are marked (``_promote``). Fewer
    than its window: every due retry is marked, and one statement claims the lowest ids of
    the fresh leads and the marked retries, whatever number of retries not due yet come
    before them in the list (``_steady_claim``). As many: more fell due at once than a
    claim marks, and the candidates are found as ``_drain_candidates`` says, then claimed
    by id. Either way the claiming UPDATE returns the rows it won (RETURNING: SQLite 3.35
    or newer) and checks again that each is unclaimed, dialable and due.
    """
    if limit <= 0:
        return []
    lead = LEAD_TABLE.c
    values = {"campaign": campaign_id, "now": now, "node": node}
    with store.begin() as conn:
        if _promote(conn, values) < PROMOTE_WINDOW:
            won = conn.execute(_steady_claim(limit), values).all()
        else:
            ids = _drain_candidates(conn, campaign_id, now, limit)
            if not ids:
                return []
            won = conn.execute(_claiming(lead.id.in_(ids)), values).all()
    return [
        ClaimedLead(lead_id, cid, phone, zones_of(zones), attempts, dict(data or {}), numbers, turn or 0)
        for lead_id, cid, phone, zones, attempts, data, numbers, turn in sorted(won, key=lambda row: row[0])
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
