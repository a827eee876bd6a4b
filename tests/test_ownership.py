"""One node dials each campaign; a campaign moves on when its node stops or goes silent.

On SQLite and PostgreSQL; the engine part runs two engines on one store with the
in-memory port.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import ready
from dialer.store.nodes import beat, leave
from dialer.store.ownership import disown_all, own_campaigns, owners
from tests.engine_helpers import (
    ScriptedTelephony,
    attempts,
    leads,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

pytestmark = pytest.mark.every_store

LEASE_S = 60.0


def test_the_first_node_owns_a_campaign_until_it_stops_or_goes_silent(store: Engine) -> None:
    spring, summer = make_campaign(store, "spring"), make_campaign(store, "summer")
    now = datetime.now(UTC)
    beat(store, "node-a", now, starting=True)
    beat(store, "node-b", now, starting=True)
    assert own_campaigns(store, "node-a", [spring], now, LEASE_S) == {spring}
    assert own_campaigns(store, "node-b", [spring, summer], now, LEASE_S) == {summer}
    assert own_campaigns(store, "node-a", [spring, summer], now, LEASE_S) == {spring}
    assert owners(store) == {spring: "node-a", summer: "node-b"}

    # node-a stops beating: after the lease node-b dials its campaign too.
    later = now + timedelta(seconds=LEASE_S + 1)
    beat(store, "node-b", later)
    assert own_campaigns(store, "node-b", [spring, summer], later, LEASE_S) == {spring, summer}
    assert own_campaigns(store, "node-a", [spring], later, LEASE_S) == set()

    # A clean stop gives the campaigns back at once.
    assert disown_all(store, "node-b") == 2
    leave(store, "node-b")
    assert own_campaigns(store, "node-a", [spring, summer], later, LEASE_S) == {spring, summer}


def test_a_campaign_whose_node_left_without_disowning_is_taken(store: Engine) -> None:
    spring = make_campaign(store, "spring")
    now = datetime.now(UTC)
    beat(store, "gone", now, starting=True)
    assert own_campaigns(store, "gone", [spring], now, LEASE_S) == {spring}
    leave(store, "gone")  # no heartbeat row: taken over by another node, or stopped
    beat(store, "node-a", now, starting=True)
    assert own_campaigns(store, "node-a", [spring], now, LEASE_S) == {spring}


async def test_two_engines_never_pace_one_campaign_together(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    phones = phones_by_digit([d % 5 for d in range(30)])
    make_leads(store, cid, phones)
    for name in make_operators(store, "spring", 2):
        ready(store, name)

    def settings(node: str) -> EngineSettings:
        return EngineSettings(node_id=node, tick_s=0.02, operator_poll_s=0.02, shutdown_deadline_s=5.0)

    first, second = ScriptedTelephony(talk_s=0.2), ScriptedTelephony(talk_s=0.2)
    # Both phone systems stand for one Asterisk: the same two operators.
    engine_a = DialEngine(store, first, settings("node-a"))
    run_a = asyncio.create_task(engine_a.run())
    while not first.dialed:
        await asyncio.sleep(0.01)
    run_b = asyncio.create_task(DialEngine(store, second, settings("node-b")).run(until_done=True))
    while len(first.dialed) < 10:
        await asyncio.sleep(0.01)
    assert second.dialed == [], "a second node dialed a campaign another node paces"
    engine_a.stop()  # a clean stop hands the campaign over
    await asyncio.wait_for(run_a, 10)
    await asyncio.wait_for(run_b, 20)

    rows = attempts(store, cid)
    assert sorted(r.phone for r in rows) == sorted(phones), "each lead dialed exactly once"
    assert {r.node for r in rows} == {"node-a", "node-b"}
    assert all(r.outcome == "connected" for r in rows)
    assert all(lead.claimed_by is None for lead in leads(store, cid))
    assert owners(store) == {}


def test_status_says_which_node_dials_each_campaign(store: Engine) -> None:
    from dialer.services.status import collect_status

    spring = make_campaign(store, "spring")
    make_campaign(store, "summer")
    now = datetime.now(UTC)
    beat(store, "node-a", now, starting=True)
    own_campaigns(store, "node-a", [spring], now, LEASE_S)
    dialed_by = {c.name: c.node for c in collect_status(store).campaigns}
    assert dialed_by == {"spring": "node-a", "summer": None}
