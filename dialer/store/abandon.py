"""The abandon figures a campaign's pacing obeys, read from the store.

Counted as the compliance record counts them (``dialer.policy.compliance_checks``):
a live answer is an attempt with outcome ``connected`` or ``abandoned`` (or the
``abandoned`` flag), placed at its answer instant (``answered_at``, else
``started_at``); the window ``(now - length, now]`` is the campaign's
``abandon_window`` (30 days under the US TSR, 24 hours under Ofcom).

The store holds every node's attempts, so the figure covers the whole
campaign; reading it is a query, so ``AbandonTracker`` reads it every few
seconds and adds, in between, the live answers this engine has just recorded.

AMD false positives: Asterisk's ``AMD()`` says MACHINE when nobody speaks for
its initial-silence time. A real answering machine greets at once; a person who
picked up and waits for the caller to speak first is classed as a machine and
hung up on. Such a call (``INITIALSILENCE`` cause) is recorded as abandoned: it
counts in the rate, holds the number under the UK 72-hour rule, and keeps
``amd_status`` MACHINE on the row so it can be told apart. A machine verdict on
a person who spoke (``LONGGREETING``, ``MAXWORDS`` ...) cannot be told from a
real machine afterwards and stays ``machine``: the rate is then a lower bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import and_, case, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt
from dialer.core.attempt import Attempt, Outcome, counts_toward_abandon_rate
from dialer.pacing import AbandonStats
from dialer.policy.compliance_checks import WINDOWS
from dialer.store.recorder import to_dt

# An attempt is answered at most a ring timeout after it starts (300 s at most, see
# campaigns.service): bounding ``started_at`` lets the store use its index.
_LONGEST_RING = timedelta(hours=1)
_SILENT_MACHINE = "INITIALSILENCE"


def window_length(abandon_window: str) -> timedelta:
    """The length of a campaign's abandon window (``30d`` or ``24h``); unknown values get 30 days."""
    return WINDOWS.get(abandon_window, WINDOWS["30d"])


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


class AbandonTracker:
    """A campaign's abandon figures: the store's, refreshed every ``refresh_s``, plus this run's news.

    Mutable, one per campaign per engine. ``record`` each attempt this engine
    ends; ``stats(now)`` re-reads the store when the last reading is older than
    ``refresh_s`` (a reading includes every attempt recorded before it).
    """

    def __init__(
        self,
        read: Callable[[float], AbandonStats],
        refresh_s: float = 5.0,
    ) -> None:
        self._read = read
        self.refresh_s = refresh_s
        self._base = AbandonStats()
        self._next_read = float("-inf")
        self._abandoned = 0
        self._live = 0

    def record(self, attempt: Attempt) -> None:
        live, abandoned = counts_toward_abandon_rate(attempt.outcome)
        self._live += live
        self._abandoned += abandoned

    def stats(self, now: float) -> AbandonStats:
        if now >= self._next_read:
            self._base = self._read(now)
            self._abandoned = self._live = 0
            self._next_read = now + self.refresh_s
        return AbandonStats(
            abandoned=self._base.abandoned + self._abandoned,
            live_answers=self._base.live_answers + self._live,
        )


@dataclass(frozen=True)
class AbandonSettings:
    """A campaign's cap and window, as the engine reads them from its row."""

    cap: float = 0.03
    window: str = "30d"


def silent_machine(status: str | None, cause: str | None) -> bool:
    """An AMD MACHINE verdict reached on silence alone: most likely a person waiting to hear us."""
    return (status or "").upper() == "MACHINE" and (cause or "").upper().startswith(_SILENT_MACHINE)


def reclassify_machine(attempt: Attempt, amd_cause: str | None) -> Attempt:
    """A ``machine`` attempt whose verdict came from silence alone, as the abandoned call it likely was."""
    if attempt.outcome is Outcome.MACHINE and silent_machine(attempt.amd_status, amd_cause):
        return replace(attempt, outcome=Outcome.ABANDONED)
    return attempt
