"""Wrap-up held until the disposition, on the real sandbox Asterisk.

The sandbox's operators hang up after a second of talk. The campaign holds each operator's
wrap-up until their disposition, at most 3 s, then records ``refused``. What the test reads
is Asterisk's own queue state (``QueueStatus``): paused with the reason ``wrap-up``, then not.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Lead
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.ami.client import AmiTelephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services import dispositions
from dialer.services.operators import add_operator, ready
from dialer.store.wrapup import EXPIRED_NOTE
from tests.asterisk_fixtures import queue_member, wait_until
from tests.console_helpers import console_campaign
from tests.engine_helpers import make_leads, phones_by_digit

QUEUE = "q9"
OPERATOR = "op951"
INTERFACE = f"Local/{OPERATOR}@sim-operators/n"
SETTINGS = EngineSettings(node_id="wrapup-node", tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=10.0)


async def _wait_member(telephony: AmiTelephony, paused: str, timeout: float) -> dict[str, Any]:
    member: dict[str, Any] = {}
    for _ in range(int(timeout / 0.1)):
        member = await queue_member(telephony, QUEUE, INTERFACE)
        if member.get("Paused") == paused:
            return member
        await asyncio.sleep(0.1)
    raise AssertionError(f"member never reported Paused={paused}: {member}")


def _rows(store: Engine) -> list[CallAttempt]:
    with Session(store) as session:
        return list(session.exec(select(CallAttempt).order_by(CallAttempt.started_at)).all())


@pytest.mark.asterisk
async def test_a_wrapup_is_paused_in_asterisk_until_the_disposition_or_the_limit(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    cid = console_campaign(store, "wrapping", queue=QUEUE, wrapup_limit_s=3, wrapup_code="refused")
    with session_scope(store) as session:
        campaign = find_campaign(session, "wrapping")
        campaign.dial_template, campaign.max_channels = "Local/{number}@sim-customers", 1
        campaign.safe_harbour_sound = asterisk_sandbox.safe_harbour_sound
        session.add(campaign)
    make_leads(store, cid, phones_by_digit([0, 0], start=9500))
    add_operator(store, OPERATOR, INTERFACE, ["wrapping"])
    ready(store, OPERATOR)
    telephony = await AmiTelephony.connect(asterisk_sandbox)
    engine = DialEngine(store, telephony, SETTINGS)
    run = asyncio.create_task(engine.run())
    try:
        # The first call ends: Asterisk holds the operator paused for wrap-up, and dials nothing more.
        await wait_until(lambda: any(r.ended_at for r in _rows(store)), 30)
        held = await _wait_member(telephony, "1", 5)
        assert held["PausedReason"] == "wrap-up"
        first = _rows(store)[0]
        assert first.outcome == "connected" and len(_rows(store)) == 1
        # The operator's disposition ends the wrap-up: unpaused, and the next lead is dialed.
        dispositions.dispose(store, OPERATOR, first.id, "sale")
        await _wait_member(telephony, "0", 5)
        await wait_until(lambda: len(_rows(store)) == 2 and _rows(store)[1].ended_at is not None, 30)
        # The second is never disposed: paused, and at the limit the default code, then ready.
        held = await _wait_member(telephony, "1", 5)
        assert held["PausedReason"] == "wrap-up"
        await wait_until(lambda: _rows(store)[1].disposition is not None, 10)
        await _wait_member(telephony, "0", 5)
    finally:
        engine.stop()
        await asyncio.wait_for(run, 30)
        await telephony.close()
    first, second = _rows(store)
    assert (first.disposition, second.disposition, second.note) == ("sale", "refused", EXPIRED_NOTE)
    assert second.disposed_at is not None and second.ended_at is not None
    assert (second.disposed_at - second.ended_at).total_seconds() >= 3.0
    with Session(store) as session:
        assert {lead.status for lead in session.exec(select(Lead)).all()} == {"done"}
