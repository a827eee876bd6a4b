"""Queue membership as a plan: what each operator asked for and what the queue reports, in;
the queue actions that bring them together, out. Pure: ``dialer.engine.membership`` carries
the actions out through the port and keeps what was applied.

Observed state comes only from the phone system's member events: right after a start, or
after ``QueueAdd``, nobody counts as ready until Asterisk says so.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from dialer.core.operators import OperatorState
from dialer.core.telephony import MemberState

Member = tuple[str, str]  # (queue, interface)

OBSERVED: dict[MemberState, OperatorState] = {
    MemberState.AVAILABLE: OperatorState.READY,
    MemberState.PAUSED: OperatorState.PAUSED,
    MemberState.IN_CALL: OperatorState.IN_CALL,
    MemberState.UNAVAILABLE: OperatorState.UNAVAILABLE,
    MemberState.REMOVED: OperatorState.LOGGED_OUT,
}


@dataclass(frozen=True)
class Assignment:
    """One operator serving one campaign's queue."""

    operator: str
    interface: str
    campaign_id: int
    queue: str
    desired: OperatorState


@dataclass(frozen=True)
class QueueAction:
    """Move one queue member from ``current`` (None: unknown) to ``desired``."""

    queue: str
    interface: str
    operator: str  # the member's name in the queue; "" when it leaves
    current: OperatorState | None
    desired: OperatorState


class Hold(Enum):
    """Keep a ready operator who asked to leave until the calls placed for them are covered."""

    FOR_PLACED_CALLS = "hold"


def ready_members(
    assignments: Iterable[Assignment],
    observed: Mapping[Member, MemberState],
    campaign_id: int,
    busy: Iterable[str] = (),
) -> list[Assignment]:
    """Operators of the campaign who asked to be ready AND whom the queue reports available."""
    taken = set(busy)
    return [
        a
        for a in assignments
        if a.campaign_id == campaign_id
        and a.desired is OperatorState.READY
        and a.interface not in taken
        and observed.get((a.queue, a.interface)) is MemberState.AVAILABLE
    ]


def paused_members(
    assignments: Iterable[Assignment], observed: Mapping[Member, MemberState], campaign_id: int
) -> int:
    return sum(
        1
        for a in assignments
        if a.campaign_id == campaign_id and observed.get((a.queue, a.interface)) is MemberState.PAUSED
    )


def asks_to_leave(
    assignment: Assignment, current: OperatorState | None, observed: MemberState | None
) -> bool:
    """An operator in the queue and idle there who asked to pause or log out."""
    return (
        current is OperatorState.READY
        and assignment.desired is not OperatorState.READY
        and observed is MemberState.AVAILABLE
    )


def adopted_state(observed: MemberState | None) -> OperatorState | None:
    """A member Asterisk already reports (another node added it, or it survived our restart).

    Taking it as it is, rather than removing and adding it again, keeps an
    operator shared by several nodes from dropping out of the queue whenever
    one of them starts.
    """
    if observed in (MemberState.AVAILABLE, MemberState.IN_CALL):
        return OperatorState.READY
    if observed is MemberState.PAUSED:
        return OperatorState.PAUSED
    return None


def next_step(
    assignment: Assignment, current: OperatorState | None, observed: MemberState | None, held: bool
) -> QueueAction | Hold | None:
    """What to do about one assigned member now: hold it, move it, or nothing.

    An idle operator who asks to pause or log out stays in the queue while ``held``:
    the calls placed before they asked outnumber the campaign's other ready operators
    (``dialer.pacing.team.held_for_calls``). Those calls may have been placed for
    them, and pulling them now would leave an answered person with nobody.
    """
    if held and asks_to_leave(assignment, current, observed):
        return Hold.FOR_PLACED_CALLS
    if current != assignment.desired:
        a = assignment
        return QueueAction(a.queue, a.interface, a.operator, current, a.desired)
    return None


def leaving(applied: Mapping[Member, OperatorState], wanted: Collection[Member]) -> list[QueueAction]:
    """Members this engine put in a queue that are no longer assigned to it: they log out."""
    return [
        QueueAction(queue, interface, "", current, OperatorState.LOGGED_OUT)
        for (queue, interface), current in applied.items()
        if (queue, interface) not in wanted and current is not OperatorState.LOGGED_OUT
    ]
