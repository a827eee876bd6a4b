"""``run(until_done=True)``: when to stop, and what the run says it waits for meanwhile.

Done means no call in flight, no lead due now and no callback due now
(``dialer.store.outlook``, the one definition). Before counting, the due leads the
dial-time checks refuse are settled (``dialer.engine.selection.settle_uncallable``): a
lead whose calling window is closed waits for its opening as a lead waits for its retry
time. A callback set for later waits the same way; one due now keeps the run going, and
the run says so (a personal one waits for its operator to be ready).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy.engine import Engine

from dialer.core.clock import Periodic, to_dt
from dialer.engine.campaign_run import CampaignRun
from dialer.engine.selection import settle_uncallable
from dialer.engine.store_thread import StoreThread
from dialer.store.outlook import outlook

log = logging.getLogger(__name__)

# How often the store is asked what is left, once no call is in flight.
DONE_CHECK_S = 1.0


class DoneWatch:
    """Decides when a run is done, logs what it waits for (once per change), keeps what is left."""

    def __init__(self, store: Engine, db: StoreThread, node: str) -> None:
        self._store = store
        self._db = db
        self._node = node
        self._check = Periodic(DONE_CHECK_S)
        self._note = ""
        self.left = ""  # once done: what waits for a later run, and from when

    async def done(
        self, now: float, in_flight: int, runs: Iterable[CampaignRun], known: Sequence[int]
    ) -> bool:
        if in_flight:
            self._say(f"{in_flight} calls in flight")
            return False
        if not self._check.due(now):
            return False
        self._check.restart(now)
        runs = list(runs)
        for run in runs:
            if await self._db.run(settle_uncallable, self._store, run.rules, self._node, now):
                break  # a lead can be dialed now: not done
        view = await self._db.run(outlook, self._store, known, to_dt(now))
        if view.done:
            self.left = view.describe()
            log.info("done: no call in flight and no lead or callback due now; %s", self.left)
            return True
        reasons = sorted(
            f"{r.rules.name}: {r.last_explain['reason']}" for r in runs if "reason" in r.last_explain
        )
        self._say(view.describe() + (f" ({'; '.join(reasons)})" if reasons else ""))
        return False

    def _say(self, what: str) -> None:
        if what != self._note:
            self._note = what
            log.info("not done yet: %s", what)
