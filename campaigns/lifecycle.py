"""A campaign's life: the states a manager steers it through, and which moves are allowed.

::

    active ──pause──▶ paused ──resume──▶ active
    active/paused ──stop──▶ stopped ──resume──▶ active
    any, once no call is live ──archive──▶ archived ──resume──▶ active

- **active**: the engine dials it.
- **paused**: no new calls; calls in flight finish; its operators stay in its queue, so
  ``resume`` picks up at once. The engine keeps the campaign (and waits for it under
  ``run --until-done``).
- **stopped**: no new calls; calls in flight finish; then the engine lets the campaign go:
  its operators leave its queue, the node gives up owning it, and its leads are left as
  they are (none stays claimed) until it is resumed.
- **archived**: stopped and hidden from ``campaign list`` and ``status`` unless asked for.
  Refused while calls are live, so no result lands in a campaign nobody looks at.

Pure: no store, no clock.
"""

from __future__ import annotations

from enum import StrEnum

from dialer.core.errors import InvalidInput


class CampaignState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    ARCHIVED = "archived"


# action -> (the states it may start from, the state it leads to)
MOVES: dict[str, tuple[frozenset[CampaignState], CampaignState]] = {
    "pause": (frozenset({CampaignState.ACTIVE}), CampaignState.PAUSED),
    "resume": (
        frozenset({CampaignState.PAUSED, CampaignState.STOPPED, CampaignState.ARCHIVED}),
        CampaignState.ACTIVE,
    ),
    "stop": (frozenset({CampaignState.ACTIVE, CampaignState.PAUSED}), CampaignState.STOPPED),
    "archive": (
        frozenset({CampaignState.ACTIVE, CampaignState.PAUSED, CampaignState.STOPPED}),
        CampaignState.ARCHIVED,
    ),
}

# States an engine keeps a campaign loaded in (owns it, keeps its operators in the queue).
KEPT = frozenset({CampaignState.ACTIVE, CampaignState.PAUSED})


def parse_state(value: str) -> CampaignState:
    """A stored state; anything unknown reads as stopped, so it is never dialed by mistake."""
    try:
        return CampaignState(value)
    except ValueError:
        return CampaignState.STOPPED


def next_state(name: str, current: CampaignState, action: str, live_calls: int) -> CampaignState:
    """The state ``action`` leads to from ``current``; ``InvalidInput`` saying why when it may not."""
    if action not in MOVES:
        raise InvalidInput(f"unknown campaign action {action!r}: expected one of {', '.join(MOVES)}")
    sources, target = MOVES[action]
    if current is target:
        raise InvalidInput(f"campaign {name!r} is already {target}")
    if current not in sources:
        raise InvalidInput(f"campaign {name!r} is {current}: cannot {action} it (resume it first)")
    if target is CampaignState.ARCHIVED and live_calls:
        raise InvalidInput(
            f"campaign {name!r} has {live_calls} live calls: stop it, let them finish, then archive it"
        )
    return target


def dials(state: CampaignState) -> bool:
    """Whether the engine places new calls for a campaign in this state."""
    return state is CampaignState.ACTIVE
