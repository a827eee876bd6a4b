"""Writing attempts and their leads to the store.

The order matters for crash safety: an attempt row is committed before its
Originate is sent, so a node that dies mid-dial leaves a row to reconcile rather
than a call nobody knows about. Each write is one short transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns.models import CallAttempt, Lead
from campaigns.retry import LeadDisposition, LeadStatus, RetryPolicy, after_attempt
from campaigns.store import session_scope
from dialer.attempt import Attempt, AttemptState, Outcome
from dialer.claims import ClaimedLead

# A lead whose zones never share an open hour is looked at again a day later:
# daylight saving time or a corrected zone may open a window.
NO_WINDOW_RECHECK = timedelta(days=1)
NO_WINDOW = "no_window"


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def to_ts(dt: datetime) -> float:
    return (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)).timestamp()


def _opt_dt(ts: float | None) -> datetime | None:
    return None if ts is None else to_dt(ts)


def begin_attempt(store: Engine, lead: ClaimedLead, attempt_id: str, node: str, started_at: float) -> None:
    """Commit the attempt row and put the lead in the call, before anything is dialed."""
    with session_scope(store) as session:
        session.add(
            CallAttempt(
                id=attempt_id,
                campaign_id=lead.campaign_id,
                lead_id=lead.lead_id,
                phone=lead.phone,
                node=node,
                started_at=to_dt(started_at),
            )
        )
        session.execute(
            update(Lead)
            .where(col(Lead.id) == lead.lead_id, col(Lead.claimed_by) == node)
            .values(status=LeadStatus.IN_CALL.value)
        )


def record_progress(store: Engine, attempt: Attempt, operator: str | None) -> None:
    """Store how far a live call got, so a crash or `dialer status` sees it."""
    with session_scope(store) as session:
        session.execute(
            update(CallAttempt)
            .where(col(CallAttempt.id) == attempt.attempt_id)
            .values(
                ringing_at=_opt_dt(attempt.ringing_at),
                answered_at=_opt_dt(attempt.answered_at),
                connected_at=_opt_dt(attempt.connected_at),
                operator=operator,
                amd_status=attempt.amd_status,
            )
        )


def finish_attempt(
    store: Engine, attempt: Attempt, policy: RetryPolicy, operator: str | None
) -> LeadDisposition | None:
    """Record the ended attempt and move its lead on by the retry rules."""
    outcome = attempt.outcome or Outcome.FAILED
    ended_at = to_dt(attempt.ended_at if attempt.ended_at is not None else attempt.started_at)
    with session_scope(store) as session:
        row = session.get(CallAttempt, attempt.attempt_id)
        if row is None or row.ended_at is not None:
            return None  # already recorded (a duplicate end, or reconciled)
        row.ringing_at = _opt_dt(attempt.ringing_at)
        row.answered_at = _opt_dt(attempt.answered_at)
        row.connected_at = _opt_dt(attempt.connected_at)
        row.ended_at = ended_at
        row.outcome = outcome.value
        row.hangup_cause = attempt.hangup_cause
        row.operator = operator
        row.abandoned = outcome is Outcome.ABANDONED
        row.safe_harbour = attempt.safe_harbour
        row.amd_status = attempt.amd_status
        lead = session.get(Lead, row.lead_id)
        if lead is None:
            return None
        disposition = after_attempt(policy, outcome, lead.attempts + 1, ended_at)
        lead.attempts += 1
        lead.last_outcome = outcome.value
        # A lead put on a do-not-call list during the call stays there.
        if lead.status != LeadStatus.DNC.value:
            lead.status = disposition.status.value
        lead.next_call_at = disposition.next_call_at
        lead.claimed_by = None
        lead.claimed_at = None
        return disposition


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
    with session_scope(store) as session:
        session.execute(
            update(Lead).where(col(Lead.id) == lead_id, col(Lead.claimed_by) == node).values(**values)
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
