"""Forecasts for the predictive pacer: who frees up and who answers, by when.

For every checkpoint (a few quantiles of the ring time) the pacer needs, per
operator and per ringing call, a probability conditioned on how long that
operator has talked or that call has rung. Evaluating survival functions for
every element every tick is what makes pacers slow; instead each conditional
probability is tabulated once over a grid of elapsed times, for estimates
rounded to about 1%, and a tick reduces to counting elements per grid cell and
one matrix-vector product. The tables are cached, so they are rebuilt only when
the estimates really move.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dialer.pacing.estimates import Estimates, FloatArray, LogNormal

RING_STEP_S = 0.25
WRAP_STEP_S = 0.25
TALK_STEP_S = 1.0


@dataclass(frozen=True)
class Balance:
    """Answers against free operators by one checkpoint ``horizon`` seconds ahead."""

    supply: float
    demand: float
    variance: float
    per_call: float  # P(a new call is answered by the checkpoint)
    horizon: float
    weight: float = 1.0  # share of a new call's answers that land here (after the previous checkpoint)


@dataclass(frozen=True, eq=False)
class _Table:
    """P(event by each checkpoint | elapsed), tabulated over an elapsed-time grid."""

    step: float
    prob: FloatArray  # (checkpoints, cells)
    var: FloatArray  # prob * (1 - prob): each element is a Bernoulli variable

    def totals(self, elapsed: Sequence[float]) -> tuple[FloatArray, FloatArray]:
        """Sum of probabilities and of variances per checkpoint over ``elapsed``."""
        cells = self.prob.shape[1]
        if not elapsed:
            zero = np.zeros(self.prob.shape[0])
            return zero, zero
        idx = np.minimum(np.asarray(elapsed) * (1.0 / self.step), cells - 1).astype(np.intp)
        counts = np.bincount(idx, minlength=cells).astype(np.float64)
        mean: FloatArray = self.prob @ counts
        var: FloatArray = self.var @ counts
        return mean, var


def _table(prob: FloatArray, step: float) -> _Table:
    prob = np.clip(prob, 0.0, 1.0)
    return _Table(step=step, prob=prob, var=prob * (1.0 - prob))


def _grid(step: float, upto: float) -> FloatArray:
    cells = max(2, int(upto / step) + 1)
    grid: FloatArray = (np.arange(cells, dtype=np.float64) + 0.5) * step
    return grid


def _rounded(d: LogNormal) -> LogNormal:
    return LogNormal(mu=round(d.mu / 0.01) * 0.01, sigma=round(d.sigma / 0.01) * 0.01)


def _done_by(dist: LogNormal, elapsed: FloatArray, horizons: FloatArray) -> FloatArray:
    """P(done within each horizon | lasted ``elapsed``), shape (horizons, elapsed)."""
    alive = np.maximum(dist.sf_many(elapsed), 1e-12)
    later = dist.sf_many(elapsed + horizons[:, None])
    out: FloatArray = 1.0 - later / alive
    return out


@functools.lru_cache(maxsize=256)
def _operator_table(dist: LogNormal, reach: tuple[float, ...], step: float) -> _Table:
    grid = _grid(step, dist.quantile(0.9995) + 1.0)
    return _table(_done_by(dist, grid, np.asarray(reach)), step)


@functools.lru_cache(maxsize=256)
def _ringing_table(p: float, ring: LogNormal, no_answer: LogNormal, horizons: tuple[float, ...]) -> _Table:
    grid = _grid(RING_STEP_S, max(ring.quantile(0.9995), no_answer.quantile(0.99)) + 1.0)
    answer_later = ring.sf_many(grid)
    alive = np.maximum(p * answer_later + (1 - p) * no_answer.sf_many(grid), 1e-12)
    soon = p * (answer_later - ring.sf_many(grid + np.asarray(horizons)[:, None])) / alive
    return _table(soon, RING_STEP_S)


@functools.lru_cache(maxsize=64)
def _horizons(ring: LogNormal, quantiles: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(ring.quantile(q) for q in quantiles)


def balances(
    est: Estimates,
    checkpoints: tuple[float, ...],
    connect_slack_s: float,
    ready: int,
    waiting: int,
    in_call: Sequence[float],
    in_wrap: Sequence[float],
    ringing: Sequence[float],
    wrap_left: Sequence[float] = (),
) -> list[Balance]:
    """Expected free operators and expected answers by each checkpoint, before new calls.

    An operator who frees up takes one answer: calls last far longer than the
    horizon, so nobody serves two of the answers counted here. Checking every
    checkpoint (not only the last) keeps early answers from outrunning
    operators who free up late. A wrap-up whose end is known (``wrap_left``)
    frees its operator by a checkpoint or not: no uncertainty to add.
    """
    ring = _rounded(est.ring)
    talk = _rounded(est.talk)
    wrap = _rounded(est.wrap)
    p = round(est.answer_rate / 0.002) * 0.002
    horizons = _horizons(ring, checkpoints)
    reach = tuple(round(h + connect_slack_s, 2) for h in horizons)
    # A talking operator still has the wrap-up ahead of them.
    talk_reach = tuple(round(max(r - wrap.mean, 0.0), 1) for r in reach)
    f_call, v_call = _operator_table(talk, talk_reach, TALK_STEP_S).totals(in_call)
    f_wrap, v_wrap = _operator_table(wrap, reach, WRAP_STEP_S).totals(in_wrap)
    answers, v_answers = _ringing_table(p, ring, _rounded(est.no_answer), horizons).totals(ringing)
    left = np.sort(np.asarray(wrap_left, dtype=np.float64))
    f_known = np.searchsorted(left, np.asarray(reach), side="right").astype(np.float64)
    supply = ready + f_call + f_wrap + f_known
    demand = waiting + answers
    variance = v_call + v_wrap + v_answers
    # An answer after the last checkpoint is judged there: most of them come soon after it.
    weights = [q - prev for prev, q in zip((0.0, *checkpoints[:-1]), checkpoints, strict=True)]
    weights[-1] += 1.0 - checkpoints[-1]
    return [
        Balance(float(supply[i]), float(demand[i]), float(variance[i]), p * q, horizons[i], weights[i])
        for i, q in enumerate(checkpoints)
    ]
