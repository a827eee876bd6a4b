"""A manager steering a campaign under a running engine, against the real sandbox Asterisk.

Numbers ending in 6 ring until the ring timeout (15 s) and are never answered, so calls
stay in flight long enough to count them: the channel limit, a pause and a stop are all
seen in the calls Asterisk is carrying. The engine's periodic campaign reload is set to
an hour, so what it applies comes from the version it checks every tick.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, CampaignOwner, Operator
from campaigns.steering import change_state, edit_campaign
from dialer.ami.client import AmiTelephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services.operators import ready
from tests.asterisk_fixtures import wait_until
from tests.engine_helpers import attempts, leads, make_campaign, make_leads, make_operators, phones_by_digit

asterisk = pytest.mark.asterisk

SETTINGS = EngineSettings(
    node_id="steer-node", tick_s=0.1, operator_poll_s=0.25, campaign_reload_s=3600.0, shutdown_deadline_s=20.0
)
GRACE_S = 0.5  # a change reaches the engine at its next tick (0.1 s); the rest is the originate's trip


def live(store: Engine, cid: int) -> list[CallAttempt]:
    return [a for a in attempts(store, cid) if a.ended_at is None]


def started_after(store: Engine, cid: int, moment: datetime) -> list[CallAttempt]:
    return [a for a in attempts(store, cid) if (a.started_at - moment).total_seconds() > GRACE_S]


def owner(store: Engine, cid: int) -> str | None:
    with Session(store) as session:
        row = session.get(CampaignOwner, cid)
        return None if row is None else row.node


def operator_states(store: Engine, names: list[str]) -> set[str]:
    with Session(store) as session:
        return set(session.exec(select(Operator.state).where(col(Operator.name).in_(names))).all())


@asterisk
async def test_edit_pause_resume_and_stop_reach_a_running_engine(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    cid = make_campaign(store, "steer", queue="q7", max_channels=1, ring_timeout_s=15)
    make_leads(store, cid, phones_by_digit([6] * 20, start=800))
    operators = make_operators(store, "steer", 3, prefix="op8")
    for name in operators:
        ready(store, name)
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    engine = DialEngine(store, telephony, SETTINGS)
    run = asyncio.create_task(engine.run())
    try:
        # One channel: three operators are ready, yet one call at a time.
        await wait_until(lambda: len(live(store, cid)) == 1, 20)
        await asyncio.sleep(1.0)
        assert len(live(store, cid)) == 1

        # The edit reaches the engine without its periodic reload: three calls ring at once.
        assert edit_campaign(store, "steer", {"max_channels": 3}).changes
        await wait_until(lambda: len(live(store, cid)) == 3, 10)

        # Pause: no call starts; the three ringing calls run to their ring timeout and end.
        change_state(store, "steer", "pause")
        paused_at = datetime.now(UTC)
        await wait_until(lambda: not live(store, cid), 30)
        await asyncio.sleep(1.0)
        assert started_after(store, cid, paused_at) == []
        assert {a.outcome for a in attempts(store, cid)} == {"no_answer"}
        assert owner(store, cid) == "steer-node"  # paused, the node keeps the campaign
        assert operator_states(store, operators) == {"ready"}  # and its operators stay in the queue

        # Resume: dialing starts again, up to the edited limit.
        change_state(store, "steer", "resume")
        resumed_at = datetime.now(UTC)
        await wait_until(lambda: len(live(store, cid)) == 3, 10)

        # Stop: no new call; the live ones finish; then the node lets the campaign and its queue go.
        change_state(store, "steer", "stop")
        stopped_at = datetime.now(UTC)
        await wait_until(lambda: not live(store, cid), 30)
        await wait_until(lambda: owner(store, cid) is None, 10)
        await wait_until(lambda: operator_states(store, operators) == {"logged_out"}, 10)
        assert started_after(store, cid, stopped_at) == []
        assert not run.done()
    finally:
        engine.stop()
        await asyncio.wait_for(run, 30)
        await telephony.close()

    rows = attempts(store, cid)
    assert all(r.ended_at is not None for r in rows)
    assert len([r for r in rows if r.started_at > resumed_at]) == 3
    assert len({r.lead_id for r in rows}) == len(rows), "no lead dialed twice"
    assert all(lead.claimed_by is None for lead in leads(store, cid)), "stopped, it holds no lead"
