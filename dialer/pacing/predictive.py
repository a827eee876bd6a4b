"""Predictive pacing: dial so that answers arrive as operators become free.

Over a short horizon (about one ring time) the pacer balances two counts:

- supply: operators ready now, plus each operator in a call or in wrap-up who
  will be free within the horizon, given how long they have been at it
  (lognormal survival conditioned on the elapsed time);
- demand: answered calls waiting, plus each call still ringing that will be
  answered within the horizon, given how long it has rung, plus the new calls.

Each count is a sum of independent Bernoulli variables, so demand - supply has
a known mean and variance. The pacer places the most new calls ``n`` with

    E[demand(n)] + margin * sd(demand(n) - supply) <= E[supply]

where ``margin`` (in standard deviations) comes from the abandonment
controller. The inequality is quadratic in sqrt(variance) and solved in closed
form, so a tick costs a few vector operations whatever the team size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialer.pacing.base import PacingDecision, PacingSnapshot, within_limits
from dialer.pacing.controller import AbandonController, AbandonPolicy
from dialer.pacing.forecast import Balance, balances


@dataclass(frozen=True)
class PredictiveSettings:
    checkpoints: tuple[float, ...] = (0.15, 0.3, 0.5, 0.7, 0.85, 0.95)  # ring-time quantiles
    connect_slack_s: float = 1.0  # an answer may wait this long for an operator freeing up
    warmup_answers: int = 50  # until then the allowed overflow is smaller ...
    warmup_factor: float = 0.25  # ... starting at this share of the controller's
    max_lines_per_operator: float = 12.0  # sanity ceiling on calls in flight


def expected_overflow(mean: float, sd: float) -> float:
    """E[max(X, 0)] for X ~ Normal(mean, sd^2): answers left without an operator."""
    if sd <= 1e-9:
        return max(mean, 0.0)
    z = mean / sd
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * math.erfc(-z / math.sqrt(2))
    return sd * pdf + mean * cdf


def _overflow_share(b: Balance, n: int) -> float:
    demand = b.demand + n * b.per_call
    sd = math.sqrt(b.variance + n * b.per_call * (1 - b.per_call))
    return expected_overflow(demand - b.supply, sd) / max(demand, 1.0)


def calls_for(checks: list[Balance], overflow: float, ceiling: int) -> int:
    """The most new calls (up to ``ceiling``) keeping every checkpoint's overflow share within ``overflow``.

    Each share grows with n, so a bisection finds the edge; the checkpoint that
    failed last is tried first, which usually settles a probe in one test.
    """
    order = list(range(len(checks)))

    def fits(n: int) -> bool:
        for pos, i in enumerate(order):
            if _overflow_share(checks[i], n) > overflow:
                order.insert(0, order.pop(pos))
                return False
        return True

    if ceiling <= 0 or not fits(0):
        return 0
    if fits(ceiling):
        return ceiling
    lo, hi = 0, ceiling
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


class PredictivePacer:
    """Predictive pacing under an abandonment controller (one per campaign)."""

    def __init__(
        self,
        policy: AbandonPolicy | None = None,
        settings: PredictiveSettings | None = None,
    ) -> None:
        self.controller = AbandonController(policy)
        self.settings = settings or PredictiveSettings()

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        if snap.staffed <= 0:
            return PacingDecision(0, {"mode": "predictive", "reason": "no operator logged in"})
        steering = self.controller.steer(snap.abandon)
        if not steering.predictive:
            calls = within_limits(snap, snap.ready - snap.in_flight) if snap.ready > 0 else 0
            return PacingDecision(
                calls, {"mode": "predictive", "fallback": "progressive", "abandon_rate": steering.rate}
            )
        s = self.settings
        warm = min(1.0, snap.estimates.answered / s.warmup_answers) if s.warmup_answers else 1.0
        overflow = steering.overflow * (s.warmup_factor + (1.0 - s.warmup_factor) * warm)
        ceiling = min(
            math.floor(s.max_lines_per_operator * snap.staffed) - snap.in_flight,
            within_limits(snap, snap.limits.max_originate_per_tick),
        )
        if ceiling <= 0:
            return PacingDecision(0, {"mode": "predictive", "reason": "at the ceiling"})
        checks = balances(
            snap.estimates,
            s.checkpoints,
            s.connect_slack_s,
            snap.ready,
            snap.waiting,
            snap.in_call,
            snap.in_wrap,
            snap.ringing,
        )
        calls = calls_for(checks, overflow, ceiling)
        b = checks[-1]
        return PacingDecision(
            calls,
            {
                "mode": "predictive",
                "overflow": round(overflow, 4),
                "abandon_rate": round(steering.rate, 4),
                "free_expected": round(b.supply, 2),
                "answers_expected": round(b.demand, 2),
                "answer_rate": round(snap.estimates.answer_rate, 4),
                "horizon_s": round(b.horizon, 1),
            },
        )
