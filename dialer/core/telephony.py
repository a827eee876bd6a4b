"""The one port between the engine and a phone system.

The engine never imports an AMI library. It talks to a ``Telephony``: the AMI
implementation (``dialer.ami``) drives a real Asterisk; ``dialer.sim`` is an
in-memory one for pure tests, the simulator and ``dialer demo --pbx simulated``.

Every event names the attempt it belongs to by ``attempt_id``: the AMI adapter
sets the Originate ``ChannelId`` to the attempt id, and Asterisk stamps it on
every later event of that call (as ``Uniqueid`` or ``Linkedid``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, runtime_checkable

from dialer.core.errors import HeaderRejected

# Characters that end a header line or a whole action on a line protocol such as AMI.
LINE_BREAKS = ("\r", "\n", "\0")


@dataclass(frozen=True)
class OriginateRequest:
    """One outbound call: dial ``channel``; once answered, enter ``context``/``exten``."""

    attempt_id: str
    channel: str
    context: str
    exten: str
    caller_id: str
    ring_timeout_s: float
    variables: Mapping[str, str] = field(default_factory=dict)


def refuse_line_breaks(request: OriginateRequest) -> None:
    """Every Telephony refuses a request with CR, LF or NUL anywhere a phone system reads a header.

    Lead data reaches the channel variables; on AMI a line break there would let a
    lead end the Originate and write an action of its own.
    """
    fields = [request.attempt_id, request.channel, request.context, request.exten, request.caller_id]
    for value in [*fields, *request.variables, *request.variables.values()]:
        if any(c in value for c in LINE_BREAKS):
            # The value may carry personal data: say what is wrong, not what it was.
            raise HeaderRejected("originate refused: a header contains CR, LF or NUL")


class FailReason(Enum):
    """Why a call never reached the answered state (AMI OriginateResponse ``Reason``)."""

    NO_ANSWER = "no_answer"  # Reason 3, cause 19
    BUSY = "busy"  # Reason 5, cause 17
    CONGESTION = "congestion"  # Reason 8, cause 34
    INVALID_NUMBER = "invalid_number"  # cause 1 / 28: unallocated or bad format
    FAILED = "failed"  # Reason 0 or anything else


# --- call events -----------------------------------------------------------------


@dataclass(frozen=True)
class Ringing:
    attempt_id: str
    at: float


@dataclass(frozen=True)
class Answered:
    """The called person (or machine) picked up."""

    attempt_id: str
    at: float


@dataclass(frozen=True)
class OriginateFailed:
    attempt_id: str
    at: float
    reason: FailReason
    hangup_cause: int | None = None


@dataclass(frozen=True)
class MachineDetected:
    """Result of AMD on an answered call: status is MACHINE, HUMAN, NOTSURE or HANGUP."""

    attempt_id: str
    at: float
    status: str
    cause: str = ""


@dataclass(frozen=True)
class QueueJoined:
    attempt_id: str
    at: float
    queue: str


@dataclass(frozen=True)
class OperatorConnected:
    """An operator's phone was bridged to the call (AMI ``AgentConnect``)."""

    attempt_id: str
    at: float
    queue: str
    interface: str


@dataclass(frozen=True)
class SafeHarbourPlayed:
    """No operator in time: the call heard the campaign's message (then hangs up)."""

    attempt_id: str
    at: float


@dataclass(frozen=True)
class HungUp:
    """The call is over (the customer's leg is gone)."""

    attempt_id: str
    at: float
    cause: int
    cause_text: str = ""


CallEvent = (
    Ringing
    | Answered
    | OriginateFailed
    | MachineDetected
    | QueueJoined
    | OperatorConnected
    | SafeHarbourPlayed
    | HungUp
)


# --- operator (queue member) events -----------------------------------------------


class MemberState(Enum):
    """What the phone system says about one queue member."""

    AVAILABLE = "available"  # logged in, not paused, device not in use
    PAUSED = "paused"
    IN_CALL = "in_call"
    UNAVAILABLE = "unavailable"  # device unreachable
    REMOVED = "removed"  # no longer a member of the queue


@dataclass(frozen=True)
class MemberChanged:
    """A queue member's state; ``last_call``: when its last call ended (the phone system's clock).

    ``wrapup_s`` is the member's own wrap-up time when it has one; otherwise the
    queue's applies, which the phone system does not report per member.
    """

    at: float
    queue: str
    interface: str
    state: MemberState
    last_call: float | None = None
    wrapup_s: float | None = None


@dataclass(frozen=True)
class ConnectionLost:
    """The link to the phone system dropped; in-flight attempts must be reconciled."""

    at: float


@dataclass(frozen=True)
class ConnectionRestored:
    at: float


TelephonyEvent = CallEvent | MemberChanged | ConnectionLost | ConnectionRestored


@dataclass(frozen=True)
class CarriedCall:
    """A call the phone system still carries, found by its attempt id after a restart.

    ``operator_channel``: the channel bridged to it when an operator has it, and
    ``operator_for_s`` how long that channel has existed (the connect was at most
    that long ago).
    """

    attempt_id: str
    answered: bool
    operator_channel: str | None = None
    operator_for_s: float = 0.0


@runtime_checkable
class Adopting(Protocol):
    """A phone system that can hand back calls placed by an engine that is gone."""

    async def adopt(self, attempt_ids: Sequence[str]) -> dict[str, CarriedCall]:
        """The calls among ``attempt_ids`` it still carries; it reports their events from now on."""
        ...


@runtime_checkable
class Telephony(Protocol):
    """What the engine needs from a phone system, and nothing more."""

    async def originate(self, request: OriginateRequest) -> None:
        """Place the call; returns once the phone system accepted it (not when answered).

        Outcomes arrive later as events. Raises ``TelephonyError`` if the request
        was refused outright (for example a header with CR, LF or NUL).
        """

    async def hangup(self, attempt_id: str) -> None:
        """Hang up the call of ``attempt_id`` if it is still up."""

    async def queue_add(self, queue: str, interface: str, member_name: str, paused: bool) -> None:
        """Make ``interface`` a member of ``queue`` (log the operator in)."""

    async def queue_remove(self, queue: str, interface: str) -> None:
        """Remove the member (log the operator out)."""

    async def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> None:
        """Pause or unpause the member."""

    def events(self) -> AsyncIterator[TelephonyEvent]:
        """The stream of call and member events, in the order the system reported them."""
        ...

    async def close(self) -> None:
        """Stop and release the connection."""
