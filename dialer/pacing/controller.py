"""The abandonment controller: keeps a campaign under its abandon cap.

Abandon rate = abandoned calls / live answers over the campaign's window
(30 days under the US TSR, 24 hours under Ofcom). The controller turns that
rate into the risk the predictive pacer may take with its last call: the
chance that call's answer finds no free operator. An integrator moves that
risk so the window's rate settles at ``target``. Near the cap it latches into
caution (the pacer predicts at a very small risk) until the rate has recovered,
and at the very edge of the cap it dials progressively, which cannot abandon a
call for want of an operator.

Early in a window a single abandon would swing the rate wildly, so the rate is
counted as if at least ``min_live_answers`` calls had been answered: the shift's
final figure is what the rules judge, and early abandons get diluted by it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from dialer.core.errors import InvalidInput
from dialer.pacing.base import AbandonStats

DAY_S = 86400.0


@dataclass(frozen=True)
class AbandonPolicy:
    cap: float = 0.03
    target: float = 0.025
    window_s: float = 30 * DAY_S
    fallback_at: float = 0.95  # x cap: latch into caution at or above this
    resume_at: float = 0.85  # x cap: back to full prediction once below this
    progressive_at: float = 0.98  # x cap: dial progressively while at or above this
    min_live_answers: int = 50
    overflow_start: float = 0.02  # the pacer's first allowed risk for its last call
    overflow_min: float = 1e-4
    overflow_max: float = 0.5
    step: float = 0.1  # log-change of the allowed risk per abandoned call
    catch_up: float = 1.15  # x target: the most the integrator aims for while the rate is below target

    def __post_init__(self) -> None:
        if not 0 < self.target < self.cap <= 1:
            raise InvalidInput("need 0 < target < cap <= 1")
        if not 0 < self.resume_at <= self.fallback_at <= self.progressive_at <= 1:
            raise InvalidInput("need 0 < resume_at <= fallback_at <= progressive_at <= 1")
        if self.catch_up < 1:
            raise InvalidInput("catch_up must be at least 1 (x target)")
        if not 0 < self.overflow_min <= self.overflow_start <= self.overflow_max:
            raise InvalidInput("need 0 < overflow_min <= overflow_start <= overflow_max")

    @classmethod
    def uk(cls) -> AbandonPolicy:
        """Ofcom: 3% over any 24 hours."""
        return cls(window_s=DAY_S)


@dataclass(frozen=True)
class Steering:
    predictive: bool  # False: dial progressively
    overflow: float  # allowed P(the last call placed is answered and finds no operator)
    rate: float  # the abandon rate the decision was based on
    cautious: bool = False  # near the cap: predict at a very small risk


class AbandonController:
    """Turns abandon statistics into an allowed risk (mutable: an integrator and a latch).

    Each abandon since the last call lowers the allowed risk by ``step`` (in
    log terms); each answer that reached an operator raises it by ``step *
    setpoint / (1 - setpoint)``, so it settles where abandons make up
    ``setpoint`` of live answers. The setpoint is ``target`` corrected by how far
    the window's rate has drifted from it, so the window's rate comes back to
    ``target`` rather than merely stops moving. The pacer's Bernoulli model
    gives the risk its scale; the integrator absorbs what the model misses.
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
        return Steering(
            predictive=rate < p.progressive_at * p.cap,
            overflow=math.exp(self._log_overflow),
            rate=rate,
            cautious=self.fallback,
        )

    def _integrate(self, stats: AbandonStats, rate: float) -> None:
        p = self.policy
        # A sliding window also forgets old calls; only growth is news.
        new_abandoned = max(0, stats.abandoned - self._seen.abandoned)
        new_live = max(0, stats.live_answers - self._seen.live_answers)
        self._seen = stats
        if new_live == 0:
            return
        setpoint = min(p.catch_up * p.target, max(0.3 * p.target, 2 * p.target - rate))
        served = max(0, new_live - new_abandoned)
        change = p.step * (served * setpoint / (1 - setpoint) - new_abandoned)
        low, high = math.log(p.overflow_min), math.log(p.overflow_max)
        self._log_overflow = min(high, max(low, self._log_overflow + change))


class RecentAbandons:
    """Abandons and live answers over the last ``span_s`` seconds (mutable).

    Read from the growth of the window's running totals between calls, as the
    integrator reads them; a sliding window that forgets old calls only makes the
    recent counts smaller. The totals first seen are history (a campaign picked up
    again): nothing recent.
    """

    def __init__(self, span_s: float = 900.0) -> None:
        self.span_s = span_s
        self._seen: AbandonStats | None = None
        self._steps: deque[tuple[float, int, int]] = deque()
        self.abandoned = 0
        self.live_answers = 0

    def update(self, now: float, stats: AbandonStats) -> None:
        seen, self._seen = self._seen or stats, stats
        new_abandoned = max(0, stats.abandoned - seen.abandoned)
        new_live = max(0, stats.live_answers - seen.live_answers)
        if new_live or new_abandoned:
            self._steps.append((now, new_abandoned, new_live))
            self.abandoned += new_abandoned
            self.live_answers += new_live
        while self._steps and self._steps[0][0] <= now - self.span_s:
            _, gone_abandoned, gone_live = self._steps.popleft()
            self.abandoned -= gone_abandoned
            self.live_answers -= gone_live

    def share(self, min_live_answers: int) -> float:
        """Abandoned over live answers, counting at least ``min_live_answers`` answers."""
        return self.abandoned / max(self.live_answers, min_live_answers, 1)
