"""Calls for one operator on the real sandbox Asterisk: a callback, a preview call, a manual dial.

Each goes through ``dialer-direct``: the customer is originated, and once answered the dialplan
dials the chosen operator's own interface. Several operators are ready in the same queue, so
a call that reached the right one through the queue would be luck, not the mechanism.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Callback, Lead
from campaigns.store import session_scope
from dialer.ami.client import AmiTelephony
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.pbx.sandbox import Sandbox
from dialer.services import direct_calls, dispositions
from dialer.services.operators import ready
from tests.asterisk_fixtures import wait_until
from tests.console_helpers import console_campaign
from tests.engine_helpers import make_operators, open_zone, phones_by_digit

asterisk = pytest.mark.asterisk
ALL_DAY = "00:00-24:00"
SETTINGS = EngineSettings(node_id="direct-node", tick_s=0.1, operator_poll_s=0.25, shutdown_deadline_s=10.0)


def _lead(store: Engine, campaign_id: int, phone: str, **fields: Any) -> int:
    with session_scope(store) as session:
        lead = Lead(
            campaign_id=campaign_id, phone=phone, time_zones=open_zone(), data={"name": "Ivan"}, **fields
        )
        session.add(lead)
        session.flush()
        assert lead.id is not None
        return lead.id


def _attempts_of(store: Engine, lead_id: int) -> list[CallAttempt]:
    with Session(store) as session:
        return list(session.exec(select(CallAttempt).where(CallAttempt.lead_id == lead_id)).all())


def _ended(store: Engine, lead_id: int, count: int = 1) -> bool:
    rows = _attempts_of(store, lead_id)
    return len(rows) >= count and all(r.ended_at is not None for r in rows)


async def _run(store: Engine, box: Sandbox, until: Callable[[], bool], timeout: float = 60) -> None:
    telephony = await AmiTelephony.connect(box)
    engine = DialEngine(store, telephony, SETTINGS)
    task = asyncio.create_task(engine.run())
    try:
        await wait_until(until, timeout)
    finally:
        engine.stop()
        await asyncio.wait_for(task, 30)
        await telephony.close()


@asterisk
async def test_a_personal_callback_set_minutes_ahead_goes_to_its_operator(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    cid = console_campaign(
        store, "cb", queue="q6", mode="progressive", dial_template="Local/{number}@sim-customers"
    )
    dispositions.add_code(store, "cb", "later", "Call back", callback=True)
    operators = make_operators(store, "cb", 3, prefix="op6")
    chosen = operators[1]
    lead_id = _lead(store, cid, phones_by_digit([0], start=700)[0], status="done")
    with session_scope(store) as session:  # the call on which the customer asked to be called back
        session.add(
            CallAttempt(
                id="first-call",
                campaign_id=cid,
                lead_id=lead_id,
                phone="+79000000000",
                connected_at=datetime.now(UTC),
                ended_at=datetime.now(UTC),
                operator=chosen,
            )
        )
    # One minute ahead, to the next whole minute (what the form's field takes): due in 60-120 s.
    due = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    local = due.astimezone(ZoneInfo(open_zone())).strftime("%Y-%m-%dT%H:%M")
    dispositions.dispose(store, chosen, "first-call", "later", callback=(local, "me"))
    with Session(store) as session:
        callback = session.exec(select(Callback)).one()
        assert callback.operator_id is not None and not callback.done
        assert callback.due_at.replace(tzinfo=UTC) == due
        assert session.get(Lead, lead_id).status == "callback"  # type: ignore[union-attr]
    for name in operators:
        ready(store, name)
    await _run(store, asterisk_sandbox, lambda: _ended(store, lead_id, 2), timeout=180)

    placed = [r for r in _attempts_of(store, lead_id) if r.id != "first-call"]
    assert placed[0].started_at.replace(tzinfo=UTC) >= due, "dialed before its time"
    assert len(placed) == 1 and placed[0].connected_at is not None
    assert placed[0].operator == chosen, "the callback reached someone else"
    with Session(store) as session:
        assert session.exec(select(Callback)).one().attempt_id == placed[0].id


@asterisk
async def test_preview_call_and_manual_dial_reach_the_operator_who_asked(
    asterisk_sandbox: Sandbox, store: Engine
) -> None:
    # A manually typed Russian mobile has every Russian zone (no registry here): a window open all
    # day keeps the test from depending on the hour it runs at.
    cid = console_campaign(
        store, "pv", queue="q7", mode="preview", dial_template="Local/{number}@sim-customers", window=ALL_DAY
    )
    operators = make_operators(store, "pv", 3, prefix="op7")
    chosen = operators[2]
    phones = phones_by_digit([1, 2], start=800)
    first = _lead(store, cid, phones[0])
    for name in operators:
        ready(store, name)
    reserved = direct_calls.next_lead(store, chosen)
    assert reserved is not None and reserved.lead_id == first
    direct_calls.call_reserved(store, chosen, first)
    manual_request = direct_calls.manual_dial(store, chosen, phones[1])
    assert manual_request > 0
    with Session(store) as session:
        manual_lead = session.exec(select(Lead).where(Lead.phone == phones[1])).one()
    assert manual_lead.id is not None

    await _run(store, asterisk_sandbox, lambda: _ended(store, first) and _ended(store, manual_lead.id or 0))

    for lead_id in (first, manual_lead.id):
        rows = _attempts_of(store, lead_id)
        assert len(rows) == 1 and rows[0].connected_at is not None, {
            k: v
            for k, v in rows[0].model_dump().items()
            if k in ("outcome", "safe_harbour", "hangup_cause", "ended_at", "connected_at")
        }
        assert rows[0].operator == chosen
