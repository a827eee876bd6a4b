"""A real day in the simulator: answer rates by hour, schedules, a new list, a cold or warm start."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialer.core.errors import InvalidInput
from dialer.sim import SimParams, run_simulation
from dialer.sim.day import HOUR_S, REALISTIC_PROFILE, DayPlan, parse_profile, parse_step

REAL = DayPlan(answer_profile=REALISTIC_PROFILE, schedule="realistic")


def logged_in(plan: DayPlan, operators: int, hours: float, t: float) -> int:
    return sum(1 for op in range(operators) for a, b in plan.presence(op, hours) if a <= t < b)


def test_a_full_schedule_keeps_everyone_all_shift() -> None:
    assert DayPlan().presence(7, 8.0) == [(0.0, 8 * HOUR_S)]
    assert DayPlan().stationary and not REAL.stationary


def test_operators_log_in_in_waves_and_take_breaks_and_lunch_in_groups() -> None:
    team = 12
    assert logged_in(REAL, team, 8.0, 0.0) == 3  # the first of four waves
    assert logged_in(REAL, team, 8.0, 20 * 60.0) == team
    assert logged_in(REAL, team, 8.0, 2 * HOUR_S) == 8  # a third on a break
    assert logged_in(REAL, team, 8.0, 4 * HOUR_S - 60) == 6  # half at lunch
    assert logged_in(REAL, team, 8.0, 6 * HOUR_S + 10 * 60) == 8
    assert logged_in(REAL, team, 8.0, 8 * HOUR_S - 60) == 3  # the last wave leaves last
    for op in range(team):
        spans = REAL.presence(op, 8.0)
        away = 8 * HOUR_S - sum(b - a for a, b in spans)
        assert 2 * 15 * 60 + 45 * 60 <= away <= 2 * 15 * 60 + 45 * 60 + 15 * 60  # breaks, lunch, a wave


def test_the_answer_rate_follows_the_profile_and_the_new_list() -> None:
    plan = DayPlan(answer_profile=(1.0, 0.5), quality_step=(3.0, 0.4))
    assert plan.answer_factor(10.0) == 1.0
    assert plan.answer_factor(1.5 * HOUR_S) == 0.5
    assert plan.answer_factor(3.5 * HOUR_S) == pytest.approx(0.2)  # the last hour holds, the step applies
    assert plan.mean_answer_factor(4.0) == pytest.approx((1.0 + 0.5 + 0.5 + 0.2) / 4)


@pytest.mark.parametrize(
    "bad",
    [
        {"answer_profile": (1.0, float("nan"))},
        {"answer_profile": (-0.1,)},
        {"schedule": "nights"},
        {"start": "hot"},
        {"quality_step": (float("inf"), 0.5)},
        {"quality_step": (2.0, 11.0)},
    ],
)
def test_impossible_days_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        DayPlan(**bad)  # type: ignore[arg-type]


def test_day_options_parse_or_say_what_they_expect() -> None:
    assert parse_profile("realistic") == REALISTIC_PROFILE
    assert parse_profile("flat") == ()
    assert parse_profile("0.8, 1,1.2") == (0.8, 1.0, 1.2)
    assert parse_step("4:0.6") == (4.0, 0.6)
    for text in ("x", "1,,2"):
        with pytest.raises(InvalidInput, match="--answer-profile"):
            parse_profile(text)
    for text in ("4", "a:b", "4:"):
        with pytest.raises(InvalidInput, match="--quality-step"):
            parse_step(text)


DAY = SimParams(operators=12, answer_rate=0.25, talk_mean=60.0, hours=3.0, seed=5, day=REAL)


def test_the_series_shows_the_team_the_schedule_logs_in() -> None:
    result = run_simulation(DAY)
    step = DAY.bucket_s
    for point in result.series:
        minutes = [point.start_s + (i + 0.5) * 60.0 for i in range(int(step // 60))]
        scheduled = sum(logged_in(REAL, 12, 3.0, t) for t in minutes) / len(minutes)
        # An operator in a call when their break starts leaves when it ends (calls of about a
        # minute), an idle one once the calls placed for them are answered or over (25 s at most).
        assert scheduled - 0.2 <= point.operators <= scheduled + 1.0  # minutes sampled: 0.2 of slack
        assert 0.0 <= point.utilization <= 1.0
    # Utilisation is over the time logged in, not over the whole team's shift.
    assert result.utilization > 0.5


def test_a_worse_list_shows_in_the_answer_rate_and_the_pacer_keeps_the_cap() -> None:
    step = replace(DAY, day=replace(REAL, answer_profile=(), quality_step=(1.5, 0.4)))
    result = run_simulation(step)
    before = [p.answer_rate for p in result.series if p.start_s < 1.5 * HOUR_S]
    after = [p.answer_rate for p in result.series if p.start_s >= 1.5 * HOUR_S]
    assert max(after) < min(before)
    assert result.abandon_rate <= 0.03


def test_operators_on_a_break_take_no_calls() -> None:
    """Nobody logged in: no operator, no call placed, nothing abandoned, nothing busy."""
    team = 4
    spans = [REAL.presence(op, 3.0) for op in range(team)]
    first_login = min(s[0][0] for s in spans)
    assert first_login == 0.0
    result = run_simulation(replace(DAY, operators=team, mode="progressive"))
    assert result.abandoned == 0
    lunch = [p for p in result.series if p.operators == 0]
    assert all(p.utilization == 0.0 for p in lunch)


def test_a_warm_start_keeps_the_first_quarter_hour_busier_than_a_cold_one() -> None:
    stationary = SimParams(operators=20, answer_rate=0.2, talk_mean=60.0, hours=1.0, seed=2)
    cold = run_simulation(stationary)
    warm = run_simulation(replace(stationary, day=DayPlan(start="warm")))
    assert warm.series[0].utilization > cold.series[0].utilization
    assert warm.abandon_rate <= 0.03
