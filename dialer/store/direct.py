"""Calls for one operator in the store: due callbacks and operators' requests, taken by one node.

Taking one is a single transaction: the lead is claimed for the node (conditionally: free, or
held by the operator's own preview reservation), the callback or request is marked with the new
attempt id (conditionally: not yet taken), and the attempt row is inserted. Two nodes never
take the same one, and a crash leaves either all of it or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Callback, ConsoleSetting, DirectCall, Lead, Operator
from campaigns.retry import LeadStatus
from campaigns.store import session_scope
from campaigns.tables import LEAD_TABLE, table_of
from dialer.core.clock import aware, to_dt
from dialer.policy.direct import CallbackDue
from dialer.policy.gate import zones_of
from dialer.store.claims import ClaimedLead
from dialer.store.recorder import Fenced, Placement, check_fence

CALLBACK, PREVIEW, MANUAL = "callback", "preview", "manual"
DEFAULT_RELEASE_S = ConsoleSetting.model_fields["callback_release_s"].default
CALLBACK_TABLE = table_of(Callback)
DIRECT_TABLE = table_of(DirectCall)


def reservation(operator: str) -> str:
    """The ``claimed_by`` of a lead reserved for an operator's preview."""
    return f"preview:{operator}"[:64]


@dataclass(frozen=True)
class DirectWork:
    """A call waiting to be placed for one operator (``personal``) or, for callbacks, anyone."""

    kind: str
    ref_id: int
    lead: ClaimedLead
    personal: str | None  # the operator's interface
    operator: str | None  # the operator's name
    due_at: datetime
    release_s: int

    def as_callback(self) -> CallbackDue:
        return CallbackDue(self.ref_id, self.lead.campaign_id, self.lead.lead_id, self.due_at, self.personal)


def _claimed(lead: Lead) -> ClaimedLead:
    assert lead.id is not None
    return ClaimedLead(
        lead.id, lead.campaign_id, lead.phone, zones_of(lead.time_zones), lead.attempts, dict(lead.data)
    )


def due_work(store: Engine, campaign_ids: Sequence[int], now: datetime) -> list[DirectWork]:
    """Operators' requests (oldest first), then callbacks due at ``now`` (earliest first)."""
    if not campaign_ids:
        return []
    ids = list(campaign_ids)
    with Session(store) as session:
        settings = {
            s.campaign_id: s
            for s in session.exec(select(ConsoleSetting).where(col(ConsoleSetting.campaign_id).in_(ids)))
        }
        requests = session.exec(
            select(DirectCall, Lead, Operator)
            .join(Lead, col(Lead.id) == DirectCall.lead_id)
            .join(Operator, col(Operator.id) == DirectCall.operator_id)
            .where(
                col(DirectCall.campaign_id).in_(ids),
                col(DirectCall.attempt_id).is_(None),
                col(DirectCall.refused).is_(None),
            )
            .order_by(col(DirectCall.id))
        ).all()
        callbacks = session.exec(
            select(Callback, Lead, Operator)
            .join(Lead, col(Lead.id) == Callback.lead_id)
            .join(Operator, col(Operator.id) == Callback.operator_id, isouter=True)
            .where(
                col(Callback.campaign_id).in_(ids), col(Callback.done).is_(False), col(Callback.due_at) <= now
            )
            .order_by(col(Callback.due_at), col(Callback.id))
        ).all()
        work = [
            DirectWork(r.kind, r.id or 0, _claimed(lead), op.interface, op.name, aware(r.requested_at), 0)
            for r, lead, op in requests
        ]
        for cb, lead, op in callbacks:
            setting = settings.get(cb.campaign_id)
            release = setting.callback_release_s if setting else DEFAULT_RELEASE_S
            interface, name = (op.interface, op.name) if op is not None else (None, None)
            work.append(
                DirectWork(CALLBACK, cb.id or 0, _claimed(lead), interface, name, aware(cb.due_at), release)
            )
        return work


class _Lost(Exception):
    """Another node (or the console) got there first."""


def take(
    store: Engine, work: DirectWork, node: str, clock: Callable[[], float], fence: int | None = None
) -> Placement | None:
    """Claim the lead, mark the work taken and commit the attempt row; None if another got it first.

    With a ``fence`` (ownership through the store's locks), nothing is written unless the
    campaign's owner row still names this node and that fence, as for the pacers' calls."""
    attempt_id, started = uuid.uuid4().hex, clock()
    lead = LEAD_TABLE.c
    holders: list[ColumnElement[bool]] = [lead.claimed_by.is_(None)]
    if work.operator is not None:
        holders.append(lead.claimed_by == reservation(work.operator))
    try:
        with store.begin() as conn:
            if fence is not None:
                check_fence(conn, work.lead.campaign_id, node, fence)
            won = conn.execute(
                update(LEAD_TABLE)
                .where(lead.id == work.lead.lead_id, or_(*holders), lead.status != LeadStatus.DNC.value)
                .values(claimed_by=node, claimed_at=to_dt(started), status=LeadStatus.IN_CALL.value)
            ).rowcount
            if won != 1 or _mark(conn, work, attempt_id) != 1:
                raise _Lost  # leaves the transaction rolled back: nothing of it stays
            conn.execute(
                table_of(CallAttempt)
                .insert()
                .values(
                    id=attempt_id,
                    campaign_id=work.lead.campaign_id,
                    lead_id=work.lead.lead_id,
                    phone=work.lead.phone,
                    node=node,
                    started_at=to_dt(started),
                )
            )
    except (_Lost, Fenced):
        return None
    return Placement(work.lead, attempt_id, started)


def _mark(conn: Connection, work: DirectWork, attempt_id: str) -> int:
    if work.kind == CALLBACK:
        c = CALLBACK_TABLE.c
        query = (
            update(CALLBACK_TABLE)
            .where(c.id == work.ref_id, c.done.is_(False))
            .values(done=True, attempt_id=attempt_id)
        )
    else:
        d = DIRECT_TABLE.c
        query = (
            update(DIRECT_TABLE)
            .where(d.id == work.ref_id, d.attempt_id.is_(None), d.refused.is_(None))
            .values(attempt_id=attempt_id)
        )
    return int(conn.execute(query).rowcount)


def refuse(
    store: Engine, work: DirectWork, reason: str, status: LeadStatus | None, next_at: datetime | None
) -> None:
    """The call may not be placed: end the request (or the callback) and give the lead its verdict."""
    with session_scope(store) as session:
        if work.kind == CALLBACK:
            cb = session.get(Callback, work.ref_id)
            if cb is not None:
                cb.done = True
                session.add(cb)
        else:
            req = session.get(DirectCall, work.ref_id)
            if req is not None:
                req.refused = reason[:200]
                session.add(req)
        lead = session.get(Lead, work.lead.lead_id)
        held = (None, reservation(work.operator) if work.operator else None)
        if lead is not None and lead.claimed_by in held:
            lead.claimed_by, lead.claimed_at = None, None
            if status is not None:
                lead.status = status.value
            elif lead.status == LeadStatus.CALLBACK.value:
                lead.status = LeadStatus.SCHEDULED.value
            if next_at is not None:
                lead.next_call_at = next_at
            session.add(lead)
