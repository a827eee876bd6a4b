"""A shared campaign's pacing across nodes: this node's figures out, the other nodes' in.

After each dialing cycle of a campaign this node dials as one share among several
(``dialer.store.shares``), the node writes its figures (its calls in flight, its
operators ready and in wrap-up) and reads the other live nodes' in the same short
transaction, run in the store thread; the next cycle paces with them. Its pacer still
decides from this node's own operators and calls only; what the other nodes' figures
change is this node's part of the campaign's channel cap and originate rate
(``dialer.policy.shares``). A node whose share row no longer carries its fence (taken
over as gone) dials nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy.engine import Engine

from dialer.core.attempt import AttemptState
from dialer.engine.campaign_run import CampaignRun
from dialer.engine.live import LiveCall
from dialer.engine.store_thread import StoreThread
from dialer.policy.ratelimit import burst_for
from dialer.policy.shares import NodeLimits, NodePace, campaign_figures
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
    """The cross-node part of pacing for the shared campaigns one engine dials.

    The store is read and written after each dialing cycle, never between the moment the
    engine counts its ready operators and the pacer's decision: a call connecting meanwhile
    would count its operator both ready and in a call.
    """

    store: Engine
    db: StoreThread
    node: str
    limits: dict[int, NodeLimits | None] = field(default_factory=dict)  # None: share lost
    mine: dict[int, NodePace] = field(default_factory=dict)

    def channel_cap(self, run: CampaignRun, calls: list[LiveCall], ready: int, wrapping: int) -> int:
        """The calls in flight this node may hold for the campaign now.

        For a campaign dialed by this node alone, the campaign's own cap. For a share, the
        allowance taken at the last exchange (none yet: no new call until it is taken).
        """
        rules, cid = run.rules, run.rules.campaign_id
        if not isinstance(run.fence, ShareFence):
            self.limits.pop(cid, None)
            return rules.max_channels
        mine = self.mine[cid] = node_pace(self.node, calls, ready, wrapping)
        limits = self.limits.get(cid)
        if limits is None:
            return min(mine.in_flight, rules.max_channels)
        return limits.max_channels

    async def after_cycle(
        self, run: CampaignRun, placed: int, view: dict[str, float | str]
    ) -> dict[str, float | str]:
        """Write this node's figures (with the calls just placed) and take its allowance for the
        next cycle; the pacing explanation, with a shared campaign's figures added."""
        rules, cid = run.rules, run.rules.campaign_id
        mine = self.mine.pop(cid, None)
        if mine is None or not isinstance(run.fence, ShareFence):
            return view
        mine = replace(mine, ringing=mine.ringing + placed)
        args = (self.store, cid, run.fence, mine, rules.max_channels, rules.originate_rate)
        found = await self.db.run(exchange_pace, *args)
        if found is None:
            self.limits[cid] = None
            log.warning("campaign %s: this node's share was taken from it: no call placed", rules.name)
            return view
        limits, others = found
        self.limits[cid] = limits
        run.bucket.reconfigure(limits.originate_rate, burst_for(limits.originate_rate))
        whole = campaign_figures([mine, *others])
        return {
            **view,
            "nodes": 1 + len(others),
            "node_share": round(limits.weight, 3),
            "node_max_channels": limits.max_channels,
            "campaign_in_flight": whole.in_flight,
            "campaign_ready": whole.ready,
        }
