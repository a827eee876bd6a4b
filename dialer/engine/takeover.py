"""Taking over nodes whose store session is gone (PostgreSQL: ``dialer.store.locks``).

A node that can take a gone node's lock first adopts that node's calls the phone
system still carries (``dialer.engine.adoption``, the same adoption a restarted node
runs: the attempt id is the channel id), makes them its own, settles the rest as a
restart would (``dialer.store.reconcile``) and lets the gone node's lock go. The
gone node's campaigns are free already (their locks went with its session): the
next campaign reload takes them, under a new fence. No clock is compared: the
server's locks alone say which node is gone. A node's own start (``start_node``) adopts
its own calls the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine

from dialer.core.clock import to_dt
from dialer.core.telephony import Telephony
from dialer.engine.adoption import adopt_calls, adopted_ids
from dialer.engine.live import LiveCall
from dialer.engine.settings import EngineSettings
from dialer.engine.store_thread import StoreThread
from dialer.store.locks import NodeLocks
from dialer.store.nodes import beat, take_over_silent
from dialer.store.reconcile import hand_over, reconcile_node

log = logging.getLogger(__name__)


async def start_node(
    store: Engine,
    db: StoreThread,
    locks: NodeLocks | None,
    telephony: Telephony,
    node: str,
    clock: Callable[[], float],
) -> tuple[list[LiveCall], int]:
    """A node's start: take its lock (PostgreSQL), adopt the calls an earlier run of it left in
    flight, settle the rest, beat; the calls adopted and the attempts settled.

    ``InvalidInput`` if a node of the same name holds the lock: it runs, and nothing of it is touched.
    """
    if locks is not None:
        await db.run(locks.open)
    adopted = await adopt_calls(store, db, telephony, node, clock())
    reconciled = await db.run(reconcile_node, store, node, clock(), adopted_ids(adopted))
    await db.run(beat, store, node, to_dt(clock()), starting=True)
    return adopted, reconciled


async def take_over(
    store: Engine,
    db: StoreThread,
    locks: NodeLocks | None,
    telephony: Telephony,
    settings: EngineSettings,
    now: float,
) -> list[LiveCall]:
    """Take over the nodes that are gone: by their locks on PostgreSQL, by their heartbeats on SQLite.

    SQLite is dialed by one node: its heartbeat lease only tidies up after a node that
    ran under another name and never came back.
    """
    if locks is not None:
        return await take_over_gone(store, db, locks, telephony, now)
    node, lease = settings.node_id, settings.node_lease_s
    await db.run(take_over_silent, store, node, to_dt(now), lease)
    return []


async def take_over_gone(
    store: Engine, db: StoreThread, locks: NodeLocks, telephony: Telephony, now: float
) -> list[LiveCall]:
    """Take over every node whose session is gone; the calls adopted from them, now this node's."""
    adopted_all: list[LiveCall] = []
    for gone in await db.run(locks.gone_nodes):
        adopted = await adopt_calls(store, db, telephony, gone, now)
        ids = adopted_ids(adopted)
        await db.run(hand_over, store, ids, locks.node)
        settled = await db.run(reconcile_node, store, gone, now, ids)
        await db.run(locks.release_node, gone)
        log.warning(
            "node %s is gone: %d of its calls adopted, %d settled; its campaigns are free",
            gone,
            len(ids),
            settled,
        )
        adopted_all += adopted
    return adopted_all
