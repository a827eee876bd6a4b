"""A real call-centre day for the simulator: answer rates by hour, operator schedules, list changes.

A stationary shift (every operator logged in all day, one answer rate) hides what
makes pacing hard: answer rates that move by the hour, operators who log in in
waves and leave for breaks and lunch, a list of another quality arriving
mid-shift, and a campaign that starts with no history. ``DayPlan`` describes
those; the simulator asks it what the answer rate is at a moment and when each
operator is logged in. Everything here is pure and deterministic: the same plan
gives the same day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialer.core.errors import InvalidInput

HOUR_S = 3600.0

# An answer-rate profile by hour of a shift that starts at 9:00, as a multiplier of the
# list's answer rate: a slow start, a late-morning peak, a lunch dip, the evening high.
REALISTIC_PROFILE: tuple[float, ...] = (0.75, 0.95, 1.05, 0.85, 0.8, 0.95, 1.15, 1.3)
PROFILES: dict[str, tuple[float, ...]] = {"flat": (), "realistic": REALISTIC_PROFILE}
SCHEDULES = ("full", "realistic")
STARTS = ("cold", "warm")

LOGIN_WAVES = 4  # operators log in (and out) in this many waves ...
WAVE_GAP_S = 300.0  # ... this far apart
BREAK_EVERY_S = 2 * HOUR_S
BREAK_S = 15 * 60.0
BREAK_GROUPS = 3  # breaks are taken in this many groups, one after the other
LUNCH_S = 45 * 60.0
LUNCH_GROUPS = 2
LUNCH_FROM_HOURS = 5.0  # a shift at least this long has a lunch at its middle break


@dataclass(frozen=True)
class DayPlan:
    """What changes during the shift; the defaults give the stationary shift.

    ``answer_profile``: multipliers of the answer rate, one per hour of the shift
    (the last holds for later hours); ``schedule``: ``full`` (everyone logged in all
    shift) or ``realistic`` (staggered logins and logouts, a break every two hours,
    lunch); ``quality_step``: from ``hour`` on, the answer rate is multiplied by
    ``factor`` (a new list); ``start``: ``cold`` (the pacer knows nothing) or
    ``warm`` (it has learnt from a previous day of the same list).
    """

    answer_profile: tuple[float, ...] = ()
    schedule: str = "full"
    quality_step: tuple[float, float] | None = None
    start: str = "cold"

    def __post_init__(self) -> None:
        if len(self.answer_profile) > 168:
            raise InvalidInput("--answer-profile: at most one value per hour of a week")
        for value in self.answer_profile:
            if not (math.isfinite(value) and 0.0 <= value <= 10.0):
                raise InvalidInput(f"--answer-profile {value:g}: each multiplier must be 0 to 10")
        if self.schedule not in SCHEDULES:
            raise InvalidInput(f"--schedule {self.schedule[:40]!r}: use {' or '.join(SCHEDULES)}")
        if self.start not in STARTS:
            raise InvalidInput(f"--start {self.start[:40]!r}: use {' or '.join(STARTS)}")
        if self.quality_step is not None:
            hour, factor = self.quality_step
            if not (math.isfinite(hour) and 0.0 <= hour <= 168.0):
                raise InvalidInput(f"--quality-step: hour {hour:g} must be 0 to 168")
            if not (math.isfinite(factor) and 0.0 <= factor <= 10.0):
                raise InvalidInput(f"--quality-step: factor {factor:g} must be 0 to 10")

    @property
    def stationary(self) -> bool:
        return not self.answer_profile and self.schedule == "full" and self.quality_step is None

    def answer_factor(self, t: float) -> float:
        """The multiplier of the list's answer rate at ``t`` seconds into the shift."""
        factor = 1.0
        if self.answer_profile:
            hour = min(int(max(t, 0.0) // HOUR_S), len(self.answer_profile) - 1)
            factor = self.answer_profile[hour]
        if self.quality_step is not None and t >= self.quality_step[0] * HOUR_S:
            factor *= self.quality_step[1]
        return factor

    def mean_answer_factor(self, hours: float, step_s: float = 60.0) -> float:
        """The answer-rate multiplier averaged over a shift of ``hours``."""
        steps = max(1, math.ceil(hours * HOUR_S / step_s))
        return sum(self.answer_factor((i + 0.5) * step_s) for i in range(steps)) / steps

    def presence(self, operator: int, hours: float) -> list[tuple[float, float]]:
        """When ``operator`` (0-based) is logged in and not on a break, as (start, end) seconds."""
        end = hours * HOUR_S
        if self.schedule == "full":
            return [(0.0, end)]
        wave = operator % LOGIN_WAVES
        login = wave * WAVE_GAP_S
        logout = end - (LOGIN_WAVES - 1 - wave) * WAVE_GAP_S
        away = _absences(operator, hours)
        spans: list[tuple[float, float]] = []
        start = login
        for leave, back in away:
            if leave > start and leave < logout:
                spans.append((start, leave))
            start = max(start, back)
        if start < logout:
            spans.append((start, logout))
        return spans


def _absences(operator: int, hours: float) -> list[tuple[float, float]]:
    """Breaks every two hours and a lunch at the middle one, staggered by group."""
    marks = [k * BREAK_EVERY_S for k in range(1, math.ceil(hours * HOUR_S / BREAK_EVERY_S))]
    marks = [m for m in marks if m <= hours * HOUR_S - HOUR_S / 2]
    lunch_at = None
    if hours >= LUNCH_FROM_HOURS and marks:
        lunch_at = min(marks, key=lambda m: abs(m - hours * HOUR_S / 2))
    away = []
    for mark in marks:
        if mark == lunch_at:
            group = operator % LUNCH_GROUPS
            leave = mark - LUNCH_S / 2 + (group - (LUNCH_GROUPS - 1) / 2) * LUNCH_S
            away.append((leave, leave + LUNCH_S))
        else:
            group = operator % BREAK_GROUPS
            leave = mark + (group - (BREAK_GROUPS - 1) / 2) * BREAK_S - BREAK_S / 2
            away.append((leave, leave + BREAK_S))
    return away


def parse_profile(text: str) -> tuple[float, ...]:
    """``flat``, ``realistic``, or hourly multipliers such as ``0.8,1,1.2``."""
    name = text.strip().lower()
    if name in PROFILES:
        return PROFILES[name]
    try:
        values = tuple(float(part) for part in name.split(","))
    except ValueError:
        raise InvalidInput(
            f"--answer-profile {text[:40]!r}: use flat, realistic or multipliers by hour such as 0.8,1,1.2"
        ) from None
    return values


def parse_step(text: str) -> tuple[float, float]:
    """``HOUR:FACTOR``, as in ``4:0.6`` (from hour 4 the answer rate is 0.6 times what it was)."""
    hour, sep, factor = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return float(hour), float(factor)
    except ValueError:
        raise InvalidInput(f"--quality-step {text[:40]!r}: use HOUR:FACTOR, as in 4:0.6") from None
