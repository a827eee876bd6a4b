"""An idle operator who asks to pause, on a real Asterisk: kept only for the calls placed before.

A campaign dialing three lines per ready operator, one call a second at most, calls a list
where nobody answers (each call rings for the campaign's 15 s ring timeout). Operators A and
B are ready: six calls ring, placed a second apart. B, idle, asks to pause. Those six may
have been placed for B, so B stays in the queue until they are over. As they end one by
one the campaign dials for A alone, and those calls must not keep B: Asterisk reports B
paused about one ring timeout after the ask, while the campaign is still dialing. Before
this rule the engine held B for as long as calls in flight outnumbered the other ready
operators, which here is until the list ran out.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from dialer.ami.client import AmiTelephony
from dialer.core.telephony import MemberChanged, MemberState, TelephonyEvent
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services.operators import pause, ready
from tests.asterisk_fixtures import EventLog, wait_until
from tests.engine_helpers import attempts, make_campaign, make_leads, make_operators, phones_by_digit

QUEUE = "q7"
RING_TIMEOUT_S = 15  # the shortest a campaign may have
LEADS = 15  # six for A and B, then three at a time for A: the list outlasts the hold


@pytest.mark.asterisk
async def test_a_pausing_operator_is_not_kept_for_calls_placed_after_they_asked(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    cid = make_campaign(
        store,
        "hold",
        mode="ratio",
        ratio=3.0,
        originate_rate=1.0,
        queue=QUEUE,
        ring_timeout_s=RING_TIMEOUT_S,
        max_channels=12,
    )
    make_leads(store, cid, phones_by_digit([6] * LEADS, start=720000))  # rings, never answers
    op_a, op_b = make_operators(store, "hold", 2, prefix="oph")
    for name in (op_a, op_b):
        ready(store, name)
    b_interface = f"Local/{op_b}@sim-operators/n"
    witness = await AmiTelephony.connect(asterisk_sandbox)
    log = EventLog(witness)
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    settings = EngineSettings(node_id="hold", tick_s=0.1, operator_poll_s=0.25, queue_wrapup_s=0)
    engine = DialEngine(store, telephony, settings, campaigns=["hold"])
    task = asyncio.create_task(engine.run(until_done=True))
    try:
        await wait_until(lambda: len(attempts(store, cid)) >= 6, 60)
        asked = time.time()
        pause(store, op_b)

        def b_paused(events: list[TelephonyEvent]) -> bool:
            return any(
                isinstance(e, MemberChanged) and e.interface == b_interface and e.state is MemberState.PAUSED
                for e in events
            )

        # One ring timeout for the calls placed before the ask, and room for a loaded machine.
        await log.wait_for(b_paused, RING_TIMEOUT_S + 12)
        paused_at = datetime.fromtimestamp(time.time(), UTC)
        print(f"\nB paused {paused_at.timestamp() - asked:.1f} s after asking")

        # The campaign goes on dialing after B left: B was not kept for those calls.
        def started_after_the_pause() -> bool:
            return any(r.started_at.replace(tzinfo=UTC) > paused_at for r in attempts(store, cid))

        await wait_until(started_after_the_pause, 30)
    finally:
        engine.stop()
        await asyncio.wait_for(task, 60)
        await log.close()
        await witness.close()
        await telephony.close()
    rows = attempts(store, cid)
    assert all(r.answered_at is None for r in rows)
    rings = sorted((r.ended_at - r.started_at).total_seconds() for r in rows if r.ended_at is not None)
    print(f"{len(rows)} calls placed, each over after {rings[0]:.1f}-{rings[-1]:.1f} s")
