"""The pacing benchmark's fixed-risk rows: the product's forecast at one allowed risk, no controller."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dialer.pacing import AbandonStats
from tests.test_pacing import busy_floor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from _pacing_day import DAY_METHODS
from _pacing_fixed import at_target, fixed_risk_pacer
from pacing import METHODS, unknown_methods


@pytest.mark.parametrize("abandoned", [0, 20, 29])
def test_the_allowed_risk_stays_put_whatever_the_abandon_rate(abandoned: int) -> None:
    pacer = fixed_risk_pacer("fixed-risk-0.07")()
    for live in (1000, 1100, 1200):  # answers served since: a controller would raise its risk
        decision = pacer.decide(busy_floor(abandon=AbandonStats(abandoned, live)))
        assert decision.explain["overflow"] == 0.07
        assert "fallback" not in decision.explain  # no caution latch near the cap


def test_at_the_cap_edge_it_dials_progressively_unless_told_not_to() -> None:
    at_edge = busy_floor(ready=6, abandon=AbandonStats(30, 1000))  # 3.0% >= 0.98 x 3%
    assert fixed_risk_pacer("fixed-risk-0.07")().decide(at_edge).explain["fallback"] == "progressive"
    bare = fixed_risk_pacer("fixed-risk-0.07-nocap")().decide(at_edge)
    assert bare.explain["overflow"] == 0.07
    assert bare.calls > fixed_risk_pacer("fixed-risk-0.07")().decide(at_edge).calls


@pytest.mark.parametrize("name", ["fixed-risk-0", "fixed-risk-1.5", "fixed-risk-x", "fixed-risk-0.1-capped"])
def test_a_risk_outside_zero_to_one_or_not_a_number_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        fixed_risk_pacer(name)


def test_the_frontier_is_read_between_the_sweep_points_that_straddle_the_target() -> None:
    # (abandon rate, risk, utilisation)
    sweep = [(0.01, 0.04, 0.80), (0.02, 0.06, 0.86), (0.03, 0.08, 0.90), (0.025, 0.10, 0.70)]
    risk, utilisation = at_target(sweep, 0.025) or (0.0, 0.0)
    assert risk == pytest.approx(0.07)
    assert utilisation == pytest.approx(0.88)  # the first crossing, not the fold-back after it
    assert at_target(sweep[:2], 0.025) is None


def test_every_grids_own_methods_are_known_and_other_names_are_not() -> None:
    assert unknown_methods(list(DAY_METHODS), day=True) == []  # "stationary" is no pacer, and is known
    assert unknown_methods([*METHODS, "fixed-risk-0.05", "fixed-risk-0.05-nocap"], day=False) == []
    assert unknown_methods(["stationary", "fixed-risk-2", "nope"], day=False) == [
        "stationary",
        "fixed-risk-2",
        "nope",
    ]
    assert unknown_methods(["fixed-risk-0.05", "omnidialer"], day=True) == ["fixed-risk-0.05", "omnidialer"]
