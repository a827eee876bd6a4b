"""The abandonment controller: keeps a campaign under its abandon cap.

Abandon rate = abandoned calls / live answers over the campaign's window
(30 days under the US TSR, 24 hours under Ofcom). The controller turns that
rate into the overflow the predictive pacer may risk: the expected number of
answers that find no free operator, as a share of the expected answers. At
``target`` the pacer risks ``target``; further below, more; above, less. Near the cap it stops
predicting altogether and the campaign dials progressively (which cannot
abandon a call for want of an operator) until the rate has recovered.

Early in a window a single abandon would swing the rate wildly, so the rate is
counted as if at least ``min_live_answers`` calls had been answered: the shift's
final figure is what the rules judge, and early abandons get diluted by it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from dialer.pacing.base import AbandonStats

DAY_S = 86400.0


@dataclass(frozen=True)
class AbandonPolicy:
    cap: float = 0.03
    target: float = 0.02
    window_s: float = 30 * DAY_S
    fallback_at: float = 0.8  # x cap: switch to progressive at or above this
    resume_at: float = 0.6  # x cap: back to predictive once below this
    min_live_answers: int = 50
    overflow_start: float = 0.004  # the pacer's first allowed overflow share
    overflow_min: float = 1e-4
    overflow_max: float = 0.03
    step: float = 0.15  # log-change of the overflow per abandoned call

    def __post_init__(self) -> None:
        if not 0 < self.target < self.cap <= 1:
            raise ValueError("need 0 < target < cap <= 1")
        if not 0 < self.resume_at <= self.fallback_at <= 1:
            raise ValueError("need 0 < resume_at <= fallback_at <= 1")
        if not 0 < self.overflow_min <= self.overflow_start <= self.overflow_max:
            raise ValueError("need 0 < overflow_min <= overflow_start <= overflow_max")

    @classmethod
    def uk(cls) -> AbandonPolicy:
        """Ofcom: 3% over any 24 hours."""
        return cls(window_s=DAY_S)


@dataclass(frozen=True)
class Steering:
    predictive: bool
    overflow: float  # expected answers without an operator, as a share of expected answers
    rate: float  # the abandon rate the decision was based on


class AbandonController:
    """Turns abandon statistics into an allowed overflow (mutable: an integrator and a latch).

    Each abandon since the last call lowers the allowed overflow by ``step`` (in
    log terms); each answer that reached an operator raises it by ``step *
    setpoint / (1 - setpoint)``, so it settles where abandons make up
    ``setpoint`` of live answers. The setpoint is ``target`` corrected by how far
    the window's rate has drifted from it, so the window's rate comes back to
    ``target`` rather than merely stops moving. The pacer's Bernoulli model
    gives the overflow its scale; the integrator absorbs what the model misses.
    """

    def __init__(self, policy: AbandonPolicy | None = None) -> None:
        self.policy = policy or AbandonPolicy()
        self.fallback = False
        self._log_overflow = math.log(self.policy.overflow_start)
        self._seen = AbandonStats()

    def steer(self, stats: AbandonStats) -> Steering:
        p = self.policy
        rate = stats.abandoned / max(stats.live_answers, p.min_live_answers)
        if rate >= p.fallback_at * p.cap:
            self.fallback = True
        elif rate < p.resume_at * p.cap:
            self.fallback = False
        self._integrate(stats, rate)
        return Steering(predictive=not self.fallback, overflow=math.exp(self._log_overflow), rate=rate)

    def _integrate(self, stats: AbandonStats, rate: float) -> None:
        p = self.policy
        # A sliding window also forgets old calls; only growth is news.
        new_abandoned = max(0, stats.abandoned - self._seen.abandoned)
        new_live = max(0, stats.live_answers - self._seen.live_answers)
        self._seen = stats
        if new_live == 0:
            return
        setpoint = min(1.5 * p.target, max(0.3 * p.target, 2 * p.target - rate))
        served = max(0, new_live - new_abandoned)
        change = p.step * (served * setpoint / (1 - setpoint) - new_abandoned)
        low, high = math.log(p.overflow_min), math.log(p.overflow_max)
        self._log_overflow = min(high, max(low, self._log_overflow + change))


class RollingAbandons:
    """Live answers and abandons over a sliding window of time (mutable).

    For the engine: record each live answer as its outcome becomes known, ask
    for ``stats(now)`` each tick. Old entries are dropped as the window slides.
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._events: deque[tuple[float, bool]] = deque()
        self._abandoned = 0

    def record(self, at: float, abandoned: bool) -> None:
        self._events.append((at, abandoned))
        self._abandoned += abandoned

    def stats(self, now: float) -> AbandonStats:
        horizon = now - self.window_s
        while self._events and self._events[0][0] < horizon:
            _, abandoned = self._events.popleft()
            self._abandoned -= abandoned
        return AbandonStats(abandoned=self._abandoned, live_answers=len(self._events))
