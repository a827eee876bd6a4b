"""The engine rides out an Asterisk crash and restart, on a real Asterisk of its own.

Asterisk is killed (SIGKILL) while calls are up, then started again on the same
port and configuration, as a supervisor would. A restarted Asterisk has empty
queues and none of the old channels, so the engine must: place no call while
the link is down, record every call the crash took, put its operators back in
the queue, and count nobody ready until Asterisk says so. Otherwise every
person answering right after the restart would hear the safe-harbour message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from dialer.ami.client import AmiTelephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox, SimTuning
from dialer.services.operators import ready
from tests.asterisk_fixtures import running, wait_until
from tests.engine_helpers import (
    assert_no_overlap,
    attempts,
    expected_outcome,
    leads,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

asterisk = pytest.mark.asterisk

SETTINGS = EngineSettings(node_id="restart-node", tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=20.0)


@pytest.fixture
def own_sandbox() -> Iterator[Sandbox]:
    """An Asterisk this test may kill: talks last 3 s so that calls are up at the crash."""
    with running(Sandbox(["qr"], sim=SimTuning(impatient_s=1.0, op_answer_s=0.3, talk_s=3.0))) as box:
        yield box


@asterisk
async def test_engine_recovers_from_an_asterisk_crash_and_restart(
    own_sandbox: Sandbox, store: Engine
) -> None:
    cid = make_campaign(
        store, "restart", queue="qr", max_channels=10, safe_harbour_sound=own_sandbox.safe_harbour_sound
    )
    phones = phones_by_digit([d for d in range(5) for _ in range(8)] + [5] * 4)
    make_leads(store, cid, phones)
    operators = make_operators(store, "restart", 3, prefix="op7")
    for name in operators:
        ready(store, name)

    telephony = await AmiTelephony.connect(own_sandbox)
    engine = DialEngine(store, telephony, SETTINGS)
    run = asyncio.create_task(engine.run(until_done=True))
    try:
        # Crash while operators are talking, after a few calls have been completed.
        await wait_until(lambda: sum(r.outcome == "connected" for r in attempts(store, cid)) >= 3, 60)
        await wait_until(lambda: engine.live_calls >= 2, 30)
        live_at_crash = {r.id for r in attempts(store, cid) if r.ended_at is None}
        crashed_at = datetime.now(UTC)
        own_sandbox.crash()
        await asyncio.sleep(2.0)
        await asyncio.to_thread(own_sandbox.restart)
        back_at = datetime.now(UTC)
        await asyncio.wait_for(run, 150)
    finally:
        engine.stop()
        await telephony.close()

    rows = attempts(store, cid)
    assert live_at_crash, "no call was up at the crash"
    assert_no_overlap(rows)
    assert all(r.ended_at is not None for r in rows), "a call the crash took was never recorded"
    crashed = [r for r in rows if r.id in live_at_crash]
    assert all(r.ended_at is not None and r.ended_at >= crashed_at for r in crashed)

    # Nothing was dialed while Asterisk was down (allow one tick for the loss to be noticed).
    down = [r for r in rows if crashed_at + timedelta(seconds=0.5) < r.started_at < back_at]
    assert down == []

    # After the restart the engine dialed again, and every person who answered reached an operator:
    # the operators were back in the queue before anyone was dialed for them.
    after = [r for r in rows if r.started_at >= back_at]
    assert after, "no call was placed after the restart"
    wrong = [(r.phone, r.outcome) for r in after if r.outcome != expected_outcome(r.phone)]
    assert wrong == []
    assert any(r.outcome == "connected" for r in after)

    final = {lead.phone: lead for lead in leads(store, cid)}
    assert all(lead.claimed_by is None for lead in final.values())
    # Every lead was tried; those answered after the crash are done.
    assert all(lead.attempts >= 1 for lead in final.values())
    queue = own_sandbox.cli("queue show qr")
    assert all(name in queue for name in operators), queue
