"""Operators as the phone system treats them, and the pacing snapshot built from them.

One model for the engine and the simulator alike. An operator is ready, in a
call, in wrap-up, or paused; one in a call or wrap-up who is due to pause or
log out after it (a break, the end of a shift) counts as paused: the pacer must
not expect them free. Wrap-up is what Asterisk applies after every call
(the queue's ``wrapuptime``, or the member's own): for those seconds the queue
offers that operator no call, although the phone is idle and the member reads
"not in use". When the end of a wrap-up is known (``free_at``), the pacer is
told how long is left; an open-ended one (an operator who will close the call
by hand) is told as time spent so far.

A campaign may hold each operator's wrap-up until they submit a disposition
(``held_wrap_up``): the phone system reports them paused, yet they come back by
themselves, so the pacer counts them in wrap-up, open-ended, and forecasts its end
from the campaign's measured wrap-up times (the ``wrap`` fit of its estimates,
learnt from the time between each call's end and its disposition).

``build_snapshot`` is the only place a ``PacingSnapshot`` is put together from
operators and calls, so what the pacer sees cannot differ between the live
engine and the simulator that benchmarks it.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from dialer.pacing.base import AbandonStats, DialCaps, PacingSnapshot
from dialer.pacing.estimates import Estimates

K = TypeVar("K", bound=Hashable)


class Activity(Enum):
    READY = "ready"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


@dataclass(frozen=True)
class OperatorView:
    """One operator at one moment: what they do, since when, and when a wrap-up ends if known."""

    activity: Activity
    since: float = 0.0
    free_at: float | None = None
    # In a call or wrap-up and due to pause or log out after it (a break): not free after it.
    leaving: bool = False

    def at(self, now: float) -> Activity:
        """The activity at ``now``: a wrap-up whose end has passed is ready."""
        if self.activity is Activity.WRAP_UP and self.free_at is not None and self.free_at <= now:
            return Activity.READY
        return self.activity


def wrap_up(call_ended_at: float, wrapup_s: float | None) -> OperatorView:
    """An operator whose call ended at ``call_ended_at``; ``wrapup_s=None``: open-ended."""
    free_at = None if wrapup_s is None else call_ended_at + wrapup_s
    return OperatorView(Activity.WRAP_UP, call_ended_at, free_at)


def held_wrap_up(call_ended_at: float) -> OperatorView:
    """An operator held out of the queue until their disposition of the call that ended then."""
    return wrap_up(call_ended_at, None)


def wrap_end(last_call_end: float | None, wrapup_s: float) -> float | None:
    """When the queue offers calls again after a call that ended at ``last_call_end``.

    Asterisk keeps a member out while ``time(NULL) - wrapuptime < lastcall``, in whole
    seconds, so the end is exactly ``lastcall + wrapuptime`` on its clock.
    """
    if last_call_end is None or wrapup_s <= 0:
        return None
    return last_call_end + wrapup_s


def held_for_calls(asked_at: Mapping[K, float], placed_at: Iterable[float], other_ready: int) -> set[K]:
    """Idle operators who asked to pause or log out and stay in the queue a little longer.

    ``asked_at``: when each idle operator asked; ``placed_at``: dial times of the calls
    that have no operator yet; ``other_ready``: the operators still ready for them. The
    calls placed before an operator asked may have been placed for them: while those
    outnumber the operators left to take them, the operator stays (the earliest to ask
    first). Calls placed later never hold anyone, since the pacer stopped counting the
    operator when they asked; so the hold ends, at the latest, once the calls placed
    before the ask are answered or over (the ring timeout). The engine and the
    simulator both hold by this rule.
    """
    dials = sorted(placed_at)
    held: set[K] = set()
    for key, at in sorted(asked_at.items(), key=lambda item: item[1]):
        if bisect.bisect_right(dials, at) - other_ready - len(held) > 0:
            held.add(key)
    return held


@dataclass(frozen=True)
class TeamFigures:
    ready: int = 0
    paused: int = 0
    in_call: tuple[float, ...] = ()
    in_wrap: tuple[float, ...] = ()
    wrap_left: tuple[float, ...] = ()


def team_figures(now: float, operators: Iterable[OperatorView]) -> TeamFigures:
    """Count the team as the pacer reads it."""
    ready = paused = 0
    in_call: list[float] = []
    in_wrap: list[float] = []
    wrap_left: list[float] = []
    for op in operators:
        activity = op.at(now)
        if op.leaving and activity is not Activity.READY:
            paused += 1  # whatever they do now, they take no call after it
        elif activity is Activity.READY:
            ready += 1
        elif activity is Activity.PAUSED:
            paused += 1
        elif activity is Activity.IN_CALL:
            in_call.append(max(0.0, now - op.since))
        elif op.free_at is not None:
            wrap_left.append(op.free_at - now)
        else:
            in_wrap.append(max(0.0, now - op.since))
    return TeamFigures(ready, paused, tuple(in_call), tuple(in_wrap), tuple(wrap_left))


def build_snapshot(
    now: float,
    operators: Iterable[OperatorView],
    ringing: Iterable[float],
    waiting: int,
    estimates: Estimates,
    abandon: AbandonStats,
    limits: DialCaps,
) -> PacingSnapshot:
    """The pacer's view at ``now``; ``ringing``: dial times of calls not yet answered.

    ``waiting`` counts calls answered and not yet with an operator, including those
    still being screened for an answering machine: each may be a person.
    """
    team = team_figures(now, operators)
    return PacingSnapshot(
        now=now,
        ready=team.ready,
        estimates=estimates,
        paused=team.paused,
        in_call=team.in_call,
        in_wrap=team.in_wrap,
        wrap_left=team.wrap_left,
        ringing=tuple(now - t for t in ringing),
        waiting=waiting,
        abandon=abandon,
        limits=limits,
    )
