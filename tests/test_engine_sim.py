"""The dial engine against a scripted telephony (a fake of our own port) and real SQLite."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, DncEntry, Lead
from campaigns.store import session_scope
from dialer.core.errors import TelephonyError
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import add_operator, login, pause, ready
from tests.engine_helpers import (
    ScriptedTelephony,
    assert_no_overlap,
    attempts,
    closed_zone,
    expected_outcome,
    leads,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

FAST = EngineSettings(node_id="test-node", tick_s=0.02, operator_poll_s=0.02, shutdown_deadline_s=5.0)


def _ready_all(store: Engine, names: list[str]) -> None:
    for name in names:
        ready(store, name)


async def _run(engine: DialEngine, timeout: float = 30.0) -> None:
    await asyncio.wait_for(engine.run(until_done=True), timeout)


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for ``condition``, polling; fail after ``timeout`` seconds (never a fixed wait)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


async def test_progressive_run_records_each_outcome_and_retry(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    digits = [d % 9 for d in range(45)]  # 0..8, five of each
    phones = phones_by_digit(digits)
    make_leads(store, cid, phones)
    _ready_all(store, make_operators(store, "spring", 3))
    telephony = ScriptedTelephony()

    await _run(DialEngine(store, telephony, FAST))

    rows = attempts(store, cid)
    assert len(rows) == len(phones)
    by_phone = {row.phone: row for row in rows}
    for phone in phones:
        row = by_phone[phone]
        assert row.outcome == expected_outcome(phone), phone
        assert row.ended_at is not None and row.started_at <= row.ended_at
        if row.outcome == "connected":
            assert row.operator is not None and row.operator.startswith("op")
            assert row.connected_at is not None
    assert_no_overlap(rows)
    statuses = {lead.phone: lead for lead in leads(store, cid)}
    for phone in phones:
        lead = statuses[phone]
        assert lead.attempts == 1 and lead.claimed_by is None
        if expected_outcome(phone) == "connected":
            assert lead.status == "done" and lead.next_call_at is None
        else:
            assert lead.status == "scheduled" and lead.next_call_at is not None


async def test_progressive_never_has_more_unanswered_calls_than_ready_operators(store: Engine) -> None:
    make_campaign(store, "spring")
    cid = 1
    make_leads(store, cid, phones_by_digit([d % 5 for d in range(30)]))
    _ready_all(store, make_operators(store, "spring", 2))
    telephony = ScriptedTelephony()

    await _run(DialEngine(store, telephony, FAST))

    assert len(telephony.dialed) == 30
    assert all(d.available_operators >= 1 for d in telephony.dialed)
    assert all(row.outcome == "connected" for row in attempts(store, cid))
    # Every answered call found an operator: none were over-dialed into the safe-harbour message.
    assert not any(row.safe_harbour for row in attempts(store, cid))


async def test_nothing_is_dialed_until_an_operator_is_ready(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0, 1, 2]))
    [name] = make_operators(store, "spring", 1)
    login(store, name)  # logged in, paused
    telephony = ScriptedTelephony()
    engine = DialEngine(store, telephony, FAST)
    task = asyncio.create_task(engine.run(until_done=True))
    await asyncio.sleep(0.5)
    assert telephony.dialed == []
    assert ("add", "q-spring", f"Local/{name}@sim-operators/n", "True") in telephony.actions
    ready(store, name)
    await asyncio.wait_for(task, 10)
    assert len(telephony.dialed) == 3


async def test_pausing_the_only_operator_stops_dialing(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0] * 15))
    [name] = make_operators(store, "spring", 1)
    ready(store, name)
    telephony = ScriptedTelephony(talk_s=0.05)
    engine = DialEngine(store, telephony, FAST)
    task = asyncio.create_task(engine.run(until_done=True))
    while len(telephony.dialed) < 3:
        await asyncio.sleep(0.01)
    pause(store, name)
    # The pause reaches the queue; calls in flight finish.
    await _until(lambda: all(m.paused for m in telephony.members.values()) and engine.live_calls == 0)
    paused_at = len(telephony.dialed)
    await asyncio.sleep(0.5)
    assert len(telephony.dialed) == paused_at < 15
    ready(store, name)
    await asyncio.wait_for(task, 20)
    assert len(telephony.dialed) == 15


async def test_do_not_call_numbers_are_never_dialed(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    other = make_campaign(store, "other")
    phones = phones_by_digit([0, 1, 2, 3])
    make_leads(store, cid, phones)
    with session_scope(store) as session:
        session.add(DncEntry(phone=phones[0]))  # global list
        session.add(DncEntry(phone=phones[1], campaign_id=cid))
        session.add(DncEntry(phone=phones[2], campaign_id=other))  # another campaign's list
    _ready_all(store, make_operators(store, "spring", 1))
    telephony = ScriptedTelephony()

    await _run(DialEngine(store, telephony, FAST))

    assert sorted(d.request.channel for d in telephony.dialed) == sorted(
        f"Local/{p[1:]}@sim-customers" for p in phones[2:]
    )
    status = {lead.phone: lead.status for lead in leads(store, cid)}
    assert status[phones[0]] == status[phones[1]] == "dnc"


async def test_leads_outside_the_window_are_rescheduled_not_dialed(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    [night] = make_leads(store, cid, phones_by_digit([0]), zone=closed_zone())
    [nowhere] = make_leads(store, cid, phones_by_digit([1], start=50), zone="")
    [spread] = make_leads(store, cid, phones_by_digit([2], start=60), zone="Etc/GMT+6,Etc/GMT-6")
    _ready_all(store, make_operators(store, "spring", 1))
    telephony = ScriptedTelephony()

    await _run(DialEngine(store, telephony, FAST))

    assert telephony.dialed == []
    with Session(store) as session:
        lead = session.get(Lead, night)
        assert lead is not None and lead.next_call_at is not None
        assert lead.next_call_at > datetime.now(UTC) and lead.status == "new"
        for lead_id in (nowhere, spread):
            lead = session.get(Lead, lead_id)
            assert lead is not None and lead.last_outcome == "no_window" and lead.attempts == 0


async def test_lead_at_max_attempts_is_exhausted_without_a_call(store: Engine) -> None:
    cid = make_campaign(store, "spring", max_attempts=3)
    make_leads(store, cid, phones_by_digit([5]), attempts=3, status="scheduled")
    _ready_all(store, make_operators(store, "spring", 1))
    telephony = ScriptedTelephony()
    await _run(DialEngine(store, telephony, FAST))
    assert telephony.dialed == []
    assert [lead.status for lead in leads(store, cid)] == ["exhausted"]


async def test_campaign_retry_rules_set_the_next_call(store: Engine) -> None:
    cid = make_campaign(store, "spring", retry_rules={"busy": 60, "congestion": 7200})
    make_leads(store, cid, phones_by_digit([5, 7]))
    _ready_all(store, make_operators(store, "spring", 2))
    await _run(DialEngine(store, ScriptedTelephony(), FAST))
    ended = {row.lead_id: row.ended_at for row in attempts(store, cid)}
    for lead in leads(store, cid):
        end = ended[lead.id]  # type: ignore[index]
        assert end is not None and lead.next_call_at is not None
        delay = timedelta(minutes=1) if lead.phone.endswith("5") else timedelta(hours=2)
        assert lead.next_call_at - end == delay


async def test_max_channels_caps_calls_in_flight(store: Engine) -> None:
    cid = make_campaign(store, "spring", max_channels=1)
    make_leads(store, cid, phones_by_digit([0] * 6))
    _ready_all(store, make_operators(store, "spring", 3))
    await _run(DialEngine(store, ScriptedTelephony(), FAST))
    rows = sorted(attempts(store, cid), key=lambda r: r.started_at)
    assert len(rows) == 6
    for earlier, later in itertools.pairwise(rows):
        assert earlier.ended_at is not None and earlier.ended_at <= later.started_at


async def test_attempt_is_committed_before_the_originate(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0, 5]))
    _ready_all(store, make_operators(store, "spring", 2))
    seen: list[tuple[str, str]] = []

    def check(request: object) -> None:
        attempt_id = request.attempt_id  # type: ignore[attr-defined]
        with Session(store) as session:
            row = session.get(CallAttempt, attempt_id)
            assert row is not None and row.ended_at is None
            lead = session.get(Lead, row.lead_id)
            assert lead is not None
            seen.append((attempt_id, lead.status))

    await _run(DialEngine(store, ScriptedTelephony(on_originate=check), FAST))
    assert len(seen) == 2 and {status for _, status in seen} == {"in_call"}


async def test_lead_data_with_line_breaks_is_dialed_with_a_safe_variable(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    evil = "Eve\r\n\r\nAction: UserEvent\r\nUserEvent: Injected\r\n\r\n"
    make_leads(store, cid, phones_by_digit([0]), data={"name": evil})
    _ready_all(store, make_operators(store, "spring", 1))
    telephony = ScriptedTelephony()
    await _run(DialEngine(store, telephony, FAST))
    [dialed] = telephony.dialed
    assert dialed.request.variables["DIALER_LEAD_NAME"] == "Eve Action: UserEvent UserEvent: Injected"
    assert [row.outcome for row in attempts(store, cid)] == ["connected"]


async def test_silent_calls_are_expired_and_hung_up(store: Engine) -> None:
    cid = make_campaign(store, "spring", ring_timeout_s=15)
    make_leads(store, cid, phones_by_digit([9]))
    _ready_all(store, make_operators(store, "spring", 1))
    telephony = ScriptedTelephony()
    clock = _FastClock()
    settings = EngineSettings(node_id="n", tick_s=0.02, operator_poll_s=0.02, expire_after_s=5.0)
    await _run(DialEngine(store, telephony, settings, clock=clock))
    [row] = attempts(store, cid)
    assert row.outcome == "failed" and row.ended_at is not None
    assert telephony.hangups == [row.id]


class _FastClock:
    """Wall time, ten times faster after the first call: ages a silent call quickly."""

    def __init__(self) -> None:
        import time

        self._time = time.time
        self._start = time.time()

    def __call__(self) -> float:
        return self._start + (self._time() - self._start) * 40


async def test_stop_lets_live_calls_finish_and_records_them(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0] * 10))
    _ready_all(store, make_operators(store, "spring", 2))
    telephony = ScriptedTelephony(talk_s=0.3)
    engine = DialEngine(store, telephony, FAST)
    task = asyncio.create_task(engine.run())
    while not telephony.dialed:
        await asyncio.sleep(0.01)
    engine.stop()
    report = await asyncio.wait_for(task, 10)
    rows = attempts(store, cid)
    assert report.started == len(rows) >= 1 and report.hung_up_at_shutdown == 0
    assert all(row.outcome == "connected" and row.ended_at is not None for row in rows)
    assert telephony.hangups == []
    assert {lead.claimed_by for lead in leads(store, cid)} == {None}
    assert len(rows) < 10  # nothing dialed after the stop


async def test_stop_hangs_up_calls_still_live_at_the_deadline(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0]))
    _ready_all(store, make_operators(store, "spring", 1))
    telephony = ScriptedTelephony(talk_s=30)
    settings = EngineSettings(node_id="n", tick_s=0.02, operator_poll_s=0.02, shutdown_deadline_s=0.3)
    engine = DialEngine(store, telephony, settings)
    task = asyncio.create_task(engine.run())
    while not any(row.connected_at for row in attempts(store, cid)):
        await asyncio.sleep(0.02)
    engine.stop()
    report = await asyncio.wait_for(task, 10)
    [row] = attempts(store, cid)
    assert report.hung_up_at_shutdown == 1 and telephony.hangups == [row.id]
    assert row.outcome == "connected" and row.ended_at is not None


async def test_start_reconciles_attempts_left_by_a_crashed_run(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    [answered, dialing] = make_leads(store, cid, phones_by_digit([0, 1]), status="in_call", claimed_by="n")
    [held] = make_leads(store, cid, phones_by_digit([2], start=9), claimed_by="n")
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    with session_scope(store) as session:
        session.add(
            CallAttempt(
                id="a" * 32,
                campaign_id=cid,
                lead_id=answered,
                phone="+1",
                node="n",
                started_at=long_ago,
                answered_at=long_ago,
            )
        )
        session.add(
            CallAttempt(
                id="b" * 32, campaign_id=cid, lead_id=dialing, phone="+2", node="n", started_at=long_ago
            )
        )
        session.add(
            CallAttempt(
                id="c" * 32, campaign_id=cid, lead_id=held, phone="+3", node="other", started_at=long_ago
            )
        )
    engine = DialEngine(store, ScriptedTelephony(), EngineSettings(node_id="n", tick_s=0.02))
    engine.stop()
    report = await asyncio.wait_for(engine.run(), 10)
    assert report.reconciled == 2
    with Session(store) as session:
        a = session.get(CallAttempt, "a" * 32)
        b = session.get(CallAttempt, "b" * 32)
        c = session.get(CallAttempt, "c" * 32)
        assert a is not None and a.outcome == "abandoned" and a.ended_at is not None
        assert b is not None and b.outcome == "failed"
        assert c is not None and c.ended_at is None  # another node's call is not ours to end
        for lead_id in (answered, dialing, held):
            lead = session.get(Lead, lead_id)
            assert lead is not None and lead.claimed_by is None
            assert lead.status in ("scheduled", "new")


@pytest.mark.parametrize("unknown", [["nope"]])
async def test_unknown_campaign_is_a_user_error(store: Engine, unknown: list[str]) -> None:
    from dialer.core.errors import NotFound

    with pytest.raises(NotFound):
        await DialEngine(store, ScriptedTelephony(), FAST, campaigns=unknown).run()


async def test_a_causeless_hangup_before_the_verdict_keeps_busy_and_congestion(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([5, 7, 5, 7]))
    _ready_all(store, make_operators(store, "spring", 4))
    await _run(DialEngine(store, ScriptedTelephony(hangup_before_verdict=True), FAST))
    assert sorted((row.phone[-1], row.outcome) for row in attempts(store, cid)) == [
        ("5", "busy"),
        ("5", "busy"),
        ("7", "congestion"),
        ("7", "congestion"),
    ]


async def test_a_pausing_operator_stays_in_the_queue_for_the_call_placed_for_them(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0]))
    [name] = make_operators(store, "spring", 1)
    ready(store, name)
    telephony = ScriptedTelephony(ring_s=0.4)
    engine = DialEngine(store, telephony, FAST)
    task = asyncio.create_task(engine.run(until_done=True))
    while not telephony.dialed:
        await asyncio.sleep(0.005)
    pause(store, name)  # while the call still rings
    await asyncio.wait_for(task, 10)
    [row] = attempts(store, cid)
    assert row.outcome == "connected" and not row.safe_harbour
    assert telephony.actions[-1] == ("pause", "q-spring", f"Local/{name}@sim-operators/n", "True")


def test_two_nodes_never_claim_the_same_lead(store: Engine) -> None:
    from dialer.store.claims import claim_due_leads

    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0] * 10))
    now = datetime.now(UTC)
    first = claim_due_leads(store, cid, "node-a", now, 6)
    second = claim_due_leads(store, cid, "node-b", now, 6)
    again = claim_due_leads(store, cid, "node-a", now, 6)
    assert len(first) == 6 and len(second) == 4 and again == []
    assert not {lead.lead_id for lead in first} & {lead.lead_id for lead in second}
    holders = {lead.id: lead.claimed_by for lead in leads(store, cid)}
    assert all(holders[lead.lead_id] == "node-a" for lead in first)


async def test_nothing_is_dialed_while_the_phone_system_is_unreachable(store: Engine) -> None:
    from dialer.core.telephony import ConnectionLost, ConnectionRestored

    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0, 1, 2]))
    [name] = make_operators(store, "spring", 1)
    login(store, name)  # paused until the link is down, so nothing is dialed before it drops
    telephony = ScriptedTelephony()
    engine = DialEngine(store, telephony, FAST)
    task = asyncio.create_task(engine.run(until_done=True))
    await asyncio.sleep(0.2)
    telephony._emit(ConnectionLost(at=0.0))
    ready(store, name)
    await asyncio.sleep(0.5)
    # Leads would only burn attempts as "failed" against a PBX that cannot take the call.
    assert telephony.dialed == []
    assert all(lead.attempts == 0 and lead.status == "new" for lead in leads(store, cid))
    telephony._emit(ConnectionRestored(at=0.0))
    await asyncio.wait_for(task, 10)
    assert len(telephony.dialed) == 3


async def test_operators_go_back_in_the_queue_after_the_phone_system_restarts(store: Engine) -> None:
    from dialer.core.telephony import ConnectionLost, ConnectionRestored

    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0, 1, 2]))
    [name] = make_operators(store, "spring", 1)
    login(store, name)
    telephony = ScriptedTelephony()
    engine = DialEngine(store, telephony, FAST)
    task = asyncio.create_task(engine.run(until_done=True))
    try:
        await _until(lambda: len(telephony.members) == 1)  # the operator is in the queue, paused
        # A restarted Asterisk comes back with empty queues and says nothing about who was in them.
        telephony._emit(ConnectionLost(at=0.0))
        await _until(telephony._queue.empty)  # the engine has taken the loss in
        telephony.members.clear()
        telephony._emit(ConnectionRestored(at=0.0))
        ready(store, name)
        await asyncio.wait_for(task, 10)
    finally:
        engine.stop()
    # Every call was placed with the operator back in the queue and reported available.
    assert len(telephony.dialed) == 3
    assert all(d.available_operators >= 1 for d in telephony.dialed)
    assert [a[0] for a in telephony.actions].count("add") == 2


async def test_a_refused_queue_add_is_tried_again(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0]))
    [name] = make_operators(store, "spring", 1)
    ready(store, name)
    refusals = [TelephonyError("Unable to add interface: temporary failure")]

    class Flaky(ScriptedTelephony):
        async def queue_add(self, queue: str, interface: str, member_name: str, paused: bool) -> None:
            if refusals:
                self.actions.append(("refused", queue, interface))
                raise refusals.pop()
            await super().queue_add(queue, interface, member_name, paused)

    telephony = Flaky()
    settings = EngineSettings(
        node_id="test-node", tick_s=0.02, operator_poll_s=0.02, operator_retry_s=0.1, shutdown_deadline_s=5.0
    )
    await asyncio.wait_for(DialEngine(store, telephony, settings).run(until_done=True), 10)
    kinds = [a[0] for a in telephony.actions]
    assert kinds.index("refused") < kinds.index("add")
    [row] = attempts(store, cid)
    assert row.outcome == "connected"


def _spoken_to_elsewhere(store: Engine, phone: str, connected: datetime) -> None:
    """A finished conversation with ``phone`` in a campaign of its own, whose lead is done."""
    other = make_campaign(store, f"sales-{phone[-4:]}")
    [lead_id] = make_leads(store, other, [phone], status="done", attempts=1)
    with session_scope(store) as session:
        session.add(
            CallAttempt(
                id=f"earlier-{phone}",
                campaign_id=other,
                lead_id=lead_id,
                phone=phone,
                started_at=connected - timedelta(seconds=15),
                answered_at=connected - timedelta(seconds=1),
                connected_at=connected,
                ended_at=connected + timedelta(minutes=3),
                outcome="connected",
            )
        )


async def test_a_number_spoken_to_two_hours_ago_waits_22_hours_under_a_daily_limit(store: Engine) -> None:
    collect = make_campaign(store, "collect", contact_limits="1/1d")
    plain = make_campaign(store, "plain")
    held_phone, plain_phone = phones_by_digit([0, 0])
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    _spoken_to_elsewhere(store, held_phone, two_hours_ago)
    _spoken_to_elsewhere(store, plain_phone, two_hours_ago)
    [held] = make_leads(store, collect, [held_phone])
    [dialed] = make_leads(store, plain, [plain_phone])
    _ready_all(store, make_operators(store, "collect", 1, prefix="c"))
    _ready_all(store, make_operators(store, "plain", 1, prefix="p"))
    telephony = ScriptedTelephony()

    await _run(DialEngine(store, telephony, FAST))

    assert [d.request.channel for d in telephony.dialed] == [f"Local/{plain_phone[1:]}@sim-customers"]
    assert attempts(store, collect) == []
    with Session(store) as session:
        lead = session.get(Lead, held)
        assert lead is not None and lead.next_call_at is not None
        assert lead.next_call_at.replace(tzinfo=UTC) == two_hours_ago + timedelta(days=1)
        assert lead.status == "new" and lead.attempts == 0 and lead.claimed_by is None
        other = session.get(Lead, dialed)
        assert other is not None and other.status == "done" and other.attempts == 1


async def test_operators_shared_by_two_campaigns_are_not_counted_twice(store: Engine) -> None:
    spring, summer = make_campaign(store, "spring"), make_campaign(store, "summer")
    make_leads(store, spring, phones_by_digit([0] * 8))
    make_leads(store, summer, phones_by_digit([1] * 8, start=100))
    for name in ("anna", "ivan"):
        add_operator(store, name, f"Local/{name}@sim-operators/n", ["spring", "summer"])
        ready(store, name)
    telephony = ScriptedTelephony(ring_s=0.05, talk_s=0.5, connect_timeout_s=0.2)
    await asyncio.wait_for(DialEngine(store, telephony, FAST).run(until_done=True), 30)
    # Progressive dialing: never more calls in flight than operators free, whatever the campaign.
    outcomes = [r.outcome for r in attempts(store)]
    assert len(outcomes) == 16
    assert outcomes.count("abandoned") == 0, outcomes


async def test_until_done_ends_when_the_only_leads_left_wait_for_their_window(store: Engine) -> None:
    """With nobody ready the window-closed lead is never claimed and rescheduled: it still ends the run."""
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0, 1]), zone=closed_zone())
    later = datetime.now(UTC) + timedelta(hours=2)
    [later_phone] = phones_by_digit([2], start=70)
    make_leads(store, cid, [later_phone], next_call_at=later)
    make_operators(store, "spring", 1)  # logged out: nothing would ever be dialed

    engine = DialEngine(store, ScriptedTelephony(), FAST)
    report = await asyncio.wait_for(engine.run(until_done=True), 15)

    assert report.started == 0
    assert "3 leads wait for their retry time or calling window, the first at" in report.left
    with Session(store) as session:  # the window-closed leads wait for the window's opening
        night = session.exec(select(Lead).where(Lead.campaign_id == cid, Lead.phone != later_phone)).all()
    assert len(night) == 2 and all(lead.next_call_at is not None for lead in night)
    assert all(lead.next_call_at > datetime.now(UTC) for lead in night)  # type: ignore[operator]


async def test_until_done_waits_for_a_callable_lead_and_says_why(
    store: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0]))
    make_operators(store, "spring", 1)  # logged out
    engine = DialEngine(store, ScriptedTelephony(), FAST)
    caplog.set_level(logging.INFO, logger="dialer.engine")
    task = asyncio.create_task(engine.run(until_done=True))
    await asyncio.sleep(1.5)
    assert not task.done()
    engine.stop()
    await asyncio.wait_for(task, 10)
    assert "not done yet: 1 leads are due now (spring: no ready operator)" in caplog.text
