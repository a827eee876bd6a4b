"""One node dials each campaign: campaign ownership over the store.

A pacer decides from everything in flight for its campaign. Two nodes pacing
one campaign would each see only their own ringing calls and together place
twice the calls the operators can take: abandoned calls. So every campaign has
one owner node (``campaign_owner``). A node owns what it inserted first (the
primary key lets one insert win) and takes over a campaign whose owner has
stopped beating its heartbeat (``dialer.store.nodes``) with a conditional UPDATE
naming the old owner, so again one node wins. A clean stop gives the node's
campaigns back. Several nodes thus share the work campaign by campaign, and a
campaign moves on within the node lease when its node dies.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from campaigns.tables import NODE_TABLE, OWNER_TABLE, SHARE_TABLE

log = logging.getLogger(__name__)


def own_campaigns(
    store: Engine, node: str, campaign_ids: Collection[int], now: datetime, lease_s: float
) -> set[int]:
    """Take every campaign of ``campaign_ids`` that has no live owner; the ones ``node`` owns now."""
    if not campaign_ids:
        return set()
    o, n = OWNER_TABLE.c, NODE_TABLE.c
    with store.connect() as conn:
        rows = conn.execute(
            core_select(o.campaign_id, o.node, n.heartbeat_at)
            .select_from(OWNER_TABLE.outerjoin(NODE_TABLE, n.name == o.node))
            .where(o.campaign_id.in_(sorted(campaign_ids)))
        ).all()
    cutoff = now - timedelta(seconds=lease_s)
    owners = {cid: (owner, beat) for cid, owner, beat in rows}
    mine: set[int] = set()
    for cid in campaign_ids:
        owner, beat = owners.get(cid, (None, None))
        if owner == node or (owner is None and _insert_owner(store, cid, node, now)):
            mine.add(cid)
        elif owner is not None and _silent(beat, cutoff) and _replace_owner(store, cid, owner, node, now):
            log.warning("campaign %d: its node %s is silent; %s dials it now", cid, owner, node)
            mine.add(cid)
    return mine


def _silent(heartbeat: datetime | None, cutoff: datetime) -> bool:
    """No heartbeat row (the node left or was taken over), or one older than the lease."""
    return heartbeat is None or heartbeat < cutoff


def _insert_owner(store: Engine, campaign_id: int, node: str, now: datetime) -> bool:
    try:
        with store.begin() as conn:
            conn.execute(insert(OWNER_TABLE).values(campaign_id=campaign_id, node=node, since=now))
    except IntegrityError:
        return False  # another node inserted first
    return True


def _replace_owner(store: Engine, campaign_id: int, old: str, node: str, now: datetime) -> bool:
    o = OWNER_TABLE.c
    with store.begin() as conn:
        changed = conn.execute(
            update(OWNER_TABLE)
            .where(o.campaign_id == campaign_id, o.node == old)
            .values(node=node, since=now)
        ).rowcount
    return bool(changed == 1)


def disown_all(store: Engine, node: str) -> int:
    """Give back every campaign ``node`` owns (a clean stop), and its shares of shared ones; how many."""
    with store.begin() as conn:
        conn.execute(delete(SHARE_TABLE).where(SHARE_TABLE.c.node == node))
        return int(conn.execute(delete(OWNER_TABLE).where(OWNER_TABLE.c.node == node)).rowcount)


def owners(store: Engine) -> dict[int, str]:
    """Campaign id -> the node that owns it."""
    o = OWNER_TABLE.c
    with store.connect() as conn:
        return {cid: node for cid, node in conn.execute(core_select(o.campaign_id, o.node)).all()}


def disown(store: Engine, node: str, campaign_id: int) -> bool:
    """Give back one campaign (it was stopped or archived); whether ``node`` owned it."""
    o = OWNER_TABLE.c
    with store.begin() as conn:
        gone = conn.execute(delete(OWNER_TABLE).where(o.campaign_id == campaign_id, o.node == node)).rowcount
    return bool(gone == 1)
