"""What a campaign has learned about its own calls, for the pacer.

Two layers:

- ``Estimates`` (frozen) is the value the pacer reads: an answer probability and
  lognormal fits of ring, no-answer, talk and wrap-up times (talk and wrap-up
  apart: an operator still talking has the whole wrap-up ahead).
- ``EstimatesTracker`` is a small *mutable* object the engine (or the simulator)
  feeds with every finished attempt; ``tracker.current()`` returns a fresh
  ``Estimates``. It mutates in place because it is fed thousands of times a
  shift and copying would buy nothing: nobody else holds a reference to it.

Each fit starts from a prior worth a few observations, so a new campaign paces
sensibly before it has data, and forgets slowly (exponential weighting with a
cap on the effective sample size) so it follows a list whose answer rate drifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dialer.core.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]

# Standard normal upper tail on a fine grid: numpy has no erfc, and the pacer
# evaluates hundreds of survival probabilities every tick.
_Z_GRID: FloatArray = np.linspace(-8.0, 8.0, 3201)
_Q_TABLE: FloatArray = np.array([0.5 * math.erfc(z / math.sqrt(2.0)) for z in _Z_GRID])

MIN_SIGMA = 0.05


@dataclass(frozen=True)
class LogNormal:
    """A positive duration whose logarithm is Normal(mu, sigma)."""

    mu: float
    sigma: float

    @classmethod
    def from_mean(cls, mean: float, sigma: float) -> LogNormal:
        if mean <= 0:
            raise InvalidInput(f"mean must be positive, got {mean}")
        sigma = max(sigma, MIN_SIGMA)
        return cls(mu=math.log(mean) - sigma * sigma / 2.0, sigma=sigma)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma * self.sigma / 2.0)

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    def quantile(self, q: float) -> float:
        """The duration not exceeded with probability ``q`` (0 < q < 1)."""
        # Invert the tabulated tail: Q is decreasing in z.
        z = float(np.interp(1.0 - q, _Q_TABLE[::-1], _Z_GRID[::-1]))
        return math.exp(self.mu + self.sigma * z)

    def sf(self, x: float) -> float:
        """P(duration > x)."""
        if x <= 0:
            return 1.0
        return 0.5 * math.erfc((math.log(x) - self.mu) / (self.sigma * math.sqrt(2.0)))

    def sf_many(self, xs: FloatArray) -> FloatArray:
        """P(duration > x) for each x, vectorised through the tabulated tail."""
        safe = np.maximum(xs, 1e-9)
        z = (np.log(safe) - self.mu) / self.sigma
        out: FloatArray = np.interp(z, _Z_GRID, _Q_TABLE)
        return np.where(xs <= 0, 1.0, out)

    def done_within(self, elapsed: FloatArray, horizon: float) -> FloatArray:
        """P(it ends within ``horizon`` more seconds | it has lasted ``elapsed``)."""
        alive = self.sf_many(elapsed)
        later = self.sf_many(elapsed + horizon)
        out: FloatArray = np.where(alive > 1e-12, 1.0 - later / np.maximum(alive, 1e-12), 1.0)
        return out


@dataclass(frozen=True)
class Estimates:
    """A campaign's current view of its calls.

    ``answer_rate``: P(a placed call is answered by a person);
    ``ring``: dial to answer, for answered calls; ``no_answer``: dial to end, for
    calls that were not answered (busy, no answer, machine ...); ``talk``: connected
    time per call; ``wrap``: wrap-up after it.
    ``answered`` / ``resolved`` count live answers and calls with a known outcome
    since the campaign started (not weighted): the warm-up gauge.
    """

    answer_rate: float
    ring: LogNormal
    no_answer: LogNormal
    talk: LogNormal
    wrap: LogNormal
    answered: int = 0
    resolved: int = 0

    @classmethod
    def prior(cls) -> Estimates:
        return EstimatesTracker().current()


class _LogNormalFit:
    """Exponentially weighted mean and variance of log(x), started from a prior."""

    def __init__(self, mean: float, sigma: float, prior_weight: float, max_weight: float) -> None:
        prior = LogNormal.from_mean(mean, sigma)
        self._m = prior.mu
        self._v = prior.sigma * prior.sigma
        self._w = prior_weight
        self._max_w = max_weight

    def add(self, x: float) -> None:
        lx = math.log(max(x, 0.05))
        self._w = min(self._w + 1.0, self._max_w)
        alpha = 1.0 / self._w
        delta = lx - self._m
        self._m += alpha * delta
        self._v = (1.0 - alpha) * (self._v + alpha * delta * delta)

    def current(self) -> LogNormal:
        return LogNormal(mu=self._m, sigma=max(math.sqrt(self._v), MIN_SIGMA))


@dataclass(frozen=True)
class Priors:
    """Where a new campaign starts, and how fast it forgets."""

    answer_rate: float = 0.25
    answer_weight: float = 40.0  # pseudo-calls behind the prior answer rate
    ring_mean: float = 10.0
    no_answer_mean: float = 15.0
    talk_mean: float = 110.0
    wrap_mean: float = 10.0
    sigma: float = 0.6
    weight: float = 5.0  # pseudo-observations behind each duration prior
    max_calls: float = 3000.0  # effective memory of the answer rate, in calls
    max_samples: float = 1000.0  # effective memory of each duration fit


class EstimatesTracker:
    """Learns a campaign's ``Estimates`` from its finished attempts (mutable)."""

    def __init__(self, priors: Priors | None = None) -> None:
        p = priors or Priors()
        self._max_calls = p.max_calls
        self._a = p.answer_rate * p.answer_weight
        self._b = (1.0 - p.answer_rate) * p.answer_weight
        self._ring = _LogNormalFit(p.ring_mean, p.sigma, p.weight, p.max_samples)
        self._no_answer = _LogNormalFit(p.no_answer_mean, 1.0, p.weight, p.max_samples)
        self._talk = _LogNormalFit(p.talk_mean, p.sigma, p.weight, p.max_samples)
        self._wrap = _LogNormalFit(p.wrap_mean, 0.3, p.weight, p.max_samples)
        self._answered = 0
        self._resolved = 0
        self._cache: Estimates | None = None

    def call_resolved(self, answered: bool, seconds: float) -> None:
        """A placed call reached its outcome ``seconds`` after the dial.

        ``answered`` means a person answered (not a machine); for those
        ``seconds`` is the ring time, for the others the time to failure.
        """
        total = self._a + self._b
        if total >= self._max_calls:
            keep = (self._max_calls - 1.0) / total
            self._a *= keep
            self._b *= keep
        self._resolved += 1
        if answered:
            self._a += 1.0
            self._answered += 1
            self._ring.add(seconds)
        else:
            self._b += 1.0
            self._no_answer.add(seconds)
        self._cache = None

    def call_handled(self, talk_s: float, wrap_s: float) -> None:
        """An operator finished a call: ``talk_s`` connected, then ``wrap_s`` of wrap-up."""
        self._talk.add(talk_s)
        self._wrap.add(wrap_s)
        self._cache = None

    def current(self) -> Estimates:
        if self._cache is None:
            self._cache = Estimates(
                answer_rate=self._a / (self._a + self._b),
                ring=self._ring.current(),
                no_answer=self._no_answer.current(),
                talk=self._talk.current(),
                wrap=self._wrap.current(),
                answered=self._answered,
                resolved=self._resolved,
            )
        return self._cache
