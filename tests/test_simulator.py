"""The shift simulator: seeded, runs the product's pacer and attempt machine, reports honestly."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dialer.pacing import PacingDecision, PacingSnapshot
from dialer.sim import SimParams, run_simulation
from dialer.sim.simulator import Foresight

SMALL = SimParams(operators=10, answer_rate=0.2, talk_mean=60.0, wrap=10.0, hours=1.0, seed=3)


def test_same_seed_same_shift() -> None:
    a, b = run_simulation(SMALL), run_simulation(SMALL)
    assert a.to_dict() == b.to_dict()
    assert a.series == b.series


def test_another_seed_another_shift() -> None:
    assert run_simulation(SMALL).to_dict() != run_simulation(replace(SMALL, seed=4)).to_dict()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_predictive_keeps_the_shift_under_the_three_percent_cap(seed: int) -> None:
    result = run_simulation(replace(SMALL, seed=seed, mode="predictive"))
    assert result.live_answers > 100
    assert result.abandon_rate <= 0.03


def test_progressive_abandons_nothing_for_want_of_an_operator() -> None:
    result = run_simulation(replace(SMALL, mode="progressive"))
    assert result.connects > 0
    assert result.abandoned == 0


def test_preview_places_no_calls() -> None:
    result = run_simulation(replace(SMALL, mode="preview", hours=0.2))
    assert result.calls == 0
    assert result.utilization == 0.0


def test_predictive_keeps_operators_busier_than_progressive_when_few_answer() -> None:
    low = replace(SMALL, answer_rate=0.15)
    predictive = run_simulation(replace(low, mode="predictive"))
    progressive = run_simulation(replace(low, mode="progressive"))
    assert predictive.utilization > progressive.utilization + 0.1


def test_every_live_answer_is_either_connected_or_abandoned() -> None:
    result = run_simulation(SMALL)
    assert result.connects + result.abandoned == result.live_answers
    assert result.calls >= result.live_answers


def test_calls_nobody_answers_are_placed_but_never_count_as_live_answers() -> None:
    nobody = run_simulation(replace(SMALL, answer_rate=0.0, hours=0.2))
    assert nobody.calls > 0
    assert nobody.live_answers == 0
    assert nobody.abandon_rate == 0.0


def test_without_amd_machines_reach_operators() -> None:
    machines_only = replace(SMALL, answer_rate=0.0, busy_share=0.0, no_answer_share=0.0, machine_share=1.0)
    with_amd = run_simulation(replace(machines_only, hours=0.2))
    without_amd = run_simulation(replace(machines_only, hours=0.2, amd_s=0.0))
    assert with_amd.connects == 0
    assert without_amd.connects > 0


def test_a_benchmark_can_pass_its_own_pacer() -> None:
    seen: list[PacingSnapshot] = []

    class OneCallPerMinute:
        def decide(self, snap: PacingSnapshot) -> PacingDecision:
            seen.append(snap)
            return PacingDecision(1 if snap.now % 60 == 0 else 0)

    result = run_simulation(replace(SMALL, hours=0.5), OneCallPerMinute())
    assert result.calls == 30
    assert len(seen) == 1800
    assert seen[0].ready == SMALL.operators


def test_a_foreseeing_pacer_is_told_which_calls_a_person_answers_and_when() -> None:
    """The benchmark's limit: each answer it is told of comes true, at the time it was told."""
    told: dict[float, int] = {}

    class Oracle:
        def decide(self, snap: PacingSnapshot) -> PacingDecision:
            raise AssertionError("a foreseeing pacer is asked with the foresight")

        def decide_knowing(self, snap: PacingSnapshot, sight: Foresight) -> PacingDecision:
            assert all(t > snap.now for t in sight.free_at)
            for t in sight.answers_at:
                told[t] = told.get(t, 0) + 1
            return PacingDecision(max(0, snap.ready - snap.in_flight))

    result = run_simulation(replace(SMALL, hours=0.25, amd_s=0.0, machine_share=0.0), Oracle())
    assert result.live_answers > 0
    # Every person who answered was foreseen (those answering within a tick of the dial excepted).
    assert 0.8 * result.live_answers <= len(told) <= result.live_answers


def test_to_json_carries_exactly_the_headline_keys() -> None:
    data = json.loads(run_simulation(replace(SMALL, hours=0.25)).to_json())
    assert set(data) == {
        "utilization",
        "abandon_rate",
        "idle_seconds_per_connect",
        "connects_per_operator_hour",
        "calls",
    }


def test_series_covers_the_shift_in_buckets() -> None:
    result = run_simulation(SMALL)
    assert [p.start_s for p in result.series] == [0.0, 900.0, 1800.0, 2700.0]  # 15-minute steps
    assert all(0.0 <= p.utilization <= 1.0 for p in result.series)
    assert result.series[-1].abandon_rate == pytest.approx(result.abandon_rate)


def test_plot_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "shift.png"
    with out.open("wb") as handle:
        run_simulation(replace(SMALL, hours=0.5)).plot(handle)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "bad",
    [
        {"operators": 0},
        {"answer_rate": 1.5},
        {"busy_share": 0.6, "no_answer_share": 0.6},
        {"hours": 0},
        {"talk_mean": 0},
    ],
)
def test_impossible_parameters_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        run_simulation(replace(SMALL, **bad))
