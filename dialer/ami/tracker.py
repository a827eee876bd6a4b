"""From AMI messages to the port's events: pure bookkeeping, no I/O.

A call is recognised by its attempt id, which the adapter sets as the Originate
``ChannelId``: Asterisk stamps it as ``Uniqueid`` on every event of the attempt's
own channel (and as ``Linkedid`` on every channel the call creates). The other half
of a ``Local`` channel gets ``OtherChannelId`` = attempt id + ``PEER_SUFFIX``; it is
read only for its hang-up cause, because the attempt's own half reports cause 0 when
the far end was busy or congested.

Each kind of event is emitted at most once per attempt. An attempt is forgotten
once its channel has hung up and its originate has been resolved (or lost).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dialer.core.telephony import (
    Answered,
    CallEvent,
    CarriedCall,
    FailReason,
    HungUp,
    MachineDetected,
    MemberChanged,
    MemberState,
    OperatorConnected,
    OriginateFailed,
    QueueJoined,
    Ringing,
    SafeHarbourPlayed,
)

PEER_SUFFIX = "-peer"

Message = Mapping[str, Any]

# OriginateResponse "Reason" (Asterisk's AST_CONTROL_* of the outcome).
_REASONS = {3: FailReason.NO_ANSWER, 5: FailReason.BUSY, 8: FailReason.CONGESTION}
_INVALID_NUMBER_CAUSES = frozenset({1, 28})
_BY_CAUSE = {17: FailReason.BUSY, 19: FailReason.NO_ANSWER, 34: FailReason.CONGESTION}
_LOST = "lost while the AMI connection was down"


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def fail_reason(reason: int | None, cause: int | None) -> FailReason:
    """Why an originate failed, from its Reason and the call's hang-up cause."""
    if cause in _INVALID_NUMBER_CAUSES:
        return FailReason.INVALID_NUMBER
    return _REASONS.get(reason or 0, FailReason.FAILED)


@dataclass
class _Call:
    attempt_id: str
    emitted: set[type] = field(default_factory=set)
    answered: bool = False
    originate_pending: bool = True
    failure_at: float | None = None  # when the originate reported failure
    failure_reason: int | None = None
    hung_up: bool = False
    hangup: HungUp | None = None
    cause: int | None = None
    peer_cause: int | None = None
    adopted: bool = False  # from an earlier run: no originate result will come

    def best_cause(self) -> int | None:
        if self.cause in (None, 0) and self.peer_cause:
            return self.peer_cause
        return self.cause


class CallTracker:
    def __init__(self) -> None:
        self._calls: dict[str, _Call] = {}
        self._finished: deque[str] = deque(maxlen=10_000)

    def track(self, attempt_id: str) -> None:
        self._calls[attempt_id] = _Call(attempt_id)

    def adopt(self, attempt_ids: Iterable[str]) -> None:
        """Follow calls placed by an earlier run: their originates' results went to that run."""
        for attempt_id in attempt_ids:
            self._calls[attempt_id] = _Call(attempt_id, originate_pending=False, adopted=True)

    def carried(self, attempt_ids: Iterable[str], channels: Sequence[Message]) -> dict[str, CarriedCall]:
        """Which adopted calls Asterisk still carries, from ``CoreShowChannels``; the others are dropped.

        A call that is up was answered (its answer is no news); one bridged to another
        channel is with an operator, connected at most as long ago as that channel exists.
        """
        shown = [m for m in channels if m.get("Event") == "CoreShowChannel"]
        by_id = {str(m.get("Uniqueid", "")): m for m in shown}
        found: dict[str, CarriedCall] = {}
        for attempt_id in attempt_ids:
            own, call = by_id.get(attempt_id), self._calls.get(attempt_id)
            if own is None or call is None:
                self._calls.pop(attempt_id, None)
                continue
            if str(own.get("ChannelState", "")) == "6":
                call.answered = True
                call.emitted.add(Answered)
            found[attempt_id] = _carried(attempt_id, call.answered, own, shown)
        return found

    def is_tracked(self, attempt_id: str) -> bool:
        return attempt_id in self._calls

    def in_flight(self) -> list[str]:
        return list(self._calls)

    def prune(self, now: float, keep_s: float = 60.0) -> None:
        """Forget failed originates whose channel never reported a hang-up (it may never have existed)."""
        for call in list(self._calls.values()):
            if call.failure_at is not None and call.failure_at < now - keep_s:
                self._finish(call)

    # --- emission helpers ------------------------------------------------------

    def _emit(self, call: _Call, event: CallEvent, out: list[CallEvent]) -> None:
        if type(event) not in call.emitted:
            call.emitted.add(type(event))
            out.append(event)

    def _answer(self, call: _Call, at: float, out: list[CallEvent]) -> None:
        call.answered = True
        self._emit(call, Answered(call.attempt_id, at), out)

    def _finish(self, call: _Call) -> None:
        self._calls.pop(call.attempt_id, None)
        self._finished.append(call.attempt_id)

    def _maybe_finish(self, call: _Call) -> None:
        if call.hung_up and not call.originate_pending:
            self._finish(call)

    # --- AMI events ------------------------------------------------------------

    def on_event(self, msg: Message, at: float) -> list[CallEvent]:
        name = str(msg.get("Event", ""))
        uid = str(msg.get("Uniqueid", ""))
        out: list[CallEvent] = []
        if name == "Hangup" and uid.endswith(PEER_SUFFIX):
            peer_of = self._calls.get(uid[: -len(PEER_SUFFIX)])
            if peer_of is not None:
                peer_of.peer_cause = _int(msg.get("Cause"))
            return out
        if name == "UserEvent":
            uid = str(msg.get("Attempt") or uid)
        call = self._calls.get(uid)
        if call is None:
            return out
        if name == "Newstate":
            self._on_newstate(call, str(msg.get("ChannelState", "")), at, out)
        elif name == "QueueCallerJoin":
            self._answer(call, at, out)
            self._emit(call, QueueJoined(call.attempt_id, at, str(msg.get("Queue", ""))), out)
        elif name == "AgentConnect":
            self._answer(call, at, out)
            event = OperatorConnected(
                call.attempt_id, at, str(msg.get("Queue", "")), str(msg.get("Interface", ""))
            )
            self._emit(call, event, out)
        elif name == "UserEvent":
            self._on_user_event(call, msg, at, out)
        elif name == "Hangup":
            self._on_hangup(call, msg, at, out)
        return out

    def _on_newstate(self, call: _Call, state: str, at: float, out: list[CallEvent]) -> None:
        if state == "5" and not call.answered:  # Ringing: the far end is alerting
            self._emit(call, Ringing(call.attempt_id, at), out)
        elif state == "6":  # Up: the earliest sign of an answer
            self._answer(call, at, out)

    def _on_user_event(self, call: _Call, msg: Message, at: float, out: list[CallEvent]) -> None:
        kind = str(msg.get("UserEvent", ""))
        if kind == "DialerAMD":
            self._answer(call, at, out)
            status = str(msg.get("Status", "")) or "NOTSURE"
            self._emit(call, MachineDetected(call.attempt_id, at, status, str(msg.get("Cause", ""))), out)
        elif kind == "DialerDirectConnect":  # dialer-direct: the chosen operator answered
            self._answer(call, at, out)
            self._emit(call, OperatorConnected(call.attempt_id, at, "", str(msg.get("Interface", ""))), out)
        elif kind == "DialerSafeHarbour":
            self._answer(call, at, out)
            self._emit(call, SafeHarbourPlayed(call.attempt_id, at), out)

    def _on_hangup(self, call: _Call, msg: Message, at: float, out: list[CallEvent]) -> None:
        call.hung_up = True
        call.cause = _int(msg.get("Cause"))
        cause = call.best_cause() or 0
        call.hangup = HungUp(
            call.attempt_id, at, cause, str(msg.get("Cause-txt", "")) if cause == call.cause else ""
        )
        if call.answered:
            self._emit(call, call.hangup, out)
        elif call.failure_at is not None or not call.originate_pending:
            # The originate already failed (or its result was lost with the connection).
            self._fail(call, out)
        # else: hold the hang-up until the originate says why the call failed
        self._maybe_finish(call)

    def _fail(self, call: _Call, out: list[CallEvent]) -> None:
        """Emit the failure with the best cause known, then the held hang-up if there is one."""
        at = call.failure_at if call.failure_at is not None else (call.hangup.at if call.hangup else 0.0)
        cause = call.best_cause()
        reason = fail_reason(call.failure_reason, cause)
        if call.adopted and call.failure_reason is None:
            reason = _BY_CAUSE.get(cause or 0, reason)  # no originate result: the cause is all there is
        self._emit(call, OriginateFailed(call.attempt_id, at, reason, cause), out)
        call.failure_at = call.failure_at if call.failure_at is not None else at
        if call.hangup is not None:
            self._emit(call, call.hangup, out)

    # --- originate outcome -----------------------------------------------------

    def on_originate_result(self, attempt_id: str, messages: Sequence[Message], at: float) -> list[CallEvent]:
        """The resolved Originate: ``[Response, OriginateResponse]``, or the lone refusal ``[Response]``.

        A failure waits for the channel's hang-up (it carries the cause, and Asterisk
        sends the two in either order); ``flush_failure`` emits it if none comes.
        """
        out: list[CallEvent] = []
        call = self._calls.get(attempt_id)
        if call is None:
            return out
        call.originate_pending = False
        final = next((m for m in messages if m.get("Event") == "OriginateResponse"), None)
        if final is not None and final.get("Response") == "Success":
            self._answer(call, at, out)
            if call.hangup is not None:
                self._emit(call, call.hangup, out)
        elif not call.answered:
            call.failure_reason = _int(final.get("Reason")) if final is not None else None
            call.failure_at = at
            if final is None:  # refused outright: no channel was ever made
                call.hung_up = True
            if call.hung_up:
                self._fail(call, out)
        self._maybe_finish(call)
        return out

    def flush_failure(self, attempt_id: str) -> list[CallEvent]:
        """Emit a failure still waiting for its hang-up (the channel may never have existed)."""
        out: list[CallEvent] = []
        call = self._calls.get(attempt_id)
        if call is not None and call.failure_at is not None:
            self._fail(call, out)
        return out

    def on_originate_lost(self, attempt_id: str) -> None:
        """The connection dropped before the originate resolved; later events still arrive for live calls."""
        call = self._calls.get(attempt_id)
        if call is not None:
            call.originate_pending = False

    def reconcile(self, alive: Mapping[str, str], at: float) -> list[CallEvent]:
        """After a reconnect: ``alive`` maps live channel Uniqueids to their ChannelState."""
        out: list[CallEvent] = []
        for call in list(self._calls.values()):
            call.originate_pending = False
            state = alive.get(call.attempt_id)
            if state is not None:
                if state == "6":
                    self._answer(call, at, out)
                continue
            cause = call.best_cause()
            if not call.answered:
                reason = fail_reason(call.failure_reason, cause)
                self._emit(call, OriginateFailed(call.attempt_id, call.failure_at or at, reason, cause), out)
            self._emit(call, call.hangup or HungUp(call.attempt_id, at, cause or 0, _LOST), out)
            self._finish(call)
        return out


# --- queue members ---------------------------------------------------------------

_MEMBER_EVENTS = frozenset(
    {"QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause", "QueueMember", "QueueMemberRemoved"}
)
_IN_CALL = frozenset({2, 3, 6, 7, 8})  # in use, busy, ringing, ringing while in use, on hold
_UNREACHABLE = frozenset({4, 5})  # invalid, unavailable


def member_state(status: int | None, paused: bool) -> MemberState:
    """A queue member's state from its device ``Status`` and ``Paused`` flag."""
    if paused:
        return MemberState.PAUSED
    if status in _UNREACHABLE:
        return MemberState.UNAVAILABLE
    if status in _IN_CALL:
        return MemberState.IN_CALL
    return MemberState.AVAILABLE  # not in use, or unknown (the queue still tries it)


class MemberTracker:
    """Turns member events (and QueueStatus snapshots) into ``MemberChanged``, once per change.

    Asterisk reports the end of a member's call as ``LastCall`` (whole seconds since
    the epoch) in the ``QueueMemberStatus`` that follows it; the member's own
    ``Wrapuptime`` is 0 unless set per member, and then the queue's applies.
    """

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], tuple[MemberState, float | None, float | None]] = {}

    def on_event(self, msg: Message, at: float) -> list[MemberChanged]:
        name = str(msg.get("Event", ""))
        if name not in _MEMBER_EVENTS:
            return []
        queue = str(msg.get("Queue", ""))
        interface = str(msg.get("Interface") or msg.get("Location") or "")
        if not queue or not interface:
            return []
        key = (queue, interface)
        if name == "QueueMemberRemoved":
            self._states.pop(key, None)
            return [MemberChanged(at, queue, interface, MemberState.REMOVED)]
        state = member_state(_int(msg.get("Status")), str(msg.get("Paused", "0")) == "1")
        last_call = _positive(msg.get("LastCall"))
        wrapup = _positive(msg.get("Wrapuptime"))
        if self._states.get(key) == (state, last_call, wrapup):
            return []
        self._states[key] = (state, last_call, wrapup)
        return [MemberChanged(at, queue, interface, state, last_call, wrapup)]


def _positive(value: Any) -> float | None:
    number = _int(value) if value is not None else None
    return float(number) if number is not None and number > 0 else None


def _carried(attempt_id: str, answered: bool, own: Message, channels: Sequence[Message]) -> CarriedCall:
    bridge = str(own.get("BridgeId") or "")
    for other in channels if bridge else ():
        uid = str(other.get("Uniqueid", ""))
        if str(other.get("BridgeId") or "") == bridge and not uid.startswith(attempt_id):
            return CarriedCall(
                attempt_id, answered, str(other.get("Channel", "")), _seconds(other.get("Duration"))
            )
    return CarriedCall(attempt_id, answered)


def _seconds(duration: Any) -> float:
    """``HH:MM:SS`` (CoreShowChannel ``Duration``) in seconds; 0 when unreadable."""
    try:
        hours, minutes, seconds = (int(part) for part in str(duration).split(":"))
    except ValueError:
        return 0.0
    return float(hours * 3600 + minutes * 60 + seconds)
