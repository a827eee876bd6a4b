"""Which campaigns a running engine dials, by state, on the scripted phone system (fast)."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from campaigns.steering import change_state
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import ready
from tests.engine_helpers import (
    ScriptedTelephony,
    attempts,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

FAST = EngineSettings(node_id="n", tick_s=0.02, operator_poll_s=0.02)


def campaign_with_leads(store: Engine, name: str, start: int) -> int:
    cid = make_campaign(store, name)
    make_leads(store, cid, phones_by_digit([0, 1, 5], start=start))
    for operator in make_operators(store, name, 1, prefix=f"{name}-op"):
        ready(store, operator)
    return cid


async def test_only_active_campaigns_are_dialed(store: Engine) -> None:
    dialed = campaign_with_leads(store, "dialed", 0)
    paused = campaign_with_leads(store, "paused", 100)
    stopped = campaign_with_leads(store, "stopped", 200)
    archived = campaign_with_leads(store, "archived", 300)
    change_state(store, "paused", "pause")
    change_state(store, "stopped", "stop")
    change_state(store, "archived", "archive")
    engine = DialEngine(store, ScriptedTelephony(), FAST)
    run = asyncio.create_task(engine.run())
    try:
        for _ in range(200):
            if len(attempts(store, dialed)) == 3 and not engine.live_calls:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
    finally:
        engine.stop()
        await asyncio.wait_for(run, 10)
    assert len(attempts(store, dialed)) == 3
    assert attempts(store, paused) == attempts(store, stopped) == attempts(store, archived) == []


async def test_until_done_does_not_wait_for_a_stopped_campaign(store: Engine) -> None:
    stopped = campaign_with_leads(store, "stopped", 0)
    change_state(store, "stopped", "stop")
    report = await asyncio.wait_for(DialEngine(store, ScriptedTelephony(), FAST).run(until_done=True), 10)
    assert report.started == 0 and attempts(store, stopped) == []


async def test_a_named_stopped_campaign_is_dialed_once_resumed(store: Engine) -> None:
    cid = campaign_with_leads(store, "later", 0)
    change_state(store, "later", "stop")
    engine = DialEngine(store, ScriptedTelephony(), FAST, campaigns=["later"])
    run = asyncio.create_task(engine.run())
    try:
        await asyncio.sleep(0.3)
        assert attempts(store, cid) == []
        change_state(store, "later", "resume")
        for _ in range(250):
            if len(attempts(store, cid)) == 3:
                break
            await asyncio.sleep(0.02)
    finally:
        engine.stop()
        await asyncio.wait_for(run, 10)
    assert len(attempts(store, cid)) == 3
