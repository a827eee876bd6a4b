"""The abandon figures a campaign's pacing obeys, read from the store.

Counted as the compliance record counts them (``dialer.policy.compliance_checks``):
a live answer is an attempt with outcome ``connected`` or ``abandoned`` (or the
``abandoned`` flag), placed at its answer instant (``answered_at``, else
``started_at``); the window ``(now - length, now]`` is the campaign's
``abandon_window`` (30 days under the US TSR, 24 hours under Ofcom).

The store holds every node's attempts, so the figure covers the whole
campaign; reading it is a query, so ``AbandonTracker`` reads it every few
seconds and adds, in between, the live answers this engine has just recorded.

What the figures mean and how they are kept between readings is pure policy:
``dialer.policy.abandon``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, case, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt
from dialer.core.attempt import Outcome
from dialer.core.clock import to_dt
from dialer.pacing import AbandonStats

# An attempt is answered at most a ring timeout after it starts (300 s at most, see
# campaigns.service): bounding ``started_at`` lets the store use its index.
_LONGEST_RING = timedelta(hours=1)


def stored_abandon_stats(store: Engine, campaign_id: int, length: timedelta, now: float) -> AbandonStats:
    """Abandoned calls and live answers of the campaign in the window ending at ``now``."""
    end = to_dt(now)
    start = end - length
    abandoned = or_(col(CallAttempt.abandoned).is_(True), col(CallAttempt.outcome) == Outcome.ABANDONED.value)
    live = or_(abandoned, col(CallAttempt.outcome) == Outcome.CONNECTED.value)
    answered = func.coalesce(col(CallAttempt.answered_at), col(CallAttempt.started_at))
    query = select(func.count(), func.sum(case((abandoned, 1), else_=0))).where(
        col(CallAttempt.campaign_id) == campaign_id,
        col(CallAttempt.started_at) > start - _LONGEST_RING,
        col(CallAttempt.started_at) <= end,
        and_(live, answered > start, answered <= end),
    )
    with Session(store) as session:
        total, dropped = session.exec(query).one()
    return AbandonStats(abandoned=int(dropped or 0), live_answers=int(total or 0))
