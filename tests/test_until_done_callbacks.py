"""``run --until-done`` counts callbacks as it counts retries: a due one keeps the run going.

The outlook is checked on SQLite and PostgreSQL; the runs use the scripted telephony (a fake of
our own port) on SQLite, where the operator's queue membership can be read back.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Callback, Operator
from campaigns.store import session_scope
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import pause, ready
from dialer.store.outlook import outlook
from tests.engine_helpers import ScriptedTelephony, make_campaign, make_leads, make_operators, phones_by_digit

FAST = EngineSettings(node_id="test-node", tick_s=0.02, operator_poll_s=0.02, shutdown_deadline_s=5.0)
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def _callback(store: Engine, campaign_id: int, lead_id: int, due_at: datetime, operator: str = "") -> int:
    with session_scope(store) as session:
        op = session.exec(select(Operator).where(Operator.name == operator)).first() if operator else None
        callback = Callback(
            campaign_id=campaign_id, lead_id=lead_id, due_at=due_at, operator_id=op.id if op else None
        )
        session.add(callback)
        session.flush()
        assert callback.id is not None
        return callback.id


@pytest.mark.every_store
def test_the_outlook_counts_callbacks_as_it_counts_retries(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    [op] = make_operators(store, "spring", 1)
    first, second, third = make_leads(store, cid, phones_by_digit([0, 1, 2]), status="callback")
    assert outlook(store, [cid], NOW).done

    _callback(store, cid, first, NOW + timedelta(hours=3))
    later = outlook(store, [cid], NOW)
    assert later.done and later.callbacks_waiting == 1
    assert later.next_at is not None and later.next_at.replace(tzinfo=UTC) == NOW + timedelta(hours=3)
    assert later.describe() == "1 callbacks wait for their time, the first at 2026-03-04 12:00 UTC"

    _callback(store, cid, second, NOW - timedelta(minutes=1), operator=op)
    due = outlook(store, [cid], NOW)
    assert not due.done and (due.callbacks_due, due.personal_due) == (1, 1)
    assert due.describe() == "1 callbacks are due now (1 of them wait for their own operator)"

    taken = _callback(store, cid, third, NOW - timedelta(minutes=5))
    with session_scope(store) as session:
        done = session.get(Callback, taken)
        assert done is not None
        done.done = True
    assert outlook(store, [cid], NOW).callbacks_due == 1  # a callback already dialed counts no more
    assert outlook(store, [cid], NOW + timedelta(hours=4)).callbacks_due == 2


async def test_a_due_callback_keeps_the_run_going_until_its_operator_takes_it(
    store: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    cid = make_campaign(store, "spring")
    [op] = make_operators(store, "spring", 1)  # logged out: the personal callback waits for them
    [lead_id] = make_leads(store, cid, phones_by_digit([6]), status="callback")
    callback = _callback(store, cid, lead_id, datetime.now(UTC) - timedelta(seconds=5), operator=op)
    caplog.set_level(logging.INFO, logger="dialer.engine")
    telephony = ScriptedTelephony(no_answer_s=0.5, connect_timeout_s=0.3)
    engine = DialEngine(store, telephony, FAST)
    run = asyncio.create_task(engine.run(until_done=True))
    await asyncio.sleep(1.5)
    assert not run.done(), "a run with a callback due was reported done"
    assert "not done yet: 1 callbacks are due now (1 of them wait for their own operator)" in caplog.text

    ready(store, op)
    report = await asyncio.wait_for(run, 20)
    assert report.started == 1
    with Session(store) as session:
        [attempt] = session.exec(select(CallAttempt)).all()
        assert attempt.lead_id == lead_id and attempt.outcome == "no_answer"
        assert session.get(Callback, callback).attempt_id == attempt.id  # type: ignore[union-attr]
    assert "callbacks" not in report.left


async def test_a_callback_hours_ahead_ends_the_run_like_a_retry(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    [op] = make_operators(store, "spring", 1)
    ready(store, op)
    [lead_id] = make_leads(store, cid, phones_by_digit([0]), status="callback")
    due_at = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    _callback(store, cid, lead_id, due_at)
    report = await asyncio.wait_for(DialEngine(store, ScriptedTelephony(), FAST).run(until_done=True), 15)
    assert report.started == 0
    assert report.left == f"1 callbacks wait for their time, the first at {due_at:%Y-%m-%d %H:%M} UTC"


async def test_a_direct_call_pauses_its_operator_in_the_queue_and_keeps_their_own_pause(
    store: Engine,
) -> None:
    """Paused while the customer rings; after a no-answer back to what they asked for."""
    cid = make_campaign(store, "spring")
    first_op, second_op = make_operators(store, "spring", 2)
    leads = make_leads(store, cid, phones_by_digit([6, 6]), status="callback")
    now = datetime.now(UTC)
    _callback(store, cid, leads[0], now - timedelta(seconds=5), operator=first_op)
    _callback(store, cid, leads[1], now - timedelta(seconds=5), operator=second_op)
    for name in (first_op, second_op):
        ready(store, name)
    telephony = ScriptedTelephony(no_answer_s=1.0, connect_timeout_s=0.3)
    engine = DialEngine(store, telephony, FAST)
    run = asyncio.create_task(engine.run(until_done=True))
    first, second = (f"Local/{name}@sim-operators/n" for name in (first_op, second_op))
    for _ in range(100):
        if len(telephony.dialed) == 2:
            break
        await asyncio.sleep(0.05)
    # Both are paused before their customers are originated; the second asks to pause meanwhile.
    assert [d.available_operators for d in telephony.dialed] == [0, 0], telephony.actions
    assert all(telephony.members[("q-spring", i)].paused for i in (first, second)), telephony.actions
    pause(store, second_op)
    await asyncio.wait_for(run, 20)
    assert not telephony.members[("q-spring", first)].paused, "not back to ready after the no-answer"
    assert telephony.members[("q-spring", second)].paused, "unpaused although they asked to pause"
