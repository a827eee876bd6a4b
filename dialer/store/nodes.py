"""Dialer nodes' heartbeats, and taking over a node that went silent.

Several engines may share one store (PostgreSQL), each claiming leads and
writing attempts under its own node name. A node that crashes for good would
keep its claims and leave its attempts open until it came back under the same
name. So every engine beats a heartbeat row, and each looks now and then for
nodes whose heartbeat is older than a lease. The first to delete such a row
(a conditional DELETE: only one node can win it) reconciles that node: its
unfinished attempts are ended as the state machine would expire them and its
leads are released. Ending an attempt is itself conditional, so even a node
coming back at that moment cannot have one attempt recorded twice.

The lease must be far longer than any pause of a healthy engine (minutes, not
seconds): a node taken over while alive would find its claims gone and its
open attempts ended by another.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import DialerNode
from campaigns.store import session_scope
from campaigns.tables import NODE_TABLE
from dialer.core.errors import InvalidInput
from dialer.store.reconcile import reconcile_node

log = logging.getLogger(__name__)

DEFAULT_LEASE_S = 120.0
NODE_NAME_LENGTH = 64  # the column's size
_NODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")  # with fullmatch: no trailing newline


def check_node(name: str) -> str:
    """A node id as ``--node`` or DIALER_NODE gives it: it lands in rows, logs and AMI ActionIDs."""
    if not _NODE.fullmatch(name):
        raise InvalidInput(
            f"--node {name[:40]!r}: 1-{NODE_NAME_LENGTH} letters, digits and _ . : @ - "
            "(starting with a letter or digit)"
        )
    return name


@dataclass(frozen=True)
class NodeHealth:
    name: str
    started_at: datetime
    heartbeat_at: datetime

    def silent_for(self, now: datetime) -> float:
        return (now - self.heartbeat_at).total_seconds()


def beat(store: Engine, node: str, now: datetime, starting: bool = False) -> None:
    """Record that ``node`` is alive at ``now`` (``starting``: it has just started)."""
    with session_scope(store) as session:
        row = session.get(DialerNode, node)
        if row is None:
            session.add(DialerNode(name=node, started_at=now, heartbeat_at=now))
            return
        if starting:
            row.started_at = now
        row.heartbeat_at = now


def leave(store: Engine, node: str) -> None:
    """A clean shutdown: the node holds nothing any more and needs no taking over."""
    with store.begin() as conn:
        conn.execute(delete(NODE_TABLE).where(NODE_TABLE.c.name == node))


def nodes(store: Engine) -> list[NodeHealth]:
    """Every node with a heartbeat row, oldest heartbeat first."""
    with Session(store) as session:
        rows = session.exec(select(DialerNode).order_by(col(DialerNode.heartbeat_at))).all()
        return [NodeHealth(r.name, r.started_at, r.heartbeat_at) for r in rows]


def take_over_silent(store: Engine, me: str, now: datetime, lease_s: float) -> list[str]:
    """Reconcile every other node silent for longer than ``lease_s``; the names taken over."""
    cutoff = now - timedelta(seconds=lease_s)
    taken: list[str] = []
    for health in nodes(store):
        if health.name == me or health.heartbeat_at >= cutoff:
            continue
        with store.begin() as conn:
            won = conn.execute(
                delete(NODE_TABLE).where(NODE_TABLE.c.name == health.name, NODE_TABLE.c.heartbeat_at < cutoff)
            ).rowcount
        if won != 1:
            continue  # it beat again, or another node took it over first
        log.warning(
            "node %s silent for %.0f s: taking over its calls and leads", health.name, health.silent_for(now)
        )
        reconcile_node(store, health.name, now.timestamp())
        taken.append(health.name)
    return taken
