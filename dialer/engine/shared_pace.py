"""A shared campaign's pacing across nodes: this node's figures out, the other nodes' in.

At each dialing tick of a campaign this node dials as one share among several
(``dialer.store.shares``), the node writes its figures (its calls in flight, its
operators ready and in wrap-up) and reads the other live nodes' in the same short
transaction, run in the store thread. Its pacer still decides from this node's own
operators and calls only; what the other nodes' figures change is this node's part
of the campaign's channel cap and originate rate (``dialer.policy.shares``). A node
whose share row no longer carries its fence (taken over as gone) dials nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from dialer.core.attempt import AttemptState
from dialer.engine.campaign_run import CampaignRun
from dialer.engine.live import LiveCall
from dialer.engine.store_thread import StoreThread
from dialer.policy.shares import NodeLimits, NodePace, campaign_figures, node_limits
from dialer.store.shares import ShareFence, exchange_pace

log = logging.getLogger(__name__)

_RINGING = frozenset({AttemptState.DIALING, AttemptState.RINGING})
_WAITING = frozenset({AttemptState.ANSWERED, AttemptState.WAITING})


def node_pace(node: str, calls: Iterable[LiveCall], ready: int, wrapping: int) -> NodePace:
    """This node's figures for one campaign: its calls by state, its operators ready and in wrap-up."""
    states = [c.attempt.state for c in calls]
    return NodePace(
        node=node,
        ringing=sum(1 for s in states if s in _RINGING),
        waiting=sum(1 for s in states if s in _WAITING),
        in_call=sum(1 for s in states if s is AttemptState.CONNECTED),
        ready=ready,
        wrapping=wrapping,
    )


@dataclass
class SharedPacing:
    """The cross-node part of pacing for the shared campaigns one engine dials."""

    store: Engine
    db: StoreThread
    node: str
    last: dict[int, tuple[NodeLimits, list[NodePace]]] = field(default_factory=dict)

    async def channel_cap(self, run: CampaignRun, calls: list[LiveCall], ready: int, wrapping: int) -> int:
        """The calls in flight this node may hold for the campaign now (its part of the cap).

        For a campaign dialed by this node alone, the campaign's own cap. For a share, the
        node also takes its part of the originate rate into the campaign's rate limit.
        """
        rules = run.rules
        if not isinstance(run.fence, ShareFence):
            self.last.pop(rules.campaign_id, None)
            return rules.max_channels
        mine = node_pace(self.node, calls, ready, wrapping)
        others = await self.db.run(exchange_pace, self.store, rules.campaign_id, run.fence, mine)
        if others is None:
            log.warning("campaign %s: this node's share was taken from it: no call placed", rules.name)
            self.last.pop(rules.campaign_id, None)
            return 0
        limits = node_limits(mine, others, rules.max_channels, rules.originate_rate)
        run.bucket.reconfigure(limits.originate_rate, max(1.0, limits.originate_rate))
        self.last[rules.campaign_id] = (limits, [mine, *others])
        return limits.max_channels

    def explain(self, campaign_id: int, view: dict[str, float | str]) -> dict[str, float | str]:
        """The pacing explanation with the campaign-wide figures of a shared campaign added."""
        found = self.last.get(campaign_id)
        if found is None:
            return view
        limits, nodes = found
        whole = campaign_figures(nodes)
        return {
            **view,
            "nodes": len(nodes),
            "node_share": round(limits.weight, 3),
            "node_max_channels": limits.max_channels,
            "campaign_in_flight": whole.in_flight,
            "campaign_ready": whole.ready,
        }
