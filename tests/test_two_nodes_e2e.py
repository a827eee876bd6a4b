"""Two dialer nodes on one PostgreSQL store and one real Asterisk.

Each runs its own engine over its own AMI connection. The campaign is dialed by
one node at a time: the second waits, takes the operators in the queue as they
are (no remove and re-add), and takes the campaign over when the first stops.
Every lead is dialed once and every person who answers reaches an operator.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.engine import Engine

from dialer.ami.client import AmiTelephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services.operators import ready
from tests.asterisk_fixtures import AmiWitness
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


def _settings(node: str) -> EngineSettings:
    return EngineSettings(node_id=node, tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=20.0)


@asterisk
async def test_two_nodes_share_a_store_and_an_asterisk(asterisk_sandbox: Sandbox, pg_store: Engine) -> None:
    sound = asterisk_sandbox.safe_harbour_sound
    cid = make_campaign(pg_store, "shared", queue="q9", max_channels=10, safe_harbour_sound=sound)
    phones = phones_by_digit([d % 5 for d in range(36)] + [5] * 4)
    make_leads(pg_store, cid, phones)
    operators = make_operators(pg_store, "shared", 3, prefix="op9")
    for name in operators:
        ready(pg_store, name)

    witness = AmiWitness()
    await witness.start(asterisk_sandbox)
    first = await AmiTelephony.connect(asterisk_sandbox)
    second = await AmiTelephony.connect(asterisk_sandbox)
    engine_a = DialEngine(pg_store, first, _settings("node-a"))
    engine_b = DialEngine(pg_store, second, _settings("node-b"))
    run_a = asyncio.create_task(engine_a.run())
    run_b: asyncio.Task[object] | None = None
    try:
        until = time.monotonic() + 60
        while len(attempts(pg_store, cid)) < 8:
            assert time.monotonic() < until and not run_a.done(), "node-a did not start dialing"
            await asyncio.sleep(0.1)
        run_b = asyncio.create_task(engine_b.run(until_done=True))
        await asyncio.sleep(3.0)
        assert {r.node for r in attempts(pg_store, cid)} == {"node-a"}, "two nodes paced one campaign"
        engine_a.stop()
        await asyncio.wait_for(run_a, 40)
        await asyncio.wait_for(run_b, 120)
    finally:
        engine_a.stop()
        engine_b.stop()
        await first.close()
        await second.close()
        await witness.close()

    rows = attempts(pg_store, cid)
    assert sorted(r.phone for r in rows) == sorted(phones), "each lead dialed exactly once"
    assert {r.node for r in rows} == {"node-a", "node-b"}
    wrong = [(r.phone, r.node, r.outcome) for r in rows if r.outcome != expected_outcome(r.phone)]
    assert wrong == []
    assert_no_overlap(rows)
    assert all(lead.claimed_by is None for lead in leads(pg_store, cid))
    # Operators were never pulled out of the queue while a node started or took over.
    removed = [m for _, m in witness.seen if (m.get("Event"), m.get("Queue")) == ("QueueMemberRemoved", "q9")]
    added = [m for _, m in witness.seen if (m.get("Event"), m.get("Queue")) == ("QueueMemberAdded", "q9")]
    assert removed == [] and len(added) == len(operators)  # the witness saw node-a add them, once
    queue = asterisk_sandbox.cli("queue show q9")
    assert all(name in queue for name in operators), queue
