"""An operator whose direct call rings is paused in Asterisk's queue, on the real sandbox Asterisk.

What the test reads is Asterisk's own queue state (``QueueStatus``). A personal callback to a
customer who never answers: the member is paused with the reason ``direct`` while the customer
rings, and unpaused after the no-answer. Then one to a customer who answers, in a campaign that
holds wrap-ups: after the call the member stays paused, now with the reason ``wrap-up``, until
the limit passes.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Callback, Operator
from campaigns.store import session_scope
from dialer.ami.client import AmiTelephony
from dialer.core.errors import TelephonyError
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services.operators import add_operator, ready
from tests.asterisk_fixtures import queue_member, wait_until
from tests.console_helpers import console_campaign
from tests.engine_helpers import make_leads, phones_by_digit

QUEUE = "q8"
OPERATOR = "op961"
INTERFACE = f"Local/{OPERATOR}@sim-operators/n"
SETTINGS = EngineSettings(node_id="pause-node", tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=10.0)


async def _wait_member(telephony: AmiTelephony, paused: str, reason: str = "", timeout: float = 5) -> None:
    member: dict[str, Any] = {}
    for _ in range(int(timeout / 0.1)):
        member = await queue_member(telephony, QUEUE, INTERFACE)
        if member.get("Paused") == paused and (not reason or member.get("PausedReason") == reason):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"member never reported Paused={paused} {reason}: {member}")


def _callback(store: Engine, campaign_id: int, lead_id: int) -> None:
    with session_scope(store) as session:
        op = session.exec(select(Operator).where(Operator.name == OPERATOR)).one()
        due = datetime.now(UTC) - timedelta(seconds=5)
        session.add(Callback(campaign_id=campaign_id, lead_id=lead_id, due_at=due, operator_id=op.id))


def _attempt(store: Engine, lead_id: int) -> CallAttempt | None:
    with Session(store) as session:
        return session.exec(select(CallAttempt).where(CallAttempt.lead_id == lead_id)).first()


def _has(store: Engine, lead_id: int, field: str) -> bool:
    """The lead's attempt exists and has ``field`` set."""
    attempt = _attempt(store, lead_id)
    return attempt is not None and getattr(attempt, field) is not None


@pytest.mark.asterisk
async def test_a_direct_call_pauses_its_operator_while_the_customer_rings(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    cid = console_campaign(
        store,
        "pausing",
        queue=QUEUE,
        mode="progressive",
        dial_template="Local/{number}@sim-customers",
        window="00:00-24:00",
        ring_timeout_s=15,
        wrapup_limit_s=3,
        wrapup_code="refused",
        safe_harbour_sound=asterisk_sandbox.safe_harbour_sound,
    )
    silent, answering = make_leads(store, cid, phones_by_digit([6, 0], start=9610), status="callback")
    add_operator(store, OPERATOR, INTERFACE, ["pausing"])
    ready(store, OPERATOR)
    _callback(store, cid, silent)
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    engine = DialEngine(store, telephony, SETTINGS)
    run = asyncio.create_task(engine.run())
    try:
        await wait_until(lambda: _attempt(store, silent) is not None, 30)
        await _wait_member(telephony, "1", "direct")
        ringing = _attempt(store, silent)
        assert ringing is not None and ringing.ended_at is None, "paused only after the ring"
        await wait_until(lambda: _has(store, silent, "ended_at"), 40)
        assert _has(store, silent, "outcome") and _attempt(store, silent).outcome == "no_answer"  # type: ignore[union-attr]
        await _wait_member(telephony, "0")

        _callback(store, cid, answering)
        await wait_until(lambda: _attempt(store, answering) is not None, 30)
        await _wait_member(telephony, "1", "direct")
        await wait_until(lambda: _has(store, answering, "ended_at"), 40)
        await _wait_member(telephony, "1", "wrap-up")
        await wait_until(lambda: _has(store, answering, "disposition"), 10)
        await _wait_member(telephony, "0")
    finally:
        engine.stop()
        await asyncio.wait_for(run, 30)
        # The sandbox is shared by the session's tests: leave no member behind in their queue.
        with contextlib.suppress(TelephonyError):
            await telephony.queue_remove(QUEUE, INTERFACE)
        await telephony.close()
    connected = _attempt(store, answering)
    assert connected is not None and connected.connected_at is not None and connected.operator == OPERATOR
    assert connected.disposition == "refused"
