"""Writing attempts and their leads to the store.

The order matters for crash safety: an attempt row is committed before its
Originate is sent, so a node that dies mid-dial leaves a row to reconcile rather
than a call nobody knows about. The rows of one dialing cycle are written in one
transaction, then the cycle's Originates go out.

Progress of live calls (ringing, answered, connected, the operator) is noted as
the events arrive and written by ``Journal.flush`` once per engine tick, with the
operators' observed queue states, in one transaction. It matters only after a
crash: reconciling counts an attempt that was answered and never connected as
abandoned, and a connected one as connected (its lead is not dialed again). A
crash loses at most the last tick's progress (a quarter of a second by default);
the end of an attempt is written at once and always carries its full progress.

Statements are Core statements with bound parameters on the mapped tables: the
engine writes a few rows per call, and the ORM's unit of work would cost more
CPU than the writes themselves.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from campaigns.lead_numbers import after_dial, lead_numbers, stored_numbers
from campaigns.models import CallAttempt
from campaigns.retry import LeadDisposition, LeadStatus, RetryPolicy, after_attempt
from campaigns.store import session_scope
from campaigns.tables import ATTEMPT_TABLE, LEAD_TABLE, OWNER_TABLE
from dialer.core.attempt import Attempt, AttemptState, Outcome
from dialer.core.clock import to_dt, to_ts
from dialer.core.operators import OperatorState
from dialer.store.claims import ClaimedLead
from dialer.store.console_events import CONNECTED, ENDED, STATE, write_events
from dialer.store.operators import write_observed_states
from dialer.store.shares import ShareFence, share_fence_holds

# A lead whose zones never share an open hour is looked at again a day later:
# daylight saving time or a corrected zone may open a window.
NO_WINDOW_RECHECK = timedelta(days=1)
NO_WINDOW = "no_window"


def _opt_dt(ts: float | None) -> datetime | None:
    return None if ts is None else to_dt(ts)


@dataclass(frozen=True)
class Placement:
    """A lead whose attempt row is committed: it may be dialed now."""

    lead: ClaimedLead
    attempt_id: str
    started_at: float


class Fenced(Exception):
    """The campaign's fence moved on: another node took the campaign, this one may not dial it."""


def check_fence(conn: Connection, campaign_id: int, node: str, fence: int) -> None:
    """Hold the campaign's owner row (FOR SHARE: a takeover's bump waits for this cycle) and check it.

    A ``ShareFence`` (a shared campaign) is checked against the node's own share row instead."""
    if isinstance(fence, ShareFence):
        if not share_fence_holds(conn, campaign_id, node, fence):
            raise Fenced(f"campaign {campaign_id}: share fence {fence} of node {node} is no longer current")
        return
    o = OWNER_TABLE.c
    found = conn.execute(
        core_select(o.node, o.fence).where(o.campaign_id == campaign_id).with_for_update(read=True)
    ).first()
    if found is None or tuple(found) != (node, fence):
        raise Fenced(f"campaign {campaign_id}: fence {fence} of node {node} is no longer current")


def begin_attempts(
    store: Engine,
    leads: Sequence[ClaimedLead],
    node: str,
    clock: Callable[[], float],
    fence: int | None = None,
) -> list[Placement]:
    """Commit one attempt row per lead and put the leads in the call, in one transaction.

    Call it right before the Originates go out: each ``started_at`` is read from
    ``clock`` here, after the leads were claimed and checked. With a ``fence`` (the leads
    are of one campaign), nothing is written and ``Fenced`` is raised unless the campaign's
    owner row still names this node and that fence.
    """
    if not leads:
        return []
    placements = [Placement(lead, uuid.uuid4().hex, clock()) for lead in leads]
    rows = [
        {
            "id": p.attempt_id,
            "campaign_id": p.lead.campaign_id,
            "lead_id": p.lead.lead_id,
            "phone": p.lead.phone,
            "node": node,
            "started_at": to_dt(p.started_at),
        }
        for p in placements
    ]
    with store.begin() as conn:
        if fence is not None:  # ownership through the store's locks: dial only under this node's fence
            check_fence(conn, leads[0].campaign_id, node, fence)
        conn.execute(insert(ATTEMPT_TABLE), rows)
        conn.execute(
            update(LEAD_TABLE)
            .where(
                LEAD_TABLE.c.id.in_([p.lead.lead_id for p in placements]),
                LEAD_TABLE.c.claimed_by == node,
            )
            .values(status=LeadStatus.IN_CALL.value)
        )
    return placements


def _progress_values(attempt: Attempt, operator: str | None) -> dict[str, object]:
    return {
        "ringing_at": _opt_dt(attempt.ringing_at),
        "answered_at": _opt_dt(attempt.answered_at),
        "connected_at": _opt_dt(attempt.connected_at),
        "operator": operator,
        "amd_status": attempt.amd_status,
    }


_PROGRESS_COLUMNS = ("ringing_at", "answered_at", "connected_at", "operator", "amd_status")
# Progress never overwrites an ended attempt: its end row is the complete record.
# (Bound names differ from the columns': SQLAlchemy reserves those for SET.)
_PROGRESS = (
    update(ATTEMPT_TABLE)
    .where(ATTEMPT_TABLE.c.id == bindparam("p_id"), ATTEMPT_TABLE.c.ended_at.is_(None))
    .values({name: bindparam(f"p_{name}") for name in _PROGRESS_COLUMNS})
)


def _write_progress(conn: Connection, progress: Sequence[tuple[Attempt, str | None]]) -> None:
    if progress:
        rows = [
            {"p_id": a.attempt_id} | {f"p_{k}": v for k, v in _progress_values(a, operator).items()}
            for a, operator in progress
        ]
        conn.execute(_PROGRESS, rows)


def record_progress(store: Engine, attempt: Attempt, operator: str | None) -> None:
    """Store how far a live call got, at once (the engine batches it with ``Journal``)."""
    with store.begin() as conn:
        _write_progress(conn, [(attempt, operator)])


class Journal:
    """Call progress and operator states noted as events arrive, written once per tick."""

    def __init__(self, store: Engine | None = None) -> None:
        self._store = store  # given: a connection is written at once, not at the next flush
        self._progress: dict[str, tuple[Attempt, str | None]] = {}
        self._members: dict[str, OperatorState] = {}
        self._announced: set[str] = set()  # attempts whose connection the consoles were told of

    def note_progress(self, attempt: Attempt, operator: str | None) -> None:
        self._progress[attempt.attempt_id] = (attempt, operator)
        connected = attempt.connected_at is not None and attempt.attempt_id not in self._announced
        if self._store is not None and operator and connected:
            # The operator's console pops from this row. Best effort: a failed write stays noted
            # and the next flush, which handles a store outage, writes it.
            with contextlib.suppress(SQLAlchemyError):
                self.flush(self._store)

    def note_member(self, interface: str, state: OperatorState) -> None:
        self._members[interface] = state

    def forget(self, attempt_id: str) -> None:
        """The attempt ended: its end record supersedes any pending progress."""
        self._progress.pop(attempt_id, None)
        self._announced.discard(attempt_id)

    def pending(self) -> tuple[list[tuple[Attempt, str | None]], dict[str, OperatorState], list[str]]:
        """What is noted and not yet written, and the connections to announce: copies, to write elsewhere."""
        progress, members = list(self._progress.values()), dict(self._members)
        connected = [
            a.attempt_id
            for a, operator in progress
            if operator and a.connected_at is not None and a.attempt_id not in self._announced
        ]
        return progress, members, connected

    def written(
        self,
        progress: Sequence[tuple[Attempt, str | None]],
        members: dict[str, OperatorState],
        connected: Sequence[str],
    ) -> None:
        """Forget what ``pending`` returned and was written; a note taken since stays."""
        self._announced.update(connected)
        for attempt, _ in progress:
            if self._progress.get(attempt.attempt_id, (None, None))[0] is attempt:
                del self._progress[attempt.attempt_id]
        for interface, state in members.items():
            if self._members.get(interface) is state:
                del self._members[interface]

    def flush(self, store: Engine) -> None:
        progress, members, connected = self.pending()
        if progress or members:
            write_journal(store, progress, members, connected)
            # Cleared only once written: a failed flush is retried at the next tick.
            self.written(progress, members, connected)


def write_journal(
    store: Engine,
    progress: Sequence[tuple[Attempt, str | None]],
    members: dict[str, OperatorState],
    connected: Sequence[str],
) -> None:
    """Write noted call progress and operator states, and the consoles' events, in one transaction."""
    operators = {a.attempt_id: operator for a, operator in progress if operator}
    with store.begin() as conn:
        _write_progress(conn, progress)
        write_observed_states(conn, members)
        write_events(
            conn,
            [(CONNECTED, operators[i], i) for i in connected]
            + [(STATE, interface, None) for interface in members],
        )


def finish_attempt(
    store: Engine, attempt: Attempt, policy: RetryPolicy, operator: str | None
) -> LeadDisposition | None:
    """Record the ended attempt and move its lead on by the retry rules."""
    outcome = attempt.outcome or Outcome.FAILED
    ended_at = to_dt(attempt.ended_at if attempt.ended_at is not None else attempt.started_at)
    a, lead = ATTEMPT_TABLE.c, LEAD_TABLE.c
    with store.begin() as conn:
        found = conn.execute(
            core_select(lead.id, lead.attempts, a.disposition, a.phone, lead.numbers, lead.phone_turn)
            .join_from(ATTEMPT_TABLE, LEAD_TABLE, a.lead_id == lead.id)
            .where(a.id == attempt.attempt_id, a.ended_at.is_(None))
        ).first()
        if found is None:
            return None  # already recorded (a duplicate end, or reconciled), or no such attempt
        lead_id, attempts, disposed, dialed, numbers, turn = found
        ended = conn.execute(
            update(ATTEMPT_TABLE)
            .where(a.id == attempt.attempt_id, a.ended_at.is_(None))
            .values(
                **_progress_values(attempt, operator),
                ended_at=ended_at,
                outcome=outcome.value,
                hangup_cause=attempt.hangup_cause,
                abandoned=outcome is Outcome.ABANDONED,
                safe_harbour=attempt.safe_harbour,
            )
        )
        if ended.rowcount != 1:
            return None  # ended by someone else between the read and the write
        disposition = after_attempt(policy, outcome, attempts + 1, ended_at)
        turn_values, disposition = _next_number(
            numbers, turn or 0, dialed, disposition, policy.max_attempts - attempts - 1, ended_at
        )
        # An operator's disposition given during the call already decided the lead's fate.
        fate: dict[str, object] = (
            {}
            if disposed is not None
            else {
                # A lead put on a do-not-call list during the call stays there.
                "status": case(
                    (lead.status == LeadStatus.DNC.value, lead.status),
                    else_=disposition.status.value,
                ),
                "next_call_at": disposition.next_call_at,
            }
        )
        conn.execute(
            update(LEAD_TABLE)
            .where(lead.id == lead_id)
            .values(
                attempts=lead.attempts + 1,
                last_outcome=outcome.value,
                claimed_by=None,
                claimed_at=None,
                **fate,
                **turn_values,
            )
        )
        if operator and attempt.connected_at is not None:
            write_events(conn, [(ENDED, operator, attempt.attempt_id)])
        return disposition


def _next_number(
    stored: object, turn: int, dialed: str, disposition: LeadDisposition, left: int, ended_at: datetime
) -> tuple[dict[str, object], LeadDisposition]:
    """A lead with several numbers: its next turn, a wrong number dropped, and a retry if one is left."""
    if stored is None:
        return {}, disposition
    after = after_dial(lead_numbers("", "", stored), turn, dialed, disposition.reason)
    values: dict[str, object] = {"numbers": stored_numbers(after.numbers), "phone_turn": after.turn}
    if disposition.status is LeadStatus.INVALID and after.retry_now:
        # Another number is left: it is dialed at once, within the lead's attempts.
        status = LeadStatus.SCHEDULED if left > 0 else LeadStatus.EXHAUSTED
        disposition = LeadDisposition(status, disposition.reason, ended_at)
    return values, disposition


def settle_unreached(
    store: Engine,
    lead_id: int,
    node: str,
    status: LeadStatus | None,
    next_call_at: datetime | None,
    last_outcome: str | None = None,
) -> None:
    """Release a claimed lead that was not dialed, with the gate's verdict applied."""
    values: dict[str, object] = {"claimed_by": None, "claimed_at": None}
    if status is not None:
        values["status"] = status.value
    if next_call_at is not None:
        values["next_call_at"] = next_call_at
    if last_outcome is not None:
        values["last_outcome"] = last_outcome
    with store.begin() as conn:
        conn.execute(
            update(LEAD_TABLE)
            .where(LEAD_TABLE.c.id == lead_id, LEAD_TABLE.c.claimed_by == node)
            .values(**values)
        )


def attempt_from_row(row: CallAttempt) -> Attempt:
    """Rebuild the state machine's view of a stored attempt (for reconciling)."""
    attempt = Attempt.dial(row.id, to_ts(row.started_at))
    state = AttemptState.DIALING
    if row.ringing_at is not None:
        state = AttemptState.RINGING
    if row.answered_at is not None:
        state = AttemptState.ANSWERED
    if row.connected_at is not None:
        state = AttemptState.CONNECTED
    return replace(
        attempt,
        state=state,
        ringing_at=None if row.ringing_at is None else to_ts(row.ringing_at),
        answered_at=None if row.answered_at is None else to_ts(row.answered_at),
        connected_at=None if row.connected_at is None else to_ts(row.connected_at),
        outcome=Outcome.CONNECTED if row.connected_at is not None else None,
        operator=row.operator,
        amd_status=row.amd_status,
    )


def unfinished_attempts(store: Engine, node: str) -> list[CallAttempt]:
    with session_scope(store) as session:
        return list(
            session.exec(
                select(CallAttempt).where(col(CallAttempt.node) == node, col(CallAttempt.ended_at).is_(None))
            ).all()
        )
