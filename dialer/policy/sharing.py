"""Operators who serve several campaigns are counted for one campaign at a time.

An operator in two campaigns' queues shows as ready in both. If each campaign's
pacer counted them, two calls would be placed for one person and one answer
would be abandoned. So each tick the ready operators are shared out: first
every campaign keeps as many of its ready operators as it has calls placed
and not yet connected (those calls were placed for them), then the rest go
round the campaigns one at a time, starting with a different campaign each tick
so that none is always served first. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def share_operators(
    ready: Mapping[int, Sequence[str]], pending: Mapping[int, int], first: int = 0
) -> dict[int, list[str]]:
    """Each campaign's share of the ready operators (interfaces), none counted twice.

    ``ready`` lists, per campaign, the operators ready in its queue; ``pending``
    counts its calls in flight with no operator yet; ``first`` rotates which
    campaign the round starts with.
    """
    order = sorted(ready)
    if order:
        k = first % len(order)
        order = order[k:] + order[:k]
    taken: set[str] = set()
    share: dict[int, list[str]] = {cid: [] for cid in order}

    def give(cid: int) -> bool:
        for interface in ready[cid]:
            if interface not in taken:
                taken.add(interface)
                share[cid].append(interface)
                return True
        return False

    for cid in order:
        for _ in range(pending.get(cid, 0)):
            if not give(cid):
                break
    while any([give(cid) for cid in order]):
        pass
    return share
