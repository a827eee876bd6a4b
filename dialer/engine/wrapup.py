"""Wrap-ups held until the operator's disposition, as one engine keeps them.

When a connected call of a campaign with a wrap-up limit ends, its operator is held out of
the queue (``Membership.hold``: paused in Asterisk with the reason ``wrap-up``) until the
call has a disposition, which the console writes to the store from another process, or
until the limit passes: then the campaign's default code is recorded
(``dialer.store.wrapup.expire_wrapup``) and the operator goes back to what they asked for.
Each wrap-up's real length teaches the campaign's estimates, which the pacer forecasts from.

A restarted engine holds nobody: the operator's desired state is applied again, and a call
they have not disposed of yet still waits on their screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from dialer.core.attempt import Attempt
from dialer.engine.campaign_run import CampaignRuns
from dialer.engine.membership import Membership
from dialer.engine.store_thread import StoreThread
from dialer.policy.campaign_rules import CampaignRules
from dialer.store.wrapup import Closed, disposed, expire_wrapup

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Held:
    attempt_id: str
    interface: str
    campaign_id: int
    ended_at: float
    talk_s: float
    until: float  # when the campaign's limit expires


class WrapUps:
    def __init__(self, store: Engine, db: StoreThread, membership: Membership, runs: CampaignRuns) -> None:
        self._store, self._db = store, db  # read and written in the engine's store thread
        self._membership = membership
        self._runs = runs
        self._held: dict[str, Held] = {}  # attempt id -> its held wrap-up

    def start(self, rules: CampaignRules, attempt: Attempt) -> None:
        """``attempt`` ended: hold its operator if the campaign says so."""
        if rules.wrapup_limit_s <= 0 or attempt.operator is None or attempt.connected_at is None:
            return
        ended = attempt.ended_at if attempt.ended_at is not None else attempt.connected_at
        self._held[attempt.attempt_id] = Held(
            attempt.attempt_id,
            attempt.operator,
            rules.campaign_id,
            ended,
            max(0.0, ended - attempt.connected_at),
            ended + rules.wrapup_limit_s,
        )
        self._membership.hold(attempt.operator, ended)
        log.info("operator %s in wrap-up until the disposition of %s", attempt.operator, attempt.attempt_id)

    @property
    def holding(self) -> int:
        return len(self._held)

    async def check(self, now: float) -> list[Closed]:
        """Release the operators whose call has a disposition now, or whose limit passed."""
        if not self._held:
            return []
        ended = await self._db.run(disposed, self._store, list(self._held))
        done = {c.attempt_id for c in ended}
        for held in [h for h in self._held.values() if h.attempt_id not in done and now >= h.until]:
            closed = await self._db.run(expire_wrapup, self._store, held.attempt_id)
            if closed is not None:
                log.info("attempt %s: wrap-up limit expired; recorded %s", held.attempt_id, closed.code)
            ended.append(closed or Closed(held.attempt_id, now, ""))
        for closed in ended:
            ending = self._held.pop(closed.attempt_id, None)
            if ending is not None:
                self._release(ending, closed)
        return ended

    def _release(self, held: Held, closed: Closed) -> None:
        if not any(h.interface == held.interface for h in self._held.values()):
            self._membership.release(held.interface)
        run = self._runs.runs.get(held.campaign_id)
        if run is not None:
            run.estimates.call_handled(held.talk_s, max(0.0, min(closed.at, held.until) - held.ended_at))
