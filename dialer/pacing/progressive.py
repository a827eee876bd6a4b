"""The simple modes: preview, progressive and fixed ratio.

None of them can abandon more calls than the operators it counts cannot take,
and none of them dials unless an operator is ready right now. An operator in
wrap-up counts only when the wrap-up ends before almost any call is answered
(``free_by_answer``): the queue offers them nothing until then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialer.core.errors import InvalidInput
from dialer.core.reasons import NO_READY
from dialer.pacing.base import PacingDecision, PacingSnapshot, within_caps

# Only once this many people have answered is the learnt ring time trusted to say
# how soon the next answer can come.
TRUSTED_ANSWERS = 30
SOONEST_ANSWER_Q = 0.01


def free_by_answer(snap: PacingSnapshot) -> int:
    """Operators in wrap-up whom the queue will offer calls before 99% of answers come."""
    est = snap.estimates
    if not snap.wrap_left or est.answered < TRUSTED_ANSWERS:
        return 0
    soonest = est.ring.quantile(SOONEST_ANSWER_Q)
    return sum(1 for left in snap.wrap_left if left <= soonest)


def progressive_calls(snap: PacingSnapshot) -> int:
    """One call per operator who can take an answer, minus the calls already in flight.

    Every call it places has an operator of its own: it can abandon no one, which is
    why the predictive pacer never places fewer.
    """
    if snap.ready <= 0:
        return 0
    return within_caps(snap, snap.ready + free_by_answer(snap) - snap.in_flight)


@dataclass(frozen=True)
class PreviewPacer:
    """The operator dials each call by hand: the pacer never places one."""

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        return PacingDecision(0, {"mode": "preview"})


@dataclass(frozen=True)
class RatioPacer:
    """``lines`` calls in flight per ready operator (progressive is ``lines=1``)."""

    lines: float = 1.0

    def __post_init__(self) -> None:
        if not self.lines >= 1.0:
            raise InvalidInput(f"ratio must be at least 1, got {self.lines}")

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        mode = "progressive" if self.lines == 1.0 else f"ratio:{self.lines:g}"
        if snap.ready <= 0:
            return PacingDecision(0, {"mode": mode, "reason": NO_READY})
        available = snap.ready + free_by_answer(snap)
        wanted = math.floor(self.lines * available + 1e-9) - snap.in_flight
        calls = within_caps(snap, wanted)
        return PacingDecision(
            calls, {"mode": mode, "ready": float(available), "in_flight": float(snap.in_flight)}
        )


def ProgressivePacer() -> RatioPacer:
    """One call per ready operator, counting the calls already in flight."""
    return RatioPacer(1.0)
