"""What pacing keeps in the store: each engine's last decision, and the calls it learns from.

``dialer status`` runs in another process than the engine, so the engine writes
its last pacing explanation per campaign to ``pacing_state`` every few seconds.
On start the engine warm-starts each campaign's ``EstimatesTracker`` from the
campaign's recent attempts, so a restart does not forget what it learned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, PacingState
from campaigns.store import session_scope
from dialer.core.attempt import Outcome
from dialer.core.clock import to_dt, to_ts
from dialer.pacing import EstimatesTracker

WARM_START_ATTEMPTS = 1000  # about a shift of a small team: enough for every fit, recent enough to matter

Explain = Mapping[str, float | int | str | None]


def learn(
    tracker: EstimatesTracker,
    started_at: float,
    answered_at: float | None,
    connected_at: float | None,
    ended_at: float,
    outcome: str | None,
    wrap_s: float | None = 0.0,
) -> None:
    """Feed one ended attempt to the tracker: answer (by a person) or not, ring time, talk time.

    ``wrap_s``: the wrap-up the operator had after it (the queue's wrap-up time); None: not
    known yet (held until the disposition: fed with it, ``call_handled``, when it comes).
    """
    if answered_at is not None and outcome != Outcome.MACHINE.value:
        tracker.call_resolved(True, max(0.0, answered_at - started_at))
    else:
        tracker.call_resolved(False, max(0.0, ended_at - started_at))
    if connected_at is not None and wrap_s is not None:
        tracker.call_handled(max(0.0, ended_at - connected_at), wrap_s)


def warm_estimates(
    store: Engine, campaign_id: int, wrap_s: float = 0.0, limit: int = WARM_START_ATTEMPTS, held: bool = False
) -> EstimatesTracker:
    """A tracker that has already seen the campaign's last ``limit`` ended attempts, oldest first.

    ``held``: the campaign holds wrap-up until the disposition, so each call's wrap-up is the
    time from its end to its disposition (calls not yet disposed teach no wrap-up).
    """
    tracker = EstimatesTracker()
    with Session(store) as session:
        rows = session.exec(
            select(CallAttempt)
            .where(col(CallAttempt.campaign_id) == campaign_id, col(CallAttempt.ended_at).is_not(None))
            .order_by(col(CallAttempt.started_at).desc())
            .limit(limit)
        ).all()
    for row in reversed(rows):
        assert row.ended_at is not None
        learn(
            tracker,
            to_ts(row.started_at),
            None if row.answered_at is None else to_ts(row.answered_at),
            None if row.connected_at is None else to_ts(row.connected_at),
            to_ts(row.ended_at),
            row.outcome,
            _measured_wrap(row) if held else wrap_s,
        )
    return tracker


def _measured_wrap(row: CallAttempt) -> float | None:
    if row.disposed_at is None or row.ended_at is None:
        return None
    return max(0.0, to_ts(row.disposed_at) - to_ts(row.ended_at))


def save_explain(store: Engine, node: str, explains: Mapping[int, Explain], now: float) -> None:
    """Write this node's latest explanation for each campaign (one row per campaign and node)."""
    if not explains:
        return
    with session_scope(store) as session:
        for campaign_id, explain in explains.items():
            row = session.get(PacingState, (campaign_id, node))
            if row is None:
                row = PacingState(campaign_id=campaign_id, node=node)
            row.updated_at = to_dt(now)
            row.explain = dict(explain)
            session.add(row)


@dataclass(frozen=True)
class PacingView:
    """One node's last pacing explanation for one campaign."""

    node: str
    updated_at: datetime
    explain: dict[str, Any]

    def age_s(self, now: float) -> float:
        return max(0.0, now - to_ts(self.updated_at))


def load_explains(store: Engine, campaign_ids: Sequence[int]) -> dict[int, list[PacingView]]:
    """Every node's explanation for these campaigns, newest first."""
    if not campaign_ids:
        return {}
    with Session(store) as session:
        rows = session.exec(
            select(PacingState)
            .where(col(PacingState.campaign_id).in_(list(campaign_ids)))
            .order_by(col(PacingState.updated_at).desc())
        ).all()
    found: dict[int, list[PacingView]] = {}
    for row in rows:
        found.setdefault(row.campaign_id, []).append(PacingView(row.node, row.updated_at, dict(row.explain)))
    return found


def forget_explain(store: Engine, node: str, campaign_id: int) -> None:
    """Drop ``node``'s explanation of a campaign it no longer dials, so status shows no stale line."""
    with session_scope(store) as session:
        row = session.get(PacingState, (campaign_id, node))
        if row is not None:
            session.delete(row)
