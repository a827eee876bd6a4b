"""The engine's store work runs off the event loop: a store call that waits holds up nothing else."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dialer.engine.loop import DialEngine, EngineSettings
from dialer.engine.store_thread import StoreThread
from dialer.services.operators import ready
from tests.engine_helpers import (
    ScriptedTelephony,
    attempts,
    expected_outcome,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

pytestmark = pytest.mark.every_store

FAST = EngineSettings(node_id="test-node", tick_s=0.02, operator_poll_s=0.02, shutdown_deadline_s=5.0)


class HeldStore:
    """Holds the first statement that starts with ``prefix`` until released (or ``limit_s`` passed)."""

    def __init__(self, store: Engine, prefix: str, limit_s: float = 10.0) -> None:
        self.prefix = prefix.upper()
        self.done = False
        self.limit_s = limit_s
        self.holding = threading.Event()
        self.released = threading.Event()
        event.listen(store, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not self.done and statement.lstrip().upper().startswith(self.prefix):
            self.done = True
            self.holding.set()
            self.released.wait(self.limit_s)
            self.holding.clear()


async def _loop_runs_while_held(held: HeldStore) -> bool:
    """Whether this coroutine got to run, in the engine's loop, while the store call was held."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + held.limit_s + 5.0
    while not held.holding.is_set() and loop.time() < give_up:
        await asyncio.sleep(0.001)
    for _ in range(20):  # other tasks get their turns meanwhile
        await asyncio.sleep(0)
    ran_while_held = held.holding.is_set()
    held.released.set()
    return ran_while_held


@pytest.mark.parametrize(
    "prefix",
    ["SELECT call_attempt", "SELECT lead.id", "INSERT INTO call_attempt", "UPDATE call_attempt"],
    ids=["reconciling", "claiming", "starting-attempts", "ending-attempts"],
)
async def test_the_loop_keeps_running_while_a_store_call_waits(store: Engine, prefix: str) -> None:
    cid = make_campaign(store, "spring")
    phones = phones_by_digit([0, 1, 5, 7])
    make_leads(store, cid, phones)
    for name in make_operators(store, "spring", 2):
        ready(store, name)
    held = HeldStore(store, prefix)
    engine = DialEngine(store, ScriptedTelephony(), FAST)
    run = asyncio.create_task(asyncio.wait_for(engine.run(until_done=True), 30))
    assert await _loop_runs_while_held(held)
    await run
    # Nothing was lost or reordered by the wait: every lead was dialed once, with its outcome.
    rows = attempts(store, cid)
    assert sorted((r.phone, r.outcome) for r in rows) == sorted((p, expected_outcome(p)) for p in phones)


async def test_store_calls_run_one_at_a_time_in_the_order_they_were_handed_over() -> None:
    worker = StoreThread()
    order: list[int] = []
    threads: set[int] = set()

    def note(i: int) -> int:
        threads.add(threading.get_ident())
        order.append(i)
        return i

    try:
        futures = [worker.submit(note, i) for i in range(50)]
        assert await asyncio.gather(*futures) == list(range(50))
    finally:
        worker.close()
    assert order == list(range(50))
    assert len(threads) == 1 and threading.get_ident() not in threads
