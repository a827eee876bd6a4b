"""The simulated world: who answers, how long it rings, how long operators talk.

Every draw goes through the ``random.Random`` the simulator seeds, so one seed
is one history.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import Enum

from dialer.core.errors import InvalidInput
from dialer.pacing.estimates import EstimatesTracker

# A warm start has learnt from this many calls of a previous day (the engine reads as many back).
WARM_START_CALLS = 1000


class Fate(Enum):
    """What the network and the called person will do with one call."""

    PERSON = "person"
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"


@dataclass(frozen=True)
class CallPlan:
    """One call's future, drawn when it is placed (times in seconds after the dial)."""

    fate: Fate
    ringing_after: float  # the network reports ringing (unused for busy / congestion)
    outcome_after: float  # answer (person, machine) or failure
    verdict_after: float  # AMD verdict; equals outcome_after without AMD
    patience: float  # a person's patience in the queue, seconds


def _lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2.0, sigma)


@dataclass(frozen=True)
class Customers:
    """How the called numbers behave.

    ``answer_rate`` is the share of calls a person answers; the other calls split
    into ``busy_share``, ``no_answer_share`` and ``machine_share`` of the
    remainder, and whatever is left is network congestion.
    """

    answer_rate: float
    ring_mean: float
    busy_share: float
    no_answer_share: float
    machine_share: float
    ring_timeout: float
    patience_mean: float
    amd_s: float  # AMD listening time after the answer; 0 = no AMD
    ring_sigma: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.answer_rate <= 1.0:
            raise InvalidInput(f"answer rate must be within [0, 1], got {self.answer_rate}")
        shares = (self.busy_share, self.no_answer_share, self.machine_share)
        if min(shares) < 0 or sum(shares) > 1.0 + 1e-9:
            raise InvalidInput("busy, no-answer and machine shares must be >= 0 and sum to at most 1")
        if self.ring_mean <= 0 or self.ring_timeout <= 1.0:
            raise InvalidInput("ring mean must be > 0 and ring timeout > 1 s")

    def plan(self, rng: random.Random, answer_rate: float | None = None) -> CallPlan:
        """One call's future; ``answer_rate`` overrides the list's (a day whose rate moves)."""
        setup = rng.uniform(0.3, 1.2)
        patience = rng.expovariate(1.0 / self.patience_mean)
        u = rng.random()
        if u < (self.answer_rate if answer_rate is None else answer_rate):
            fate = Fate.PERSON
        else:
            v = rng.random()
            if v < self.busy_share:
                fate = Fate.BUSY
            elif v < self.busy_share + self.no_answer_share:
                fate = Fate.NO_ANSWER
            elif v < self.busy_share + self.no_answer_share + self.machine_share:
                fate = Fate.MACHINE
            else:
                fate = Fate.CONGESTION
        if fate is Fate.BUSY:
            at = setup + rng.uniform(0.5, 3.0)
            return CallPlan(fate, at, at, at, patience)
        if fate is Fate.CONGESTION:
            return CallPlan(fate, setup, setup, setup, patience)
        if fate is Fate.NO_ANSWER:
            return CallPlan(fate, setup, self.ring_timeout, self.ring_timeout, patience)
        # Someone (or something) answers before the ring timeout.
        ring = min(_lognormal(rng, self.ring_mean, self.ring_sigma), self.ring_timeout - 0.5)
        ring = max(ring, setup + 0.1)
        verdict = ring + (rng.uniform(0.6, 1.0) * self.amd_s if self.amd_s > 0 else 0.0)
        return CallPlan(fate, setup, ring, verdict, patience)


@dataclass(frozen=True)
class Operators:
    """How long operators talk and wrap up (lognormal talk; wrap-up near-constant, or exact at sigma 0)."""

    talk_mean: float
    wrap_mean: float
    talk_sigma: float = 0.7
    wrap_sigma: float = 0.2

    def talk(self, rng: random.Random) -> float:
        return _lognormal(rng, self.talk_mean, self.talk_sigma)

    def wrap(self, rng: random.Random) -> float:
        if self.wrap_mean <= 0:
            return 0.0
        return _lognormal(rng, self.wrap_mean, self.wrap_sigma) if self.wrap_sigma > 0 else self.wrap_mean


def warm_tracker(
    tracker: EstimatesTracker, customers: Customers, operators: Operators, answer_rate: float, seed: int
) -> None:
    """Feed ``tracker`` a previous day of the same list, as the engine reads it back from the store.

    The history has its own random stream, so a warm day places the same calls as a cold one
    would have drawn from the seed.
    """
    rng = random.Random(f"history-{seed}")
    for _ in range(WARM_START_CALLS):
        plan = customers.plan(rng, answer_rate)
        person = plan.fate is Fate.PERSON
        tracker.call_resolved(person, plan.verdict_after)
        if person:
            tracker.call_handled(operators.talk(rng), operators.wrap(rng))
