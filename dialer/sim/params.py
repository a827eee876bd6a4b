"""One simulated shift's parameters, checked: what ``dialer simulate`` and the benchmark set."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dialer.core.errors import InvalidInput
from dialer.sim.day import DayPlan


@dataclass(frozen=True)
class SimParams:
    """One simulated shift; the first fields match ``dialer simulate``'s flags."""

    operators: int = 20
    answer_rate: float = 0.3
    ring_mean: float = 8.0
    talk_mean: float = 120.0
    wrap: float = 10.0
    hours: float = 8.0
    seed: int = 1
    mode: str = "predictive"
    busy_share: float = 0.15
    no_answer_share: float = 0.6
    machine_share: float = 0.2
    ring_timeout: float = 25.0
    connect_limit: float = 2.0
    patience_mean: float = 20.0
    amd_s: float = 2.5  # answering-machine detection time; 0 sends machines to operators
    tick: float = 1.0
    max_channels: int = 3000
    max_originate_per_tick: int = 200
    bucket_s: float = 900.0  # the series' step: 15 minutes
    # Wrap-up as the queue applies it (Asterisk's wrapuptime): exactly ``wrap`` seconds,
    # its end known. False: each operator closes the call in their own time (lognormal
    # around ``wrap``), and the pacer knows only how long they have been at it.
    wrap_by_queue: bool = True
    # Answer rates by hour, operator schedules, a new list, a cold or warm start.
    day: DayPlan = field(default_factory=DayPlan)

    def __post_init__(self) -> None:
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            # "not low <= value" also catches NaN, which compares false with everything.
            if not (math.isfinite(value) and low <= value <= high):
                raise InvalidInput(f"--{name.replace('_', '-')} {value:g}: expected {low:g} to {high:g}")
        if self.talk_mean <= 0 or self.ring_mean <= 0 or self.hours <= 0 or self.tick <= 0:
            raise InvalidInput("--talk-mean, --ring-mean and --hours must be more than 0")
        if self.busy_share + self.no_answer_share + self.machine_share > 1.0 + 1e-9:
            raise InvalidInput("--busy-share, --no-answer-share and --machine-share add up to more than 1")


# Every number of a shift, with the range a simulation of one shift can take: the bounds keep
# NaN, infinity and sizes that would take the machine's memory (1e8 operators, 1e9 hours) out.
_RANGES: dict[str, tuple[float, float]] = {
    "operators": (1, 10_000),
    "answer_rate": (0.0, 1.0),
    "ring_mean": (0.0, 600.0),
    "talk_mean": (0.0, 36_000.0),
    "wrap": (0.0, 3_600.0),
    "hours": (0.0, 168.0),
    "busy_share": (0.0, 1.0),
    "no_answer_share": (0.0, 1.0),
    "machine_share": (0.0, 1.0),
    "ring_timeout": (2.0, 600.0),
    "connect_limit": (0.0, 60.0),
    "patience_mean": (0.0, 3_600.0),
    "amd_s": (0.0, 60.0),
    "tick": (0.01, 60.0),
    "max_channels": (1, 100_000),
    "max_originate_per_tick": (1, 100_000),
    "bucket_s": (1.0, 86_400.0),
}
