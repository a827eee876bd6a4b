"""A stopped ``dialer run`` leaves no pause of its own behind, on the real sandbox Asterisk.

While a call placed for one operator rings, the engine pauses that operator in Asterisk with the
reason ``direct``. SIGTERM during that call: the engine hangs the call up at its shutdown deadline
and, before it exits, leaves the operator as the store says they asked. What the test reads after
the process has exited is Asterisk's own queue state (``QueueStatus``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Callback, Operator
from campaigns.store import session_scope
from dialer.ami.client import AmiTelephony
from dialer.core.errors import TelephonyError
from dialer.pbx.sandbox import Sandbox
from dialer.services.operators import add_operator, pause, ready
from tests.asterisk_fixtures import queue_member, wait_until
from tests.console_helpers import console_campaign
from tests.engine_helpers import make_leads, phones_by_digit

DIALER = Path(sys.executable).with_name("dialer")
QUEUE = "q8"


async def _member_until(
    telephony: AmiTelephony, interface: str, paused: str, reason: str = "", timeout: float = 10
) -> dict[str, Any]:
    member: dict[str, Any] = {}
    for _ in range(int(timeout / 0.1)):
        member = await queue_member(telephony, QUEUE, interface)
        if member.get("Paused") == paused and (not reason or member.get("PausedReason") == reason):
            return member
        await asyncio.sleep(0.1)
    raise AssertionError(f"member never reported Paused={paused} {reason}: {member}")


def _callback(store: Engine, campaign_id: int, lead_id: int, operator: str) -> None:
    with session_scope(store) as session:
        op = session.exec(select(Operator).where(Operator.name == operator)).one()
        due = datetime.now(UTC) - timedelta(seconds=5)
        session.add(Callback(campaign_id=campaign_id, lead_id=lead_id, due_at=due, operator_id=op.id))


def _attempt(store: Engine, lead_id: int) -> CallAttempt | None:
    with Session(store) as session:
        return session.exec(select(CallAttempt).where(CallAttempt.lead_id == lead_id)).first()


@pytest.mark.asterisk
@pytest.mark.parametrize(("wish", "paused", "reason"), [("ready", "0", ""), ("pause", "1", "dialer")])
async def test_sigterm_during_a_direct_call_leaves_the_operator_as_they_asked(
    asterisk_sandbox: Sandbox, store: Engine, db_url: str, wish: str, paused: str, reason: str
) -> None:
    operator = f"op96{3 if wish == 'ready' else 4}"
    interface = f"Local/{operator}@sim-operators/n"
    cid = console_campaign(
        store,
        "stopping",
        queue=QUEUE,
        mode="progressive",
        dial_template="Local/{number}@sim-customers",
        window="00:00-24:00",
        ring_timeout_s=30,
        safe_harbour_sound=asterisk_sandbox.safe_harbour_sound,
    )
    (silent,) = make_leads(store, cid, phones_by_digit([6], start=9630), status="callback")
    add_operator(store, operator, interface, ["stopping"])
    ready(store, operator)
    _callback(store, cid, silent, operator)
    env = {**os.environ, "DIALER_DB": db_url, "DIALER_AMI_URL": asterisk_sandbox.ami_url}
    args = ["run", "--campaign", "stopping", "--node", "stop-node", "--shutdown-deadline", "1"]
    engine = await asyncio.create_subprocess_exec(
        str(DIALER), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    try:
        await wait_until(lambda: _attempt(store, silent) is not None, 30)
        await _member_until(telephony, interface, "1", "direct")
        if wish == "pause":
            pause(store, operator)  # asked while the customer rings: the engine keeps its own reason
        engine.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(engine.communicate(), 60)
        assert engine.returncode == 0, err.decode()
        assert b"Traceback" not in out + err

        member = await queue_member(telephony, QUEUE, interface)
        assert member, "a clean stop leaves its operators in the queue"
        assert member.get("Paused") == paused, member
        assert member.get("PausedReason") != "direct", member
        if reason:
            assert member.get("PausedReason") == reason, member
        rung = _attempt(store, silent)
        assert rung is not None and rung.ended_at is not None, "the ringing call was ended and recorded"
    finally:
        if engine.returncode is None:
            engine.kill()
            await engine.wait()
        # The sandbox is shared by the session's tests: leave no member behind in their queue.
        with contextlib.suppress(TelephonyError):
            await telephony.queue_remove(QUEUE, interface)
        await telephony.close()
