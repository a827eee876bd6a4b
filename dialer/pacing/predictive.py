"""Predictive pacing: dial so that answers arrive as operators become free.

Over a short horizon (about one ring time) the pacer balances two counts:

- supply: operators ready now, plus each operator in a call or in wrap-up who
  will be free within the horizon, given how long they have been at it
  (lognormal survival conditioned on the elapsed time);
- demand: answered calls waiting, plus each call still ringing that will be
  answered within the horizon, given how long it has rung, plus the new calls.

Each count is a sum of independent Bernoulli variables, so demand - supply is
close to Normal with a known mean and variance. The pacer checks this at
several checkpoints (quantiles of the ring time) and places new calls one by
one in thought: the next call is placed only if the chance that its answer
finds no operator, averaged over when it may be answered, stays within the
risk the abandonment controller allows. Judging the *last* call rather than
the average keeps the marginal risk equal from tick to tick, which buys the
most connects for a given number of abandons; the controller's integrator
turns that risk into the abandon rate the rules count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialer.core.reasons import AT_CEILING, NOBODY_LOGGED_IN
from dialer.pacing.base import PacingDecision, PacingSnapshot, within_caps
from dialer.pacing.controller import AbandonController, AbandonPolicy, RecentAbandons
from dialer.pacing.forecast import Balance, balances
from dialer.pacing.progressive import TRUSTED_ANSWERS, progressive_calls


@dataclass(frozen=True)
class PredictiveSettings:
    checkpoints: tuple[float, ...] = (0.15, 0.3, 0.5, 0.7, 0.85, 0.95)  # ring-time quantiles
    connect_slack_s: float = 1.0  # an answer may wait this long for an operator freeing up
    warmup_answers: int = 50  # until then the allowed risk is smaller ...
    warmup_factor: float = 0.25  # ... starting at this share of the controller's
    max_lines_per_operator: float = 12.0  # sanity ceiling on calls in flight
    # Near the cap the controller asks for caution: predict at this small risk
    # (far busier operators than progressive, few abandons); 0 means progressive.
    cautious_risk: float = 0.002
    # No stretch of ``interval_s`` should abandon much of its answers, even while the
    # day's rate is fine: once the last ``interval_s`` abandoned ``interval_guard`` of
    # its answers (counting at least ``interval_min_answers``), predict cautiously.
    interval_s: float = 900.0
    interval_guard: float = 0.05
    interval_min_answers: int = 30


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def unserved_risk(checks: list[Balance], n: int) -> float:
    """P(the answer of one more call, after ``n`` new ones, finds no operator).

    At each checkpoint that answer is unserved when the other answers by then
    already take every operator free by then; the checkpoints are weighted by
    the share of answers that land in their slot of the ring time.
    """
    risk = 0.0
    for b in checks:
        others = b.demand + n * b.per_call
        # The 0.25 is a continuity correction: the counts are integers.
        sd = math.sqrt(b.variance + n * b.per_call * (1.0 - b.per_call) + 0.25)
        risk += b.weight * _normal_sf((b.supply - 0.5 - others) / sd)
    return risk


def calls_for(checks: list[Balance], risk: float, ceiling: int) -> int:
    """The most new calls (up to ``ceiling``) each of whose answers finds no operator with at most ``risk``.

    The risk grows with every call already placed, so a bisection finds the edge.
    """
    if ceiling <= 0 or unserved_risk(checks, 0) > risk:
        return 0
    if unserved_risk(checks, ceiling - 1) <= risk:
        return ceiling
    lo, hi = 1, ceiling  # call number lo fits, call number hi does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if unserved_risk(checks, mid - 1) <= risk:
            lo = mid
        else:
            hi = mid
    return lo


def known_wrap_ends(snap: PacingSnapshot) -> tuple[float, ...]:
    """The wrap-ups the forecast may count on ending before an answer.

    Whether a wrap-up that ends in 3 s frees its operator before the answer depends on
    how soon people answer. Until the campaign has seen enough answers to know, the
    ring time is the prior's guess (seconds of ringing), while a list of people who
    pick up at once answers within the wrap-up: as in progressive mode, the operator
    then counts only once the wrap-up is over. A campaign started while its operators
    are still in the wrap-up of an earlier run's calls is the case this guards.
    """
    return snap.wrap_left if snap.estimates.answered >= TRUSTED_ANSWERS else ()


class PredictivePacer:
    """Predictive pacing under an abandonment controller (one per campaign)."""

    def __init__(
        self,
        policy: AbandonPolicy | None = None,
        settings: PredictiveSettings | None = None,
    ) -> None:
        self.controller = AbandonController(policy)
        self.settings = settings or PredictiveSettings()
        self.recent = RecentAbandons(self.settings.interval_s)

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        if snap.staffed <= 0:
            return PacingDecision(0, {"mode": "predictive", "reason": NOBODY_LOGGED_IN})
        steering = self.controller.steer(snap.abandon)
        s = self.settings
        self.recent.update(snap.now, snap.abandon)
        guarded = self.recent.share(s.interval_min_answers) >= s.interval_guard
        cautious = (steering.cautious or guarded) and s.cautious_risk > 0
        if not steering.predictive or (steering.cautious and not cautious):
            calls = progressive_calls(snap)
            return PacingDecision(
                calls, {"mode": "predictive", "fallback": "progressive", "abandon_rate": steering.rate}
            )
        if cautious:
            risk = s.cautious_risk
        else:
            warm = min(1.0, snap.estimates.answered / s.warmup_answers) if s.warmup_answers else 1.0
            risk = steering.overflow * (s.warmup_factor + (1.0 - s.warmup_factor) * warm)
        ceiling = min(
            math.floor(s.max_lines_per_operator * snap.staffed) - snap.in_flight,
            within_caps(snap, snap.limits.max_originate_per_tick),
        )
        if ceiling <= 0:
            return PacingDecision(0, {"mode": "predictive", "reason": AT_CEILING})
        checks = balances(
            snap.estimates,
            s.checkpoints,
            s.connect_slack_s,
            snap.ready,
            snap.waiting,
            snap.in_call,
            snap.in_wrap,
            snap.ringing,
            known_wrap_ends(snap),
        )
        forecast = calls_for(checks, risk, ceiling)
        # Never fewer than progressive: those calls each have an operator of their own and
        # risk nobody, while a small team's forecast (a lone ready operator is a fuzzy count
        # of one) or a cautious controller at a cold start may allow none of them.
        floor = progressive_calls(snap)
        calls = max(forecast, floor)
        b = checks[-1]
        explain: dict[str, float | str] = {
            "mode": "predictive",
            "overflow": round(risk, 4),
            "abandon_rate": round(steering.rate, 4),
            "free_expected": round(b.supply, 2),
            "answers_expected": round(b.demand, 2),
            "answer_rate": round(snap.estimates.answer_rate, 4),
            "horizon_s": round(b.horizon, 1),
        }
        if cautious:
            explain["fallback"] = "cautious" if steering.cautious else "recent abandons"
        if floor > forecast:
            explain["floor"] = "progressive"
        return PacingDecision(calls, explain)
