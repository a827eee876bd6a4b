"""The pacer's extension point: a snapshot in, a number of calls out.

A pacer is pure: no I/O, no clock, no randomness. Everything it may look at is
in the ``PacingSnapshot`` the engine (or the simulator) builds once per tick.
The predictive pacer keeps one small piece of state between ticks (its
abandonment controller's fall-back latch), so give each campaign its own pacer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from dialer.pacing.estimates import Estimates


@dataclass(frozen=True)
class AbandonStats:
    """Abandoned calls and live answers over the campaign's compliance window."""

    abandoned: int = 0
    live_answers: int = 0

    @property
    def rate(self) -> float:
        return self.abandoned / self.live_answers if self.live_answers else 0.0


@dataclass(frozen=True)
class DialCaps:
    """Hard ceilings whatever the mode: channels in use, and originates per tick."""

    max_channels: int = 1000
    max_originate_per_tick: int = 20


@dataclass(frozen=True)
class PacingSnapshot:
    """What the pacer knows at ``now``.

    Operators: ``ready`` (logged in, idle, not paused), ``paused``, and one entry
    per operator in a call (``in_call``: seconds talked so far) or in wrap-up:
    ``wrap_left`` holds the seconds left of each wrap-up whose end is known (the
    queue's wrap-up time, as Asterisk applies it), ``in_wrap`` the seconds so far
    of each open-ended one. An operator in wrap-up is not ready: the queue offers
    them no call until it ends. Calls in flight: ``ringing`` holds
    seconds since the dial of each call not yet answered; ``waiting`` counts
    answered calls waiting for an operator.
    """

    now: float
    ready: int
    estimates: Estimates
    paused: int = 0
    in_call: tuple[float, ...] = ()
    in_wrap: tuple[float, ...] = ()
    wrap_left: tuple[float, ...] = ()
    ringing: tuple[float, ...] = ()
    waiting: int = 0
    abandon: AbandonStats = AbandonStats()
    limits: DialCaps = DialCaps()

    @property
    def in_flight(self) -> int:
        """Calls placed that do not have an operator yet."""
        return len(self.ringing) + self.waiting

    @property
    def staffed(self) -> int:
        """Operators logged in and not paused: ready, talking or wrapping up."""
        return self.ready + len(self.in_call) + len(self.in_wrap) + len(self.wrap_left)

    @property
    def channels_in_use(self) -> int:
        return len(self.ringing) + self.waiting + len(self.in_call)


@dataclass(frozen=True)
class PacingDecision:
    """How many calls to place now, and why (shown by ``dialer status``)."""

    calls: int
    explain: dict[str, float | str] = field(default_factory=dict)


@runtime_checkable
class Pacer(Protocol):
    def decide(self, snap: PacingSnapshot) -> PacingDecision: ...


def within_caps(snap: PacingSnapshot, calls: int) -> int:
    """Clip a wish to the per-tick originate limit and the free channels; never negative."""
    free_channels = snap.limits.max_channels - snap.channels_in_use
    return max(0, min(calls, snap.limits.max_originate_per_tick, free_channels))
