"""Fixed-risk rows of the pacing benchmark: the product's forecast without its controller.

``fixed-risk-R`` is the product's ``PredictivePacer`` whose allowed risk for its last call
is ``R`` all day: no integrator moving it, no caution latch near the cap and no
quarter-hour guard. The controller's last safety stays: at 98% of the cap the pacer
dials progressively until the rate is back under it (``fixed-risk-R-nocap`` drops that
too). The warm-up scaling of the risk over the first 50 answers is the pacer's own and
stays. Sweeping ``R`` traces the utilisation/abandon frontier of the product's forecast,
so the tables can show whether the controller leaves utilisation behind on it at the
abandon rate it aims for. Not part of the product.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from dialer.pacing import AbandonController, AbandonStats, PredictivePacer, PredictiveSettings, Steering

PREFIX = "fixed-risk-"
NO_CAP = "-nocap"
TARGET = 0.025  # the controller's target abandon rate


class FixedRisk(AbandonController):
    """The abandonment controller with its allowed risk pinned to ``risk``."""

    def __init__(self, risk: float, cap_fallback: bool = True) -> None:
        super().__init__()
        self.risk = risk
        self.cap_fallback = cap_fallback

    def steer(self, stats: AbandonStats) -> Steering:
        steering = super().steer(stats)  # only its rate and its progressive edge are used
        return Steering(
            predictive=steering.predictive or not self.cap_fallback,
            overflow=self.risk,
            rate=steering.rate,
            cautious=False,
        )


def is_fixed_risk(method: str) -> bool:
    return method.startswith(PREFIX)


def risk_of(method: str) -> float:
    return float(method.removeprefix(PREFIX).removesuffix(NO_CAP))


def fixed_risk_pacer(method: str) -> Callable[[], PredictivePacer]:
    """The pacer a ``fixed-risk-R`` (or ``fixed-risk-R-nocap``) method name stands for."""
    risk, cap_fallback = risk_of(method), not method.endswith(NO_CAP)
    if not 0 < risk < 1:
        raise ValueError(f"{method}: the fixed risk must lie between 0 and 1")

    def make() -> PredictivePacer:
        # An infinite guard share: the quarter-hour guard never turns cautious.
        pacer = PredictivePacer(settings=PredictiveSettings(interval_guard=math.inf))
        pacer.controller = FixedRisk(risk, cap_fallback)
        return pacer

    return make


def _num(row: dict[str, object], key: str) -> float:
    return float(str(row[key]))


def at_target(points: Sequence[tuple[float, float]], target: float = TARGET) -> float | None:
    """Utilisation at abandon rate ``target`` on a sweep of (abandon, utilisation) points.

    Linear between the two neighbouring sweep points (in order of risk) whose abandon
    rates straddle ``target``; None when the sweep does not reach across it.
    """
    for (a0, u0), (a1, u1) in itertools.pairwise(points):
        if min(a0, a1) <= target <= max(a0, a1):
            return u0 if a1 == a0 else u0 + (u1 - u0) * (target - a0) / (a1 - a0)
    return None


def frontier_lines(rows: list[dict[str, object]]) -> list[str]:
    """Per cell: the fixed-risk sweep's utilisation at the target abandon rate, against predictive."""
    cells: dict[tuple[object, ...], dict[str, dict[str, object]]] = {}
    for row in rows:
        cell = (row["operators"], row["answer_rate"], row["talk_mean"])
        cells.setdefault(cell, {})[str(row["method"])] = row
    lines = []
    for (ops, p, talk), methods in cells.items():
        for suffix in ("", NO_CAP):
            sweep = sorted(
                (risk_of(m), r)
                for m, r in methods.items()
                if is_fixed_risk(m) and m.endswith(NO_CAP) == bool(suffix)
            )
            if not sweep:
                continue
            points = [(_num(r, "abandon_rate_mean"), _num(r, "utilization_mean")) for _, r in sweep]
            u = at_target(points)
            name = f"{ops} operators, answer rate {p}, talk {talk} s"
            found = "not reached by the sweep" if u is None else f"{u:.1%}"
            line = f"fixed-risk{suffix} frontier at {TARGET:.1%} abandoned: {name}: {found}"
            pred = methods.get("predictive")
            if pred is not None and u is not None:
                pu = _num(pred, "utilization_mean")
                line += f" vs predictive {pu:.1%} ({100 * (u - pu):+.1f} points)"
            lines.append(line)
    return lines
