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
Row = dict[str, object]  # a summary row of the grid (pacing.summarise)


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


def _num(row: Row, key: str) -> float:
    return float(str(row[key]))


def at_target(points: Sequence[Sequence[float]], target: float = TARGET) -> tuple[float, ...] | None:
    """The values of a sweep where its abandon rate is ``target``.

    Each point is (abandon rate, values...), in order of risk. The values are linear
    between the first two neighbouring points whose abandon rates straddle ``target``;
    None when the sweep does not reach across it.
    """
    for p0, p1 in itertools.pairwise(points):
        a0, a1 = p0[0], p1[0]
        if min(a0, a1) <= target <= max(a0, a1):
            t = 0.0 if a1 == a0 else (target - a0) / (a1 - a0)
            return tuple(v0 + (v1 - v0) * t for v0, v1 in zip(p0[1:], p1[1:], strict=True))
    return None


def _sweep_line(name: str, sweep: list[tuple[float, Row]], pred: Row | None) -> str:
    points = [
        (_num(r, "abandon_rate_mean"), risk, _num(r, "utilization_mean"), _num(r, "abandon_rate_max"))
        for risk, r in sweep
    ]
    found = at_target(points)
    if found is None:
        return f"{name}: {TARGET:.1%} abandoned not reached by the sweep"
    risk, u, abandon_max = found
    line = f"{name}: {u:.1%} at risk {risk:.3f} (interpolated; worst seed there about {abandon_max:.2%})"
    if pred is not None:
        pu, pa = _num(pred, "utilization_mean"), _num(pred, "abandon_rate_mean")
        line += f" vs predictive {pu:.1%} ({100 * (u - pu):+.1f} points)"
        same = at_target(points, pa)
        if same is not None:
            su = same[1]
            line += f"; at predictive's own mean abandon rate {pa:.2%}: {su:.1%} ({100 * (su - pu):+.1f})"
    return line


def frontier_lines(rows: list[Row]) -> list[str]:
    """Per cell: the fixed-risk sweep's utilisation at the target abandon rate, against predictive."""
    cells: dict[tuple[object, ...], dict[str, Row]] = {}
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
            if sweep:
                cell_name = f"{ops} operators, answer rate {p}, talk {talk:g} s"
                name = f"fixed-risk{suffix} at {TARGET:.1%} abandoned: {cell_name}"
                lines.append(_sweep_line(name, sweep, methods.get("predictive")))
    return lines
