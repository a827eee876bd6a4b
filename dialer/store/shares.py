"""Shared campaigns on PostgreSQL: each node's share, its fence, and the pacing rows the nodes read.

A shared campaign (``campaign.shared``) is dialed by every node that serves it, each for its
own phone system's operators. Ownership is per (campaign, node) instead of per campaign:

- each node holds a share lock of its own, ``hashtextextended('<node>/<campaign id>', SHARE_LOCKS)``,
  on its session (``dialer.store.locks.NodeLocks``), and it ends with the session;
- taking it bumps the fence of the node's ``campaign_share`` row; a dialing cycle commits only
  while that row still carries the fence (``share_fence_holds``, read FOR SHARE). A node found
  gone has its rows deleted by the node that takes it over, so the gone node, should it still
  run cut off from the server, places nothing more;
- after every dialing cycle the node writes its figures into its row (calls ringing, waiting
  and with an operator; operators ready and in wrap-up) and the channel and rate allowances it takes
  for its next cycle, stamped with the server's ``now()``, having read the rows of the other nodes
  whose share lock is held (``pg_locks``): a row whose node's session is gone is ignored even
  before anyone deletes it. No clock is compared.

The split of the campaign's limits between the nodes is pure policy (``dialer.policy.shares``).
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from campaigns.tables import SHARE_TABLE
from dialer.policy.shares import NodeLimits, NodePace, node_limits

SHARE_LOCKS = 0x6473  # the seed of a share's lock key (one-key locks, like the node locks)


class ShareFence(int):
    """The fence of one node's share of a shared campaign (the ``campaign_share`` row's), not the
    campaign owner's: ``dialer.store.recorder.check_fence`` checks the share row for it."""


def share_key(node: str, campaign_id: int) -> str:
    return f"{node}/{campaign_id}"


_TRY_SHARE = text("SELECT pg_try_advisory_lock(hashtextextended(:key, :kind))")
_FREE_SHARE = text("SELECT pg_advisory_unlock(hashtextextended(:key, :kind))")

# The other nodes' rows whose share lock some session holds. A one-key (bigint) advisory lock
# shows in pg_locks as classid = its high 32 bits, objid = its low 32 bits, objsubid = 1.
_LIVE_ROWS = text(
    """
    SELECT s.node, s.ringing, s.waiting, s.in_call, s.ready, s.wrapping, s.allowance, s.rate_allowance
    FROM campaign_share AS s
    CROSS JOIN LATERAL (
        SELECT hashtextextended(s.node || '/' || s.campaign_id::text, :kind) AS k
    ) AS lock_key
    WHERE s.campaign_id = :campaign_id AND s.node <> :node
      AND EXISTS (
        SELECT 1 FROM pg_locks AS l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ((lock_key.k >> 32) & 4294967295)::oid
          AND l.objid = (lock_key.k & 4294967295)::oid
      )
    ORDER BY s.node
    """
)


def take_share(conn: Connection, campaign_id: int, node: str) -> ShareFence | None:
    """On the node's own session: take its share lock and bump its fence; None if the lock is held."""
    params = {"key": share_key(node, campaign_id), "kind": SHARE_LOCKS}
    if not conn.scalar(_TRY_SHARE, params):
        return None
    s = SHARE_TABLE.c
    upsert = insert(SHARE_TABLE).values(
        campaign_id=campaign_id, node=node, fence=1, since=func.now(), updated_at=func.now()
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[s.campaign_id, s.node],
        set_={"fence": s.fence + 1, "since": func.now(), "updated_at": func.now()},
    )
    return ShareFence(conn.execute(upsert.returning(s.fence)).scalar_one())


def free_share(conn: Connection, campaign_id: int, node: str) -> None:
    """On the node's own session: give the share up (its row goes, then its lock)."""
    s = SHARE_TABLE.c
    conn.execute(delete(SHARE_TABLE).where(s.campaign_id == campaign_id, s.node == node))
    conn.execute(_FREE_SHARE, {"key": share_key(node, campaign_id), "kind": SHARE_LOCKS})


def forget_node_shares(conn: Connection, node: str) -> int:
    """A gone node's share rows are deleted: should it still run, its fences no longer hold."""
    return int(conn.execute(delete(SHARE_TABLE).where(SHARE_TABLE.c.node == node)).rowcount)


def share_fence_holds(conn: Connection, campaign_id: int, node: str, fence: int) -> bool:
    """Inside a dialing cycle's transaction: hold the node's share row (FOR SHARE) and check its fence."""
    s = SHARE_TABLE.c
    found = conn.execute(
        select(s.fence).where(s.campaign_id == campaign_id, s.node == node).with_for_update(read=True)
    ).scalar()
    return found is not None and int(found) == int(fence)


def exchange_pace(
    store: Engine, campaign_id: int, fence: int, mine: NodePace, max_channels: int, originate_rate: float
) -> tuple[NodeLimits, list[NodePace]] | None:
    """Take this node's allowance and write its figures; its limits and the other live nodes'
    figures, or None if the share is no longer its own.

    One short transaction per shared campaign and cycle. It holds every share row of the
    campaign (FOR UPDATE, in node order), so the nodes' exchanges follow one another and each
    allowance is computed against the others' latest (``dialer.policy.shares.node_limits``).
    The row is written only under the node's fence: a node whose share was taken from it
    learns so here, before it dials again.
    """
    s = SHARE_TABLE.c
    with store.begin() as conn:
        held = conn.execute(
            select(s.node, s.fence).where(s.campaign_id == campaign_id).order_by(s.node).with_for_update()
        ).all()
        if (mine.node, int(fence)) not in {(node, int(f)) for node, f in held}:
            return None
        others = read_live_paces(conn, campaign_id, mine.node)
        limits = node_limits(mine, others, max_channels, originate_rate)
        figures = {
            "ringing": mine.ringing,
            "waiting": mine.waiting,
            "in_call": mine.in_call,
            "ready": mine.ready,
            "wrapping": mine.wrapping,
            "allowance": limits.max_channels,
            "rate_allowance": limits.originate_rate,
        }
        conn.execute(
            update(SHARE_TABLE)
            .where(s.campaign_id == campaign_id, s.node == mine.node)
            .values(updated_at=func.now(), **figures)
        )
        return limits, others


def read_live_paces(conn: Connection, campaign_id: int, node: str) -> list[NodePace]:
    """The figures of the campaign's nodes other than ``node`` whose share lock is held."""
    rows = conn.execute(_LIVE_ROWS, {"campaign_id": campaign_id, "node": node, "kind": SHARE_LOCKS})
    return [NodePace(*row) for row in rows]


def campaign_paces(store: Engine, campaign_id: int) -> list[NodePace]:
    """Every live node's figures for a shared campaign (for status and tests)."""
    with store.connect() as conn:
        return read_live_paces(conn, campaign_id, "")
