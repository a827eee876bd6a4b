"""Ownership through PostgreSQL's advisory locks: takeover after a kill -9, fencing, and clocks ignored.

A node process is really killed (SIGKILL) and another node takes its campaign and its
calls once the server has ended the dead node's session; a node cut off from the
server finds its fence moved and places nothing; a node whose clock is ten minutes
off takes nothing from a healthy node.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

from campaigns.tables import LEAD_TABLE, OWNER_TABLE
from campaigns.tables import NODE_TABLE as NODE_ROWS
from dialer.core.clock import to_dt
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.engine.selection import claim_and_begin
from dialer.policy.campaign_rules import CampaignRules
from dialer.services.operators import ready
from dialer.store.claims import claim_due_leads
from dialer.store.locks import CAMPAIGN_LOCKS, NodeLocks
from dialer.store.recorder import Fenced, begin_attempts
from tests.engine_helpers import ScriptedTelephony, attempts, leads, make_campaign, make_leads, make_operators
from tests.engine_helpers import phones_by_digit as phones

ROOT = Path(__file__).resolve().parent.parent

# A node process that takes its lock and the campaign, says so, and waits to be killed.
_NODE = """
import os, sys, time
from campaigns.store import open_store
from dialer.store.locks import CAMPAIGN_LOCKS, NodeLocks
locks = NodeLocks(open_store(os.environ["DIALER_DB"]), "node-dead")
locks.open()
locks.own([int(sys.argv[1])])
print(sorted(locks.fences.items()), flush=True)
time.sleep(600)
"""


def _rules(store: Engine, campaign_id: int) -> CampaignRules:
    from sqlmodel import Session

    from campaigns.models import Campaign

    with Session(store) as session:
        row = session.get(Campaign, campaign_id)
        assert row is not None
        return CampaignRules.from_campaign(row)


def _open_attempt(store: Engine, campaign_id: int, node: str) -> str:
    """A call ``node`` placed and has not seen end (its lead in the call, held by the node)."""
    [lead] = claim_due_leads(store, campaign_id, node, datetime.now(UTC), 1)
    [placement] = begin_attempts(store, [lead], node, time.time)
    return placement.attempt_id


def _owner(store: Engine, campaign_id: int) -> tuple[str, int]:
    o = OWNER_TABLE.c
    with store.connect() as conn:
        row = conn.execute(select(o.node, o.fence).where(o.campaign_id == campaign_id)).one()
    return str(row[0]), int(row[1])


def test_a_killed_nodes_campaign_and_calls_pass_to_another_node(
    pg_store: Engine, postgres_db_url: str
) -> None:
    cid = make_campaign(pg_store, "spring")
    make_leads(pg_store, cid, phones([0, 0, 0, 0]))
    in_flight = _open_attempt(pg_store, cid, "node-dead")
    env = {**os.environ, "DIALER_DB": postgres_db_url, "PYTHONPATH": str(ROOT)}
    node = subprocess.Popen(
        [sys.executable, "-c", _NODE, str(cid)], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    survivor = NodeLocks(pg_store, "node-b")
    try:
        assert node.stdout is not None
        assert node.stdout.readline().strip() == f"[({cid}, 1)]"  # it owns the campaign, fence 1
        survivor.open()
        assert survivor.own([cid]) == set()  # a live owner keeps its campaign
        assert survivor.gone_nodes() == []  # and a live node is not taken over
        os.kill(node.pid, signal.SIGKILL)
        node.wait(10)
        until = time.monotonic() + 30
        while survivor.own([cid]) != {cid}:
            assert time.monotonic() < until, "the dead node's lock was never freed"
            time.sleep(0.05)
        assert _owner(pg_store, cid) == ("node-b", 2)  # taken under a new fence
        # The dead node's dialing cycle can no longer commit, whatever it believes.
        [lead] = claim_due_leads(pg_store, cid, "node-dead", datetime.now(UTC), 1)
        with pytest.raises(Fenced):
            begin_attempts(pg_store, [lead], "node-dead", time.time, fence=1)
        assert survivor.gone_nodes() == ["node-dead"]  # its call in flight is the survivor's to settle
        survivor.release_node("node-dead")
    finally:
        node.kill()
        node.wait(10)
        if node.stdout is not None:
            node.stdout.close()
        survivor.close()
    assert [a.id for a in attempts(pg_store, cid) if a.ended_at is None] == [in_flight]


def test_a_node_cut_off_from_the_server_places_nothing_once_another_took_its_campaign(
    pg_store: Engine,
) -> None:
    cid = make_campaign(pg_store, "spring")
    make_leads(pg_store, cid, phones([0, 0, 0]))
    cut, other = NodeLocks(pg_store, "node-a"), NodeLocks(pg_store, "node-b")
    try:
        cut.open()
        other.open()
        assert cut.own([cid]) == {cid} and other.own([cid]) == set()
        fence = cut.fences[cid]
        with pg_store.begin() as conn:  # the server ends node-a's session (as after a network cut)
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND classid = :kind AND objid = :cid AND granted"
                ),
                {"kind": CAMPAIGN_LOCKS, "cid": cid},
            )
        until = time.monotonic() + 30
        while other.own([cid]) != {cid}:
            assert time.monotonic() < until
            time.sleep(0.05)
        # node-a has not noticed yet: its next cycle claims, finds the fence moved, gives the leads back.
        rules = _rules(pg_store, cid)
        placed = claim_and_begin(pg_store, rules, "node-a", time.time(), 3, time.time, lambda: True, fence)
        assert placed == []
        assert attempts(pg_store, cid) == []
        assert all(lead.claimed_by is None for lead in leads(pg_store, cid))
        assert cut.own([cid]) == set()  # back on a new session, it finds the campaign held
    finally:
        cut.close()
        other.close()


@pytest.mark.parametrize("skew_s", [600.0, -600.0], ids=["ten-minutes-ahead", "ten-minutes-behind"])
async def test_a_node_with_a_skewed_clock_takes_nothing_from_a_healthy_node(
    pg_store: Engine, skew_s: float
) -> None:
    cid = make_campaign(pg_store, "spring")
    make_leads(pg_store, cid, phones([0, 1, 2, 3, 4, 5]))
    for name in make_operators(pg_store, "spring", 2):
        ready(pg_store, name)
    healthy = NodeLocks(pg_store, "node-a")
    healthy.open()
    try:
        assert healthy.own([cid]) == {cid}
        in_flight = _open_attempt(pg_store, cid, "node-a")
        with pg_store.begin() as conn:  # its heartbeat, as its own clock wrote it
            conn.execute(insert(NODE_ROWS).values(name="node-a", started_at=_now(), heartbeat_at=_now()))
        settings = EngineSettings(
            node_id="node-b", tick_s=0.05, operator_poll_s=0.05, campaign_reload_s=0.2, takeover_check_s=0.2
        )
        telephony = ScriptedTelephony()
        engine = DialEngine(pg_store, telephony, settings, clock=lambda: time.time() + skew_s)
        run = asyncio.create_task(engine.run())
        await asyncio.sleep(3.0)
        engine.stop()
        await asyncio.wait_for(run, 20)
        assert telephony.dialed == []
        assert _owner(pg_store, cid) == ("node-a", healthy.fences[cid])
        open_calls = [a for a in attempts(pg_store, cid) if a.ended_at is None]
        assert [(a.id, a.node) for a in open_calls] == [(in_flight, "node-a")]
        with pg_store.connect() as conn:
            assert conn.scalar(select(NODE_ROWS.c.name).where(NODE_ROWS.c.name == "node-a")) == "node-a"
            held = conn.scalar(select(LEAD_TABLE.c.claimed_by).where(LEAD_TABLE.c.status == "in_call"))
        assert held == "node-a"
    finally:
        healthy.close()


def _now() -> datetime:
    return to_dt(time.time())
