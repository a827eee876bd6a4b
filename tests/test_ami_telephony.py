"""AmiTelephony against the real sandbox Asterisk: every simulated outcome, members, safety, links."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

import pytest

from dialer.ami.client import AmiTelephony
from dialer.ami.headers import check_action
from dialer.ami.settings import parse_ami_url
from dialer.ami.tracker import PEER_SUFFIX, CallTracker, MemberTracker, member_state
from dialer.core.errors import ConnectionFailed, HeaderRejected, InvalidInput
from dialer.core.telephony import (
    Answered,
    ConnectionLost,
    ConnectionRestored,
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
)
from dialer.pbx.sandbox import Sandbox, free_port
from tests.asterisk_fixtures import SANDBOX_SIM, AmiWitness, EventLog, kinds

asterisk = pytest.mark.asterisk
T = TypeVar("T")


def call(number: str, queue: str, ring_timeout_s: float = 10.0, **variables: str) -> OriginateRequest:
    return OriginateRequest(
        attempt_id=f"t-{uuid.uuid4().hex[:12]}",
        channel=f"Local/{number}@sim-customers",
        context="dialer-answered",
        exten="s",
        caller_id='"Dialer" <1000>',
        ring_timeout_s=ring_timeout_s,
        variables={"DIALER_QUEUE": queue, **variables},
    )


@contextlib.asynccontextmanager
async def sim_global(telephony: AmiTelephony, name: str, value: str, default: str) -> AsyncIterator[None]:
    await telephony.action("Setvar", {"Variable": name, "Value": value})
    try:
        yield
    finally:
        await telephony.action("Setvar", {"Variable": name, "Value": default})


@contextlib.asynccontextmanager
async def member(telephony: AmiTelephony, queue: str, interface: str) -> AsyncIterator[None]:
    await telephony.queue_add(queue, interface, interface, paused=False)
    try:
        yield
    finally:
        await telephony.queue_remove(queue, interface)


def only(events: Sequence[object], kind: type[T]) -> T:
    found = [e for e in events if isinstance(e, kind)]
    assert len(found) == 1, f"expected one {kind.__name__}, got {events}"
    return found[0]


# --- pure parts: the URL and the header guard ------------------------------------


def test_ami_url_parses_with_default_port_and_masks_the_secret() -> None:
    settings = parse_ami_url("ami://dialer:s%40cret@127.0.0.1")
    assert (settings.host, settings.port, settings.username, settings.secret) == (
        "127.0.0.1",
        5038,
        "dialer",
        "s@cret",
    )
    assert "s@cret" not in repr(settings) and "cret" not in settings.masked_url


@pytest.mark.parametrize(
    "url",
    [
        "http://u:p@h:5038",
        "ami://h:5038",
        "ami://u@h:5038",
        "ami://u:p@:5038",
        "ami://u:p@h:notaport",
        "ami://u:p@h/x",
    ],
)
def test_bad_ami_urls_are_refused_without_echoing_the_secret(url: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_ami_url(url)
    assert ":p@" not in str(info.value)


@pytest.mark.parametrize("bad", ["a\rb", "a\nb", "a\0b", "x\r\n\r\nAction: Logoff"])
def test_header_values_with_line_breaks_or_nul_are_refused(bad: str) -> None:
    with pytest.raises(HeaderRejected):
        check_action({"Action": "Originate", "CallerID": bad})
    with pytest.raises(HeaderRejected):
        check_action({"Action": "Originate", "Variable": ["A=1", f"B={bad}"]})
    with pytest.raises(HeaderRejected):
        check_action({"Action": "Originate", f"X{bad}": "1"})


def test_header_lines_of_1024_bytes_or_more_are_refused() -> None:
    check_action({"Action": "Ping", "X": "a" * 1000})
    with pytest.raises(HeaderRejected):
        check_action({"Action": "Ping", "X": "é" * 600})


# --- pure parts: turning AMI messages into port events ---------------------------


def _hangup(uid: str, cause: int) -> dict[str, str]:
    return {"Event": "Hangup", "Uniqueid": uid, "Linkedid": "a1", "Cause": str(cause)}


def test_repeated_answer_signals_give_one_answered_event() -> None:
    tracker = CallTracker()
    tracker.track("a1")
    up = {"Event": "Newstate", "Uniqueid": "a1", "ChannelState": "6"}
    events = tracker.on_event(up, 1.0) + tracker.on_event(up, 1.1)
    events += tracker.on_originate_result("a1", [{"Response": "Success"}, _ORIGINATE_OK], 1.2)
    assert events == [Answered("a1", 1.0)]


_ORIGINATE_OK = {"Event": "OriginateResponse", "Response": "Success", "Reason": "4"}


def test_a_busy_local_call_takes_its_cause_from_the_far_half() -> None:
    tracker = CallTracker()
    tracker.track("a1")
    events = tracker.on_event(_hangup("a1" + PEER_SUFFIX, 17), 1.0) + tracker.on_event(_hangup("a1", 0), 1.0)
    failure = {"Event": "OriginateResponse", "Response": "Failure", "Reason": "5"}
    events += tracker.on_originate_result("a1", [{"Response": "Success"}, failure], 1.1)
    assert events == [OriginateFailed("a1", 1.1, FailReason.BUSY, 17), HungUp("a1", 1.0, 17)]
    assert not tracker.is_tracked("a1")


def test_a_failure_reported_before_the_hang_up_waits_for_its_cause() -> None:
    tracker = CallTracker()
    tracker.track("a1")
    failure = {"Event": "OriginateResponse", "Response": "Failure", "Reason": "3"}
    assert tracker.on_originate_result("a1", [{"Response": "Success"}, failure], 1.0) == []
    events = tracker.on_event(_hangup("a1", 19), 1.1)
    assert events == [OriginateFailed("a1", 1.0, FailReason.NO_ANSWER, 19), HungUp("a1", 1.1, 19)]
    assert tracker.flush_failure("a1") == []


def test_a_failure_without_any_channel_is_flushed_without_a_cause() -> None:
    tracker = CallTracker()
    tracker.track("a1")
    failure = {"Event": "OriginateResponse", "Response": "Failure", "Reason": "0"}
    assert tracker.on_originate_result("a1", [{"Response": "Success"}, failure], 1.0) == []
    assert tracker.flush_failure("a1") == [OriginateFailed("a1", 1.0, FailReason.FAILED, None)]
    assert tracker.flush_failure("a1") == []
    tracker.prune(now=100.0)
    assert not tracker.is_tracked("a1")


def test_an_unallocated_number_is_an_invalid_number_whatever_the_reason() -> None:
    tracker = CallTracker()
    tracker.track("a1")
    tracker.on_event(_hangup("a1", 1), 1.0)
    failure = {"Event": "OriginateResponse", "Response": "Failure", "Reason": "8"}
    events = tracker.on_originate_result("a1", [{"Response": "Success"}, failure], 1.1)
    assert events == [OriginateFailed("a1", 1.1, FailReason.INVALID_NUMBER, 1), HungUp("a1", 1.0, 1)]


def test_a_refused_originate_fails_and_is_forgotten() -> None:
    tracker = CallTracker()
    tracker.track("a1")
    refused = {"Response": "Error", "Message": "Permission denied"}
    assert tracker.on_originate_result("a1", [refused], 1.0) == [
        OriginateFailed("a1", 1.0, FailReason.FAILED)
    ]
    assert not tracker.is_tracked("a1")
    assert tracker.on_event(_hangup("a1", 16), 2.0) == []


def test_reconciling_after_a_reconnect_ends_vanished_calls_and_keeps_live_ones() -> None:
    tracker = CallTracker()
    for attempt in ("gone", "live"):
        tracker.track(attempt)
        tracker.on_originate_lost(attempt)
    events = tracker.reconcile({"live": "6"}, 5.0)
    assert kinds(events) == ["OriginateFailed", "HungUp", "Answered"]
    assert tracker.in_flight() == ["live"]
    assert kinds(tracker.on_event(_hangup("live", 16), 6.0)) == ["HungUp"]


def test_events_of_calls_the_adapter_did_not_place_are_ignored() -> None:
    tracker = CallTracker()
    assert tracker.on_event({"Event": "Newstate", "Uniqueid": "other", "ChannelState": "6"}, 1.0) == []


@pytest.mark.parametrize(
    ("status", "paused", "state"),
    [
        (1, False, MemberState.AVAILABLE),
        (0, False, MemberState.AVAILABLE),
        (2, False, MemberState.IN_CALL),
        (6, False, MemberState.IN_CALL),
        (5, False, MemberState.UNAVAILABLE),
        (4, False, MemberState.UNAVAILABLE),
        (2, True, MemberState.PAUSED),
    ],
)
def test_member_states_follow_device_status_and_pause(status: int, paused: bool, state: MemberState) -> None:
    assert member_state(status, paused) is state


def test_a_member_state_is_reported_once_per_change() -> None:
    members = MemberTracker()
    msg = {"Event": "QueueMemberStatus", "Queue": "q", "Interface": "PJSIP/101", "Status": "1", "Paused": "0"}
    assert len(members.on_event(msg, 1.0)) == 1
    assert members.on_event(msg, 2.0) == []
    removed = members.on_event({"Event": "QueueMemberRemoved", "Queue": "q", "Interface": "PJSIP/101"}, 3.0)
    assert [e.state for e in removed] == [MemberState.REMOVED]


# --- call outcomes on the simulated network --------------------------------------


@asterisk
async def test_answered_call_joins_the_queue_reaches_an_operator_and_hangs_up(
    ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    assert isinstance(ami_telephony, Telephony)
    async with member(ami_telephony, "q1", "Local/op101@sim-operators/n"):
        request = call("4930", "q1")
        await ami_telephony.originate(request)
        events = await ami_events.until_ended(request.attempt_id)
    await ami_events.wait_for(lambda _: any(isinstance(e, HungUp) for e in ami_events.of(request.attempt_id)))
    events = ami_events.of(request.attempt_id)
    assert kinds(events) == ["Ringing", "Answered", "QueueJoined", "OperatorConnected", "HungUp"]
    connected = only(events, OperatorConnected)
    assert isinstance(connected, OperatorConnected)
    assert (connected.queue, connected.interface) == ("q1", "Local/op101@sim-operators/n")
    hung_up = only(events, HungUp)
    assert isinstance(hung_up, HungUp) and hung_up.cause == 16


@asterisk
@pytest.mark.parametrize(("number", "reason"), [("4935", FailReason.BUSY), ("4937", FailReason.CONGESTION)])
async def test_unanswered_outcomes_become_originate_failures(
    ami_telephony: AmiTelephony, ami_events: EventLog, number: str, reason: FailReason
) -> None:
    request = call(number, "q1")
    await ami_telephony.originate(request)
    await ami_events.wait_for(
        lambda _: any(isinstance(e, OriginateFailed) for e in ami_events.of(request.attempt_id))
    )
    events = ami_events.of(request.attempt_id)
    failed = only(events, OriginateFailed)
    assert isinstance(failed, OriginateFailed) and failed.reason is reason
    assert not any(isinstance(e, Answered) for e in events)


@asterisk
async def test_a_phone_that_keeps_ringing_fails_as_no_answer_at_the_ring_timeout(
    ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    request = call("4936", "q1", ring_timeout_s=1.0)
    await ami_telephony.originate(request)
    await ami_events.wait_for(
        lambda _: any(isinstance(e, OriginateFailed) for e in ami_events.of(request.attempt_id))
    )
    events = ami_events.of(request.attempt_id)
    assert isinstance(events[0], Ringing)
    failed = only(events, OriginateFailed)
    assert isinstance(failed, OriginateFailed) and failed.reason is FailReason.NO_ANSWER
    assert failed.hangup_cause == 19


@asterisk
async def test_a_person_who_hangs_up_while_waiting_ends_without_operator_or_message(
    ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    # The operator answers only after 5 s; the person gives up after SIM_IMPATIENT (1 s).
    async with (
        sim_global(ami_telephony, "SIM_OP_ANSWER", "5", str(SANDBOX_SIM.op_answer_s)),
        member(ami_telephony, "q2", "Local/op201@sim-operators/n"),
    ):
        request = call("4938", "q2", DIALER_CONNECT_TIMEOUT="8")
        await ami_telephony.originate(request)
        events = await ami_events.until_ended(request.attempt_id)
    assert kinds(events) == ["Ringing", "Answered", "QueueJoined", "HungUp"]


@asterisk
async def test_with_nobody_in_the_queue_the_safe_harbour_message_comes_within_three_seconds(
    asterisk_sandbox: Sandbox, ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    request = call("4930", "q3", DIALER_SAFE_HARBOUR=asterisk_sandbox.safe_harbour_sound)
    await ami_telephony.originate(request)
    events = await ami_events.until_ended(request.attempt_id)
    answered, harbour = only(events, Answered), only(events, SafeHarbourPlayed)
    assert isinstance(answered, Answered) and isinstance(harbour, SafeHarbourPlayed)
    assert harbour.at - answered.at <= 3.0
    assert not any(isinstance(e, OperatorConnected) for e in events)
    assert isinstance(events[-1], HungUp)


@asterisk
async def test_the_queue_gives_up_on_an_unanswered_operator_after_the_two_second_connect_timeout(
    ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    async with (
        sim_global(ami_telephony, "SIM_OP_ANSWER", "10", str(SANDBOX_SIM.op_answer_s)),
        member(ami_telephony, "q4", "Local/op401@sim-operators/n"),
    ):
        request = call("4930", "q4")  # DIALER_CONNECT_TIMEOUT unset: the 2 s default
        await ami_telephony.originate(request)
        events = await ami_events.until_ended(request.attempt_id)
    joined, harbour = only(events, QueueJoined), only(events, SafeHarbourPlayed)
    assert isinstance(joined, QueueJoined) and isinstance(harbour, SafeHarbourPlayed)
    waited = harbour.at - joined.at
    assert 0.9 <= waited <= 3.0, f"waited {waited:.2f} s in the queue"
    assert not any(isinstance(e, OperatorConnected) for e in events)


@asterisk
async def test_an_answering_machine_is_detected_and_never_queued(
    ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    async with member(ami_telephony, "q5", "Local/op501@sim-operators/n"):
        request = call("4909", "q5", DIALER_AMD="1")
        await ami_telephony.originate(request)
        events = await ami_events.until_ended(request.attempt_id)
    verdict = only(events, MachineDetected)
    assert isinstance(verdict, MachineDetected) and verdict.status == "MACHINE"
    assert not any(isinstance(e, QueueJoined | OperatorConnected) for e in events)


@asterisk
async def test_hangup_ends_a_live_call(ami_telephony: AmiTelephony, ami_events: EventLog) -> None:
    request = call("4906", "q1", ring_timeout_s=30)
    await ami_telephony.originate(request)
    await ami_events.wait_for(
        lambda _: any(isinstance(e, Ringing) for e in ami_events.of(request.attempt_id))
    )
    await ami_telephony.hangup(request.attempt_id)
    events = await ami_events.until_ended(request.attempt_id, timeout=5)
    assert not any(isinstance(e, Answered) for e in events)
    await ami_telephony.hangup(request.attempt_id)  # already gone: not an error


@asterisk
async def test_thirty_originates_are_in_flight_at_once(
    ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    # Each phone rings 0.9 s; dialled one after another, the first would answer before the last is sent.
    requests = [call(f"49{i:02d}90", "q6", ring_timeout_s=10) for i in range(30)]
    for request in requests:
        await ami_telephony.originate(request)
    assert not any(isinstance(e, Answered) for e in ami_events.events)
    ids = {r.attempt_id for r in requests}

    def all_answered(_: object) -> bool:
        return ids <= {e.attempt_id for e in ami_events.events if isinstance(e, Answered)}

    await ami_events.wait_for(all_answered, timeout=30)
    for request in requests:
        await ami_telephony.hangup(request.attempt_id)
    for request in requests:
        await ami_events.until_ended(request.attempt_id)


# --- queue members ---------------------------------------------------------------


@asterisk
async def test_queue_membership_changes_are_reported(
    ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    interface = "Local/op701@sim-operators/n"

    def states() -> list[MemberState]:
        return [
            e.state for e in ami_events.events if isinstance(e, MemberChanged) and e.interface == interface
        ]

    await ami_telephony.queue_add("q7", interface, "op701", paused=False)
    await ami_events.wait_for(lambda _: states()[-1:] == [MemberState.AVAILABLE])
    await ami_telephony.queue_pause("q7", interface, paused=True, reason="lunch")
    await ami_events.wait_for(lambda _: states()[-1:] == [MemberState.PAUSED])
    await ami_telephony.queue_pause("q7", interface, paused=False)
    await ami_events.wait_for(lambda _: states()[-1:] == [MemberState.AVAILABLE])
    await ami_telephony.queue_remove("q7", interface)
    await ami_events.wait_for(lambda _: states()[-1:] == [MemberState.REMOVED])
    assert states() == [MemberState.AVAILABLE, MemberState.PAUSED, MemberState.AVAILABLE, MemberState.REMOVED]
    await ami_telephony.queue_remove("q7", interface)  # already out: not an error


@asterisk
async def test_a_new_connection_reports_the_members_already_in_queues(
    asterisk_sandbox: Sandbox, ami_telephony: AmiTelephony
) -> None:
    async with member(ami_telephony, "q8", "Local/op801@sim-operators/n"):
        second = await AmiTelephony.connect(asterisk_sandbox)
        log = EventLog(second)
        try:
            await log.wait_for(
                lambda events: any(
                    isinstance(e, MemberChanged)
                    and (e.queue, e.interface) == ("q8", "Local/op801@sim-operators/n")
                    for e in events
                ),
                timeout=5,
            )
        finally:
            await second.close()
            await log.close()


# --- safety ----------------------------------------------------------------------


@asterisk
async def test_an_injected_action_in_a_variable_is_refused_before_reaching_asterisk(
    asterisk_sandbox: Sandbox, ami_telephony: AmiTelephony, ami_events: EventLog
) -> None:
    witness = AmiWitness()
    await witness.start(asterisk_sandbox)
    try:
        payloads = [
            "Smith\r\n\r\nAction: UserEvent\r\nUserEvent: Injected",
            "Smith\n\nAction: QueueAdd\nQueue: q7\nInterface: Local/injected@sim-operators/n",
        ]
        for payload in payloads:
            with pytest.raises(HeaderRejected):
                await ami_telephony.originate(call("4935", "q1", LEAD_NAME=payload))
        with pytest.raises(HeaderRejected):
            await ami_telephony.queue_pause(
                "q7", "Local/x@sim-operators/n\r\n\r\nAction: Logoff", paused=True
            )
        # A marker sent afterwards on the same link proves the link is still in step and was watched.
        await ami_telephony.originate(call("4930", "q3"))
        await ami_events.wait_for(lambda events: any(isinstance(e, SafeHarbourPlayed) for e in events))
        await asyncio.sleep(0.2)
        assert "DialerSafeHarbour" in witness.user_event_names()
        assert "Injected" not in witness.user_event_names()
        status = await ami_telephony.action("QueueStatus", {"Queue": "q7"}, as_list=True)
        assert not any("injected" in str(m.get("Location", "")) for m in status)
    finally:
        await witness.close()


@asterisk
async def test_a_wrong_secret_fails_to_connect_with_a_clear_message(asterisk_sandbox: Sandbox) -> None:
    url = f"ami://{asterisk_sandbox.username}:wrong-{uuid.uuid4().hex}@{asterisk_sandbox.host}:{asterisk_sandbox.port}"
    with pytest.raises(ConnectionFailed) as info:
        await AmiTelephony.connect(url)
    message = str(info.value)
    assert "login" in message and asterisk_sandbox.username in message
    assert "wrong-" not in message


async def test_an_unreachable_ami_fails_to_connect_with_a_clear_message() -> None:
    with pytest.raises(ConnectionFailed, match="cannot reach AMI"):
        await AmiTelephony.connect(f"ami://u:p@127.0.0.1:{free_port()}")


# --- losing and regaining the link ----------------------------------------------


class Proxy:
    """A TCP relay between the adapter and Asterisk that the test can cut."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._links: list[asyncio.StreamWriter] = []
        self.frozen = False
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._links += [client_w, server_w]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    if not self.frozen:  # a frozen link swallows traffic but stays open
                        dst.write(data)
                        await dst.drain()
            dst.close()

        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    def cut(self) -> None:
        for writer in self._links:
            writer.close()
        self._links.clear()

    async def close(self) -> None:
        self.cut()
        if self._server:
            self._server.close()
            await self._server.wait_closed()


@asterisk
async def test_a_dropped_link_is_reported_reconnected_and_in_flight_calls_reconciled(
    asterisk_sandbox: Sandbox,
) -> None:
    proxy = Proxy(asterisk_sandbox.port)
    await proxy.start()
    box = asterisk_sandbox
    telephony = await AmiTelephony.connect(
        f"ami://{box.username}:{box.secret}@127.0.0.1:{proxy.port}", ping_interval_s=0.5, ping_timeout_s=0.5
    )
    log = EventLog(telephony)
    try:
        request = call("4936", "q1", ring_timeout_s=1.0)
        await telephony.originate(request)
        proxy.cut()
        await log.wait_for(lambda events: any(isinstance(e, ConnectionRestored) for e in events), timeout=10)
        lost = [e for e in log.events if isinstance(e, ConnectionLost)]
        assert len(lost) == 1
        events = await log.until_ended(request.attempt_id)
        assert any(isinstance(e, OriginateFailed) for e in events)
        # The new link carries actions again.
        await telephony.queue_add("q1", "Local/op901@sim-operators/n", "op901", paused=True)
        await telephony.queue_remove("q1", "Local/op901@sim-operators/n")
    finally:
        await telephony.close()
        await log.close()
        await proxy.close()


@asterisk
async def test_the_secret_never_reaches_the_logs(
    asterisk_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    box = asterisk_sandbox
    telephony = await AmiTelephony.connect(box)
    try:
        assert box.secret not in repr(telephony)
        await telephony.queue_add("q1", "Local/op951@sim-operators/n", "op951", paused=True)
        await telephony.queue_remove("q1", "Local/op951@sim-operators/n")
    finally:
        await telephony.close()
    with pytest.raises(ConnectionFailed):
        await AmiTelephony.connect(f"ami://{box.username}:{box.secret}x@{box.host}:{box.port}")
    assert caplog.records  # the wire log was on
    assert box.secret not in caplog.text


@asterisk
async def test_a_silent_dead_link_is_caught_by_the_ping_watchdog(asterisk_sandbox: Sandbox) -> None:
    proxy = Proxy(asterisk_sandbox.port)
    await proxy.start()
    box = asterisk_sandbox
    telephony = await AmiTelephony.connect(
        f"ami://{box.username}:{box.secret}@127.0.0.1:{proxy.port}",
        ping_interval_s=0.3,
        ping_timeout_s=0.3,
        action_timeout_s=1.0,
    )
    log = EventLog(telephony)
    try:
        proxy.frozen = True
        await log.wait_for(lambda events: any(isinstance(e, ConnectionLost) for e in events), timeout=5)
        with pytest.raises(ConnectionFailed):
            await telephony.originate(call("4930", "q3"))
        proxy.frozen = False
        await log.wait_for(lambda events: any(isinstance(e, ConnectionRestored) for e in events), timeout=15)
        assert await telephony.action("Ping")
    finally:
        await telephony.close()
        await log.close()
        await proxy.close()
