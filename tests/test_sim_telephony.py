"""SimTelephony: the in-memory phone system keeps the Telephony contract, digit by digit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from dialer.core.attempt import Attempt, Outcome, apply
from dialer.core.errors import HeaderRejected, TelephonyError
from dialer.core.telephony import (
    Answered,
    CallEvent,
    FailReason,
    HungUp,
    MachineDetected,
    MemberChanged,
    MemberState,
    OperatorConnected,
    OriginateFailed,
    OriginateRequest,
    QueueJoined,
    Ringing,
    SafeHarbourPlayed,
    Telephony,
    TelephonyEvent,
)
from dialer.sim.telephony import SimTelephony, SimTiming, dialed_number

QUEUE = "sales"
FAST = SimTiming(time_scale=0.01, talk_s=2.0, impatient_s=1.0, amd_s=1.0, safe_harbour_s=1.0)


@pytest.fixture
async def phone() -> AsyncIterator[SimTelephony]:
    sim = SimTelephony(FAST)
    yield sim
    await sim.close()


def request(number: str, attempt_id: str = "a1", amd: bool = False) -> OriginateRequest:
    return OriginateRequest(
        attempt_id=attempt_id,
        channel=f"Local/{number}@sim-customers",
        context="dialer-answered",
        exten="s",
        caller_id="Campaign <1000>",
        ring_timeout_s=3.0,
        variables={"DIALER_QUEUE": QUEUE, "DIALER_AMD": "1" if amd else "0", "DIALER_CONNECT_TIMEOUT": "2"},
    )


async def calls_events(sim: SimTelephony, attempt_ids: tuple[str, ...]) -> dict[str, list[CallEvent]]:
    """Each attempt's events up to its last one (a hang-up or a failed originate)."""
    events: dict[str, list[CallEvent]] = {aid: [] for aid in attempt_ids}
    open_ids = set(attempt_ids)

    async def collect() -> None:
        async for event in sim.events():
            if isinstance(event, MemberChanged):
                continue
            aid = getattr(event, "attempt_id", None)
            if aid not in open_ids:
                continue
            events[aid].append(event)  # type: ignore[arg-type]
            if isinstance(event, (HungUp, OriginateFailed)):
                open_ids.discard(aid)
                if not open_ids:
                    return

    await asyncio.wait_for(collect(), timeout=5)
    return events


async def call_events(sim: SimTelephony, attempt_id: str = "a1") -> list[CallEvent]:
    return (await calls_events(sim, (attempt_id,)))[attempt_id]


def kinds(events: list[CallEvent]) -> list[type]:
    return [type(e) for e in events]


def outcome(events: list[CallEvent]) -> Outcome | None:
    attempt = Attempt.dial("a1", 0.0, amd_enabled=any(isinstance(e, MachineDetected) for e in events))
    for event in events:
        attempt = apply(attempt, event)
    return attempt.outcome


def test_it_is_a_telephony() -> None:
    assert isinstance(SimTelephony(), Telephony)


@pytest.mark.parametrize("number", ["5550010", "5550021", "5550032", "5550043", "5550054"])
async def test_digits_0_to_4_answer_and_reach_a_free_operator(phone: SimTelephony, number: str) -> None:
    await phone.queue_add(QUEUE, "Local/op1@sim-operators/n", "Op 1", paused=False)
    await phone.originate(request(number))
    events = await call_events(phone)
    assert kinds(events) == [Ringing, Answered, QueueJoined, OperatorConnected, HungUp]
    assert outcome(events) is Outcome.CONNECTED


async def test_no_free_operator_means_the_safe_harbour_message(phone: SimTelephony) -> None:
    await phone.originate(request("5550010"))
    events = await call_events(phone)
    assert kinds(events) == [Ringing, Answered, QueueJoined, SafeHarbourPlayed, HungUp]
    assert outcome(events) is Outcome.ABANDONED


async def test_a_paused_operator_takes_no_call(phone: SimTelephony) -> None:
    await phone.queue_add(QUEUE, "Local/op1@sim-operators/n", "Op 1", paused=True)
    await phone.originate(request("5550010"))
    assert outcome(await call_events(phone)) is Outcome.ABANDONED


@pytest.mark.parametrize(
    ("number", "reason"), [("5550005", FailReason.BUSY), ("5550007", FailReason.CONGESTION)]
)
async def test_busy_and_congestion_fail_the_originate(
    phone: SimTelephony, number: str, reason: FailReason
) -> None:
    await phone.originate(request(number))
    events = await call_events(phone)
    assert kinds(events) == [OriginateFailed]
    assert isinstance(events[0], OriginateFailed) and events[0].reason is reason


async def test_digit_6_rings_out_at_the_ring_timeout(phone: SimTelephony) -> None:
    await phone.originate(request("5550006"))
    events = await call_events(phone)
    assert kinds(events) == [Ringing, OriginateFailed]
    assert outcome(events) is Outcome.NO_ANSWER


async def test_digit_8_hangs_up_while_waiting_without_a_message(phone: SimTelephony) -> None:
    await phone.originate(request("5550008"))
    events = await call_events(phone)
    assert kinds(events) == [Ringing, Answered, QueueJoined, HungUp]
    assert outcome(events) is Outcome.ABANDONED


async def test_digit_8_stays_when_an_operator_is_free(phone: SimTelephony) -> None:
    await phone.queue_add(QUEUE, "Local/op1@sim-operators/n", "Op 1", paused=False)
    await phone.originate(request("5550008"))
    assert outcome(await call_events(phone)) is Outcome.CONNECTED


async def test_digit_9_is_a_machine_that_amd_detects(phone: SimTelephony) -> None:
    await phone.queue_add(QUEUE, "Local/op1@sim-operators/n", "Op 1", paused=False)
    await phone.originate(request("5550009", amd=True))
    events = await call_events(phone)
    assert kinds(events) == [Ringing, Answered, MachineDetected, HungUp]
    assert outcome(events) is Outcome.MACHINE


async def test_a_person_passes_amd_as_human(phone: SimTelephony) -> None:
    await phone.queue_add(QUEUE, "Local/op1@sim-operators/n", "Op 1", paused=False)
    await phone.originate(request("5550001", amd=True))
    events = await call_events(phone)
    assert kinds(events) == [Ringing, Answered, MachineDetected, QueueJoined, OperatorConnected, HungUp]
    assert outcome(events) is Outcome.CONNECTED


async def test_without_amd_a_machine_reaches_the_operator(phone: SimTelephony) -> None:
    await phone.queue_add(QUEUE, "Local/op1@sim-operators/n", "Op 1", paused=False)
    await phone.originate(request("5550009"))
    assert OperatorConnected in kinds(await call_events(phone))


async def test_hangup_ends_a_ringing_call(phone: SimTelephony) -> None:
    await phone.originate(request("5550006"))
    await asyncio.sleep(0.01)
    await phone.hangup("a1")
    events = await call_events(phone)
    assert kinds(events) == [Ringing, HungUp]


async def test_an_operator_serves_one_call_at_a_time(phone: SimTelephony) -> None:
    await phone.queue_add(QUEUE, "Local/op1@sim-operators/n", "Op 1", paused=False)
    await phone.originate(request("5550000", "a1"))
    await phone.originate(request("5550000", "a2"))
    events = await calls_events(phone, ("a1", "a2"))
    assert sorted(outcome_of(e) for e in events.values()) == ["abandoned", "connected"]


def outcome_of(events: list[CallEvent]) -> str:
    return "connected" if any(isinstance(e, OperatorConnected) for e in events) else "abandoned"


async def test_member_changes_are_reported(phone: SimTelephony) -> None:
    seen: list[TelephonyEvent] = []
    await phone.queue_add(QUEUE, "Local/op1@sim-operators/n", "Op 1", paused=False)
    await phone.queue_pause(QUEUE, "Local/op1@sim-operators/n", paused=True)
    await phone.queue_remove(QUEUE, "Local/op1@sim-operators/n")
    await phone.close()
    async for event in phone.events():
        seen.append(event)
    states = [e.state for e in seen if isinstance(e, MemberChanged)]
    assert states == [MemberState.AVAILABLE, MemberState.PAUSED, MemberState.REMOVED]


async def test_header_injection_is_refused(phone: SimTelephony) -> None:
    bad = OriginateRequest(
        attempt_id="a1",
        channel="Local/5550001@sim-customers",
        context="dialer-answered",
        exten="s",
        caller_id="Evil\r\nAction: Originate",
        ring_timeout_s=3.0,
    )
    with pytest.raises(HeaderRejected):
        await phone.originate(bad)


async def test_the_same_attempt_cannot_be_dialed_twice(phone: SimTelephony) -> None:
    await phone.originate(request("5550006"))
    with pytest.raises(TelephonyError):
        await phone.originate(request("5550006"))


def test_the_number_is_read_from_the_channel() -> None:
    assert dialed_number("Local/+7 (495) 123-45-67@sim-customers") == "74951234567"
    assert dialed_number("PJSIP/5550001@trunk") == "5550001"
