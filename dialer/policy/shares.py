"""One campaign dialed by several nodes: what each node may use of the campaign's limits.

Each node of a shared campaign paces for its own phone system's operators only: its pacer
sees its own operators and its own calls in flight, never another node's, so no operator is
counted twice. What the nodes have in common is the campaign's limits, which hold for the
campaign as a whole:

- the channel cap (``max_channels``): the channels free campaign-wide (the cap less every
  node's calls in flight) are split between the nodes in proportion to their operators
  (ready, in a call or in wrap-up), by largest remainder in node-name order, so every node
  reading the same figures computes the same split and the parts never add up to more
  than what is free;
- the originate rate: each node gets its operators' part of it;
- the abandon rate: read from the attempt rows of every node (``dialer.store.abandon``), so
  there is nothing to split.

A node with no operators gets no part while others have some (it has nobody to dial for);
when no node has any, the parts are equal. Pure: figures in, limits out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class NodePace:
    """One node's figures for a shared campaign, as it wrote them at its last tick."""

    node: str
    ringing: int = 0
    waiting: int = 0  # answered, not with an operator yet
    in_call: int = 0
    ready: int = 0
    wrapping: int = 0

    @property
    def in_flight(self) -> int:
        """Channels the node's calls of this campaign hold."""
        return self.ringing + self.waiting + self.in_call

    @property
    def staffed(self) -> int:
        """Operators the node dials for: ready, with a customer, or in wrap-up."""
        return self.ready + self.in_call + self.wrapping


@dataclass(frozen=True)
class NodeLimits:
    """What one node may use of a shared campaign's limits at this tick."""

    max_channels: int  # calls of this campaign the node may have in flight at once
    originate_rate: float  # calls per second this node may place
    weight: float  # its part of the campaign, 0..1


def _stakes(nodes: Sequence[NodePace]) -> dict[str, int]:
    """Each node's whole-number stake in the campaign: its operators staffed (one each if none are)."""
    if sum(n.staffed for n in nodes) <= 0:
        return {n.node: 1 for n in nodes}
    return {n.node: n.staffed for n in nodes}


def weights(nodes: Sequence[NodePace]) -> dict[str, float]:
    """Each node's part of the campaign: its share of the operators staffed (equal if none are)."""
    stakes = _stakes(nodes)
    total = sum(stakes.values())
    return {name: stake / total for name, stake in stakes.items()}


def apportion(amount: int, parts: Mapping[str, float]) -> dict[str, int]:
    """Split ``amount`` whole units by ``parts`` (largest remainder; ties to the first name).

    Exact arithmetic (fractions): the result never adds up to more than ``amount``, and every
    node computes the same split whatever order it read the figures in.
    """
    exact_parts = {name: Fraction(part) for name, part in parts.items()}
    total = sum(exact_parts.values(), Fraction(0))
    if amount <= 0 or total <= 0:
        return {name: 0 for name in parts}
    exact = {name: amount * part / total for name, part in exact_parts.items()}
    split = {name: math.floor(value) for name, value in exact.items()}
    left = amount - sum(split.values())
    takers = sorted((n for n in parts if parts[n] > 0), key=lambda n: (-(exact[n] - split[n]), n))
    for name in takers[:left]:
        split[name] += 1
    return split


def node_limits(
    me: NodePace, others: Sequence[NodePace], max_channels: int, originate_rate: float
) -> NodeLimits:
    """This node's part of the campaign's channel cap and originate rate, given the other live nodes."""
    everyone = [me, *(n for n in others if n.node != me.node)]
    part = weights(everyone)
    free = max(0, max_channels - sum(n.in_flight for n in everyone))
    mine = apportion(free, _stakes(everyone))[me.node]
    return NodeLimits(
        max_channels=me.in_flight + mine,
        originate_rate=originate_rate * part[me.node],
        weight=part[me.node],
    )


def campaign_figures(nodes: Sequence[NodePace]) -> NodePace:
    """The whole campaign's figures: the sum over its live nodes (each operator on one node only)."""
    return NodePace(
        node="*",
        ringing=sum(n.ringing for n in nodes),
        waiting=sum(n.waiting for n in nodes),
        in_call=sum(n.in_call for n in nodes),
        ready=sum(n.ready for n in nodes),
        wrapping=sum(n.wrapping for n in nodes),
    )
