"""The engine's side of calls for one operator: due callbacks and operators' requests.

Each tick (at most once a second) the engine reads what is due for the campaigns it dials, ahead
of its pacers: a callback or request goes out only when its operator is ready (in the queue,
available, not in a call or wrap-up), and that operator is then counted busy, so the pacer places
no call for them. The call itself is a ``dialer-direct`` Originate (``dialer.policy.direct``).

Before it is placed, the operator is paused in every queue they serve (reason ``direct``,
``Membership.direct_call``), so that no campaign's queue offers them a call while their
customer rings; the loop ends the pause when the call ends. The store is read and written in
the engine's store thread, never in the event loop's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from campaigns.retry import LeadStatus
from dialer.core.clock import Periodic, to_dt
from dialer.engine.campaign_run import CampaignRun
from dialer.engine.live import LiveCall, busy_operators
from dialer.engine.membership import Membership
from dialer.engine.store_thread import StoreThread
from dialer.policy.direct import callback_operator
from dialer.policy.gate import Verdict
from dialer.store.direct import CALLBACK, DirectWork, due_work, refuse, take
from dialer.store.lead_checks import dial_verdict
from dialer.store.recorder import Placement

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectPlacement:
    run: CampaignRun
    placement: Placement
    interface: str


class DirectCalls:
    def __init__(
        self,
        store: Engine,
        db: StoreThread,
        node: str,
        membership: Membership,
        clock: Callable[[], float],
        every_s: float = 1.0,
    ) -> None:
        self._store, self._db, self._node, self._membership, self._clock = store, db, node, membership, clock
        self._poll = Periodic(every_s)

    async def due(
        self, runs: Mapping[int, CampaignRun], live: Iterable[LiveCall], now: float
    ) -> list[DirectPlacement]:
        """Take what may be placed now, its operators paused in their queues; the caller originates each."""
        if not runs or not self._poll.due(now):
            return []
        self._poll.restart(now)
        busy = busy_operators(live)
        placed: list[DirectPlacement] = []
        for work in await self._db.run(due_work, self._store, list(runs), to_dt(now)):
            run = runs[work.lead.campaign_id]
            ready = [a.interface for a in self._membership.ready(run.rules.campaign_id, busy, now)]
            interface = self._operator_for(work, ready, now)
            if interface is None:
                continue
            placement = await self._take(run, work, now)
            if placement is not None:
                log.info("%s for lead %s goes to %s", work.kind, work.lead.lead_id, interface)
                placed.append(DirectPlacement(run, placement, interface))
                busy.add(interface)
                self._membership.direct_call(interface)
        if placed:
            await self._membership.apply_again()
        return placed

    async def _take(self, run: CampaignRun, work: DirectWork, now: float) -> Placement | None:
        """Check the call as the engine's own, then take it; None if refused or another node took it."""
        store, moment = self._store, to_dt(now)
        verdict = await self._db.run(dial_verdict, store, run.rules, work.lead.phone, work.lead.zones, moment)
        if verdict.verdict is not Verdict.DIAL:
            log.info("%s for lead %s not placed: %s", work.kind, work.lead.lead_id, verdict.reason)
            status = LeadStatus.DNC if verdict.verdict is Verdict.DNC else None
            await self._db.run(refuse, store, work, verdict.reason, status, verdict.next_at)
            return None
        return await self._db.run(take, store, work, self._node, self._clock, run.fence)

    def _operator_for(self, work: DirectWork, ready: list[str], now: float) -> str | None:
        if work.kind == CALLBACK:
            return callback_operator(work.as_callback(), ready, work.release_s, to_dt(now))
        return work.personal if work.personal in ready else None
