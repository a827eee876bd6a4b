"""The simple modes: preview, progressive and fixed ratio.

None of them can abandon more calls than the operators it counts cannot take,
and none of them dials unless an operator is ready right now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialer.core.errors import InvalidInput
from dialer.pacing.base import PacingDecision, PacingSnapshot, within_caps


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
            return PacingDecision(0, {"mode": mode, "reason": "no ready operator"})
        wanted = math.floor(self.lines * snap.ready + 1e-9) - snap.in_flight
        calls = within_caps(snap, wanted)
        return PacingDecision(
            calls, {"mode": mode, "ready": float(snap.ready), "in_flight": float(snap.in_flight)}
        )


def ProgressivePacer() -> RatioPacer:
    """One call per ready operator, counting the calls already in flight."""
    return RatioPacer(1.0)
