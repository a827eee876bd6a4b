"""Ownership through PostgreSQL itself: a node's session holds advisory locks for its liveness
and for each campaign it dials, and they end with the session.

Each node keeps one connection of its own open (``NodeLocks``) and holds on it:

- its node lock, ``hashtextextended(name, NODE_LOCKS)``: as long as the node's session lives.
  A node that can take another node's lock knows that node's session is gone (a crash,
  a kill -9, a host that vanished: TCP keepalives, ``campaigns.store.KEEPALIVES``, end
  such a session in seconds); it then settles or adopts that node's calls and lets the
  lock go again;
- one lock per campaign it dials, ``(CAMPAIGN_LOCKS, campaign id)``. Taking a campaign
  bumps its fence (``campaign_owner.fence``) in the same step; the node dials under
  that fence, and a dialing cycle commits only while the fence is still the node's
  (``dialer.store.recorder.begin_attempts``). A node whose session died may not know it
  yet, but its next cycle finds the fence moved on and places nothing.

No clock is read or compared: the server says who holds what; the instant an owner took
a campaign is the server's ``now()``. PostgreSQL only: SQLite has no sessions that
outlive a process on another machine, and a SQLite store is dialed by one node
(``dialer.store.ownership`` keeps that node's bookkeeping).
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from campaigns.store import KEEPALIVES
from campaigns.tables import ATTEMPT_TABLE, NODE_TABLE, OWNER_TABLE, SHARE_TABLE
from dialer.core.errors import InvalidInput
from dialer.store.shares import ShareFence, forget_node_shares, free_share, take_share

log = logging.getLogger(__name__)

NODE_LOCKS = 0x646E  # the seed of a node's lock key
CAMPAIGN_LOCKS = 0x6463  # the first key of a campaign's advisory lock

# A node's key is a 64-bit hash of its name (one-key locks: a space apart from the two-key
# campaign locks); two names sharing a lock is a one in 2**64 chance.
_TRY_NODE = text("SELECT pg_try_advisory_lock(hashtextextended(:name, :kind))")
_FREE_NODE = text("SELECT pg_advisory_unlock(hashtextextended(:name, :kind))")
_TRY_CAMPAIGN = text("SELECT pg_try_advisory_lock(:kind, :id)")
_FREE_CAMPAIGN = text("SELECT pg_advisory_unlock(:kind, :id)")


def uses_locks(store: Engine) -> bool:
    """Whether this store carries ownership in sessions (PostgreSQL) rather than in rows alone."""
    return store.dialect.name == "postgresql"


class NodeLocks:
    """One node's session and the locks it holds: its own, and the campaigns it dials (with fences).

    Not thread-safe: the engine calls it from its store thread only.
    """

    def __init__(self, store: Engine, node: str) -> None:
        self._store = store
        self.node = node
        self._conn: Connection | None = None
        self.fences: dict[int, int] = {}  # campaign id -> the fence this node dials under

    def open(self) -> None:
        """Open the node's session and take its node lock; a node of that name running already is refused."""
        # Not from the pool: closing it must end the session, and the locks with it.
        sessions = create_engine(self._store.url, poolclass=NullPool, connect_args=KEEPALIVES)
        conn = sessions.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            for setting in ("TIME ZONE 'UTC'", "tcp_keepalives_idle = 5", "tcp_keepalives_interval = 2"):
                conn.exec_driver_sql(f"SET {setting}")  # the server drops a vanished node's session soon
            got = conn.scalar(_TRY_NODE, {"kind": NODE_LOCKS, "name": self.node})
        except DBAPIError:
            conn.close()
            raise
        if not got:
            conn.close()
            raise InvalidInput(
                f"node {self.node} is running already (or being taken over after a crash): "
                "give this one another --node, or start it again in a few seconds"
            )
        self._conn = conn
        self.fences.clear()

    def close(self) -> None:
        """End the session: every lock it holds goes with it."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self.fences.clear()

    def _session(self) -> Connection | None:
        """The live session, reopened if it was lost; None while the server cannot be reached."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return self._conn
            except DBAPIError:
                log.warning(
                    "node %s lost its store session: it dials nothing until it has one again", self.node
                )
                self._conn.invalidate()
                self.close()
        try:
            self.open()
        except (DBAPIError, InvalidInput) as exc:
            log.warning("node %s: no store session yet: %s", self.node, str(exc).splitlines()[0])
            return None
        return self._conn

    def own(self, campaign_ids: Collection[int], shared: Collection[int] = ()) -> set[int]:
        """Take every campaign of ``campaign_ids`` whose lock is free; the ones this node holds now.

        A campaign of ``shared`` is taken as this node's share of it (``dialer.store.shares``):
        its own lock and fence, held beside the other nodes' shares.
        """
        conn = self._session()
        if conn is None:
            return set()
        for campaign_id in [
            c for c in self.fences if isinstance(self.fences[c], ShareFence) != (c in shared)
        ]:
            self.disown(campaign_id)  # shared or not since it was taken: taken again the other way
        for campaign_id in sorted(set(campaign_ids) - set(self.fences)):
            if campaign_id in shared:
                fence = take_share(conn, campaign_id, self.node)
                if fence is not None:
                    self.fences[campaign_id] = fence
                    log.info(
                        "node %s dials its share of campaign %d under fence %d", self.node, campaign_id, fence
                    )
            elif conn.scalar(_TRY_CAMPAIGN, {"kind": CAMPAIGN_LOCKS, "id": campaign_id}):
                self.fences[campaign_id] = self._bump(conn, campaign_id)
                log.info(
                    "node %s dials campaign %d under fence %d",
                    self.node,
                    campaign_id,
                    self.fences[campaign_id],
                )
        return set(self.fences) & set(campaign_ids)

    def _bump(self, conn: Connection, campaign_id: int) -> int:
        o = OWNER_TABLE.c
        upsert = insert(OWNER_TABLE).values(
            campaign_id=campaign_id, node=self.node, since=func.now(), fence=1
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=[o.campaign_id],
            set_={"node": self.node, "since": func.now(), "fence": o.fence + 1},
        )
        return int(conn.execute(upsert.returning(o.fence)).scalar_one())

    def disown(self, campaign_id: int) -> None:
        """Let one campaign go (stopped, archived, or dialed by another node now)."""
        fence = self.fences.pop(campaign_id, None)
        if isinstance(fence, ShareFence) and self._conn is not None:
            free_share(self._conn, campaign_id, self.node)
        elif fence is not None and self._conn is not None:
            self._conn.execute(_FREE_CAMPAIGN, {"kind": CAMPAIGN_LOCKS, "id": campaign_id})

    def gone_nodes(self) -> list[str]:
        """Other nodes whose session is gone, each one's node lock now held by this node.

        Looked for among the nodes with a heartbeat row, an owned campaign, a share of a
        shared one or a call in flight. Settle each one's calls, then ``release_node`` it.
        """
        conn = self._session()
        if conn is None:
            return []
        a = ATTEMPT_TABLE.c
        names = set(conn.scalars(select(NODE_TABLE.c.name)))
        names |= set(conn.scalars(select(OWNER_TABLE.c.node)))
        names |= set(conn.scalars(select(SHARE_TABLE.c.node)))
        names |= set(conn.scalars(select(a.node).where(a.ended_at.is_(None)).distinct()))
        names.discard(self.node)
        return [n for n in sorted(names) if conn.scalar(_TRY_NODE, {"kind": NODE_LOCKS, "name": n})]

    def release_node(self, name: str) -> None:
        """A gone node's calls are settled: forget its rows and let its node lock go."""
        if self._conn is None:
            return
        self._conn.execute(delete(NODE_TABLE).where(NODE_TABLE.c.name == name))
        self._conn.execute(delete(OWNER_TABLE).where(OWNER_TABLE.c.node == name))
        forget_node_shares(self._conn, name)
        self._conn.execute(_FREE_NODE, {"kind": NODE_LOCKS, "name": name})
