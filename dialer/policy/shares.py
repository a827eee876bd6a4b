"""One campaign dialed by several nodes: what each node may use of the campaign's limits.

Each node of a shared campaign paces for its own phone system's operators only: its pacer
sees its own operators and its own calls in flight, never another node's, so no operator is
counted twice. What the nodes have in common is the campaign's limits, which hold for the
campaign as a whole:

- the channel cap (``max_channels``): each node holds an allowance, written in its row
  at each exchange; its fair part of the cap is in proportion to its operators (ready, in a
  call or in wrap-up), split by largest remainder in node-name order so that every node
  reading the same figures computes the same parts, and it takes no more than the other
  nodes' allowances and calls leave. The exchanges are serialised by the store, so the
  allowances never add up to more than the cap;
- the originate rate, the same way: each node's rate allowance, written in its row, is its
  operators' part of the rate, no more than the other nodes' rate allowances leave, so the
  nodes together never place more calls a second than the campaign's rate;
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
    allowance: int = 0  # the calls in flight it may hold until its next exchange
    rate_allowance: float = 0.0  # the calls a second it may place until its next exchange

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
    """This node's allowance of the campaign's channels and of its originate rate.

    Its fair part of each is in proportion to its operators; it takes no more of it than
    the other live nodes leave (channels: the larger of their calls in flight and their
    allowances; rate: their rate allowances). An allowance below the calls a node has in
    flight means: no new call until enough have ended. Computed by each node in turn (the
    exchange holds every share row of the campaign), the channels held and the rates
    allowed, summed over the nodes, never exceed the campaign's once they did not: each
    node's new allowance is within what the others leave.
    """
    everyone = [me, *(n for n in others if n.node != me.node)]
    rest = everyone[1:]
    part = apportion(max_channels, _stakes(everyone))[me.node]
    room = max_channels - sum(max(n.in_flight, n.allowance) for n in rest)
    weight = weights(everyone)[me.node]
    rate_room = originate_rate - sum(n.rate_allowance for n in rest)
    return NodeLimits(
        max_channels=max(0, min(part, room)),
        originate_rate=max(0.0, min(originate_rate * weight, rate_room)),
        weight=weight,
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
