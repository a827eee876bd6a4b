"""Wrap-up held until the disposition: the campaign option, the store's expiry, the engine's hold.

The engine's side runs here on the scripted telephony (our own port's test double); the
same flow against the real Asterisk is in ``tests/test_held_wrapup_e2e.py``.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns import service
from campaigns.models import CallAttempt, ConsoleEvent, Lead
from campaigns.steering import edit_campaign
from campaigns.store import session_scope
from dialer.core.errors import InvalidInput
from dialer.core.operators import OperatorState
from dialer.core.telephony import MemberChanged, MemberState
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.engine.membership import Membership
from dialer.pacing.team import Activity
from dialer.policy.membership import Assignment
from dialer.services import dispositions
from dialer.services.operators import ready
from dialer.store.wrapup import EXPIRED_NOTE, expire_wrapup
from tests.console_helpers import connected_call, console_campaign
from tests.engine_helpers import ScriptedTelephony, make_leads, make_operators, phones_by_digit

pytestmark = pytest.mark.every_store

IFACE = "Local/op1@sim-operators/n"


def test_a_wrapup_limit_needs_a_known_code(store: Engine) -> None:
    with pytest.raises(InvalidInput, match="--wrapup-code"):
        service.CampaignSpec.build("a", wrapup_limit_s=30)
    with pytest.raises(InvalidInput, match="--wrapup-limit"):
        service.CampaignSpec.build("a", wrapup_limit_s=-1, wrapup_code="refused")
    with pytest.raises(InvalidInput, match="--wrapup-limit"):
        service.CampaignSpec.build("a", wrapup_limit_s=3601, wrapup_code="refused")
    with pytest.raises(InvalidInput, match="not one of the campaign's disposition codes"):
        console_campaign(store, "a", wrapup_limit_s=30, wrapup_code="nonsense")
    console_campaign(store, "b")
    with pytest.raises(InvalidInput, match="not one of the campaign's disposition codes"):
        edit_campaign(store, "b", {"wrapup_limit_s": 30, "wrapup_code": "nonsense"})
    edit = edit_campaign(store, "b", {"wrapup_limit_s": 30, "wrapup_code": "not_interested"})
    assert edit.changes["wrap-up"][1] == "held until disposition, at most 30 s, then not_interested"
    with pytest.raises(InvalidInput, match="wrap-up code"):
        dispositions.remove_code(store, "b", "not_interested")
    assert service.get_campaign(store, "b").wrapup_limit_s == 30


def _ended_call(store: Engine, cid: int, phone: str) -> str:
    attempt_id, _ = connected_call(store, cid, "op1", phone)
    with session_scope(store) as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None and row.connected_at is not None
        row.ended_at = row.connected_at
        session.add(row)
    return attempt_id


def test_an_expired_wrapup_records_the_default_code_once(store: Engine) -> None:
    cid = console_campaign(store, "c", wrapup_limit_s=5, wrapup_code="refused")
    attempt_id = _ended_call(store, cid, "+79001110001")
    closed = expire_wrapup(store, attempt_id)
    assert closed is not None and closed.code == "refused"
    assert expire_wrapup(store, attempt_id) is None  # once
    with Session(store) as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None
        lead = session.get(Lead, row.lead_id)
        events = session.exec(select(ConsoleEvent).where(ConsoleEvent.attempt_id == attempt_id)).all()
    assert (row.disposition, row.note, lead and lead.status) == ("refused", EXPIRED_NOTE, "done")
    assert [(e.kind, e.subject) for e in events] == [("disposed", "op1")]  # the console redraws


def test_an_operators_disposition_is_never_overwritten_by_the_expiry(store: Engine) -> None:
    cid = console_campaign(store, "d", wrapup_limit_s=5, wrapup_code="refused")
    attempt_id = _ended_call(store, cid, "+79001110002")
    dispositions.dispose(store, "op1", attempt_id, "sale")
    assert expire_wrapup(store, attempt_id) is None
    with Session(store) as session:
        row = session.get(CallAttempt, attempt_id)
    assert row is not None and row.disposition == "sale"


async def test_a_held_member_is_paused_counts_as_wrapping_and_comes_back_when_released() -> None:
    telephony = ScriptedTelephony()
    membership = Membership(telephony)
    assignment = Assignment("op1", IFACE, 1, "q1", OperatorState.READY)
    await membership.apply([assignment])
    membership.on_member(MemberChanged(0.0, "q1", IFACE, MemberState.AVAILABLE))
    assert [a.interface for a in membership.ready(1, (), 10.0)] == [IFACE]

    membership.hold(IFACE, 9.0)
    assert membership.dirty
    assert membership.ready(1, (), 10.0) == []  # at once, before Asterisk reports the pause
    await membership.apply([assignment])
    assert telephony.actions[-1] == ("pause", "q1", IFACE, "True")
    membership.on_member(MemberChanged(10.0, "q1", IFACE, MemberState.PAUSED))
    view = membership.wrapping(1, (), 12.0)[IFACE]
    assert (view.activity, view.since, view.free_at) == (Activity.WRAP_UP, 9.0, None)
    assert membership.paused(1) == 0  # in wrap-up, not on a break

    membership.release(IFACE)
    await membership.apply([assignment])
    assert telephony.actions[-1] == ("pause", "q1", IFACE, "False")
    assert membership.wrapping(1, (), 13.0) == {}


async def _until(predicate: object, timeout: float) -> None:
    until = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < until, "timed out"
        await asyncio.sleep(0.02)


async def test_the_engine_holds_an_operator_until_the_disposition_or_the_limit(store: Engine) -> None:
    cid = console_campaign(store, "e", queue="qe", wrapup_limit_s=2, wrapup_code="refused")
    with session_scope(store) as session:
        campaign = service.find_campaign(session, "e")
        campaign.dial_template, campaign.max_channels = "Local/{number}@sim-customers", 1
        session.add(campaign)
    make_leads(store, cid, phones_by_digit([0, 0], start=500))
    (operator,) = make_operators(store, "e", 1, prefix="opw")
    ready(store, operator)
    telephony = ScriptedTelephony()
    engine = DialEngine(store, telephony, EngineSettings(node_id="wrap", tick_s=0.02, operator_poll_s=0.05))
    run = asyncio.create_task(engine.run())
    member = ("qe", f"Local/{operator}@sim-operators/n")

    def rows() -> list[CallAttempt]:
        with Session(store) as session:
            return list(session.exec(select(CallAttempt).order_by(CallAttempt.started_at)).all())

    try:
        await _until(lambda: any(r.ended_at for r in rows()), 10)
        await _until(lambda: telephony.members[member].paused, 2)
        first = rows()[0]
        await asyncio.sleep(0.5)
        assert len(rows()) == 1 and telephony.members[member].paused  # held: no second call
        dispositions.dispose(store, operator, first.id, "sale")
        await _until(lambda: len(rows()) == 2, 5)  # released, the next lead reaches the operator
        await _until(lambda: rows()[1].ended_at is not None, 10)
        await _until(lambda: rows()[1].disposition is not None, 5)
        await _until(lambda: not telephony.members[member].paused, 2)
    finally:
        engine.stop()
        await asyncio.wait_for(run, 30)
    second = rows()[1]
    assert (second.disposition, second.note) == ("refused", EXPIRED_NOTE)
    assert second.disposed_at is not None and second.ended_at is not None
    assert (second.disposed_at - second.ended_at).total_seconds() >= 2.0  # recorded at the limit, not before
    assert [a for a in telephony.actions if a[0] == "pause"] == [
        ("pause", *member, "True"),
        ("pause", *member, "False"),
        ("pause", *member, "True"),
        ("pause", *member, "False"),
    ]


async def test_a_stop_during_a_held_wrapup_leaves_the_operator_unpaused(store: Engine) -> None:
    cid = console_campaign(store, "s", queue="qs", wrapup_limit_s=600, wrapup_code="refused")
    with session_scope(store) as session:
        campaign = service.find_campaign(session, "s")
        campaign.dial_template, campaign.max_channels = "Local/{number}@sim-customers", 1
        session.add(campaign)
    make_leads(store, cid, phones_by_digit([0, 0], start=700))
    (operator,) = make_operators(store, "s", 1, prefix="ops")
    ready(store, operator)
    telephony = ScriptedTelephony()
    engine = DialEngine(store, telephony, EngineSettings(node_id="stop", tick_s=0.02, operator_poll_s=0.05))
    run = asyncio.create_task(engine.run())
    member = ("qs", f"Local/{operator}@sim-operators/n")
    try:
        await _until(lambda: member in telephony.members and telephony.members[member].paused, 10)
        await _until(lambda: engine.live_calls == 0, 10)  # the call is over; its wrap-up holds
    finally:
        engine.stop()
        await asyncio.wait_for(run, 30)
    # The engine's own pause ended with it: the operator asked to be ready.
    assert not telephony.members[member].paused
    assert telephony.actions[-1] == ("pause", *member, "False")
