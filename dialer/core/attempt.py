"""The life of one call attempt, as a pure state machine.

``apply(attempt, event)`` takes an ``Attempt`` and one ``CallEvent`` from
``dialer.core.telephony`` and returns the next ``Attempt``. There is no I/O, no clock
and no randomness: every instant comes from the events, so the engine, the
simulator and the tests replay the same history to the same result.

    DIALING ──Ringing──> RINGING
       │                    │
       └──────Answered──────┴──> ANSWERED ──QueueJoined──> WAITING
                                    │                        │
                                    └───OperatorConnected────┴──> CONNECTED
    any state ──(failure, machine, hang-up, expire)──> ENDED

The network reports events late, twice or out of order; the machine never
raises on them. An event for another attempt, a repeat, or one that would move
the attempt backwards is ignored. An event that can only happen after an answer
(joining the queue, an AMD verdict, an operator) stands in for a lost
``Answered``: the call was evidently answered, at the latest by then.

When is a call abandoned? The rules (US TSR, UK Ofcom) call a call abandoned
when a live person answered and no operator was connected within two seconds
of the end of their greeting. So:

- the person hangs up while waiting, or hears the safe-harbour message: abandoned;
- an operator connects, but later than ``connect_limit_s``: still abandoned, with
  the operator recorded, because the regulators count it and the operator may
  well have spoken to an annoyed person;
- with AMD the greeting is over when AMD gives its verdict (AMD listens to the
  greeting and the silence after it), so the two-second clock starts at the
  verdict; without AMD it starts at the answer.

The ``outcome`` is set as soon as it is known, which can be before the call
ends (an abandoned call still plays its message; a connected call still talks).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from dialer.core.errors import InvalidInput
from dialer.core.telephony import (
    Answered,
    CallEvent,
    FailReason,
    HungUp,
    MachineDetected,
    OperatorConnected,
    OriginateFailed,
    QueueJoined,
    Ringing,
    SafeHarbourPlayed,
)


class AttemptState(StrEnum):
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED = "answered"
    WAITING = "waiting"  # in the queue, waiting for an operator
    CONNECTED = "connected"
    ENDED = "ended"


class Outcome(StrEnum):
    CONNECTED = "connected"
    ABANDONED = "abandoned"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    MACHINE = "machine"
    INVALID_NUMBER = "invalid_number"


# Outcomes after which the lead is never dialed again for this campaign.
FINAL_OUTCOMES: frozenset[Outcome] = frozenset({Outcome.CONNECTED, Outcome.INVALID_NUMBER})

_BEFORE_ANSWER = frozenset({AttemptState.DIALING, AttemptState.RINGING})
_AWAITING_OPERATOR = frozenset({AttemptState.ANSWERED, AttemptState.WAITING})

_FAIL_OUTCOME: dict[FailReason, Outcome] = {
    FailReason.NO_ANSWER: Outcome.NO_ANSWER,
    FailReason.BUSY: Outcome.BUSY,
    FailReason.CONGESTION: Outcome.CONGESTION,
    FailReason.INVALID_NUMBER: Outcome.INVALID_NUMBER,
    FailReason.FAILED: Outcome.FAILED,
}

# Q.850 hang-up causes seen before an answer, when no OriginateFailed said why.
_CAUSE_OUTCOME: dict[int, Outcome] = {
    1: Outcome.INVALID_NUMBER,  # unallocated number
    22: Outcome.INVALID_NUMBER,  # number changed
    28: Outcome.INVALID_NUMBER,  # invalid number format
    17: Outcome.BUSY,  # user busy
    21: Outcome.BUSY,  # call rejected: the person declined, try again later
    18: Outcome.NO_ANSWER,  # no user responding
    19: Outcome.NO_ANSWER,  # no answer from user
    34: Outcome.CONGESTION,  # no circuit available
    38: Outcome.CONGESTION,  # network out of order
    41: Outcome.CONGESTION,  # temporary failure
    42: Outcome.CONGESTION,  # switching equipment congestion
}

# AMD verdicts that mean "a person is (probably) on the line": the greeting is over.
_LIVE_VERDICTS = frozenset({"HUMAN", "NOTSURE"})


def outcome_for_cause(cause: int | None) -> Outcome:
    """The outcome of a call that hung up before any answer, from its Q.850 cause."""
    if cause is None:
        return Outcome.FAILED
    return _CAUSE_OUTCOME.get(cause, Outcome.FAILED)


@dataclass(frozen=True)
class Attempt:
    """One call to one lead, from the originate to the hang-up."""

    attempt_id: str
    started_at: float
    state: AttemptState = AttemptState.DIALING
    ringing_at: float | None = None
    answered_at: float | None = None
    queued_at: float | None = None
    connected_at: float | None = None
    ended_at: float | None = None
    outcome: Outcome | None = None
    hangup_cause: int | None = None
    operator: str | None = None  # the queue member interface that took the call
    amd_status: str | None = None
    amd_at: float | None = None
    safe_harbour: bool = False
    connect_limit_s: float = 2.0
    amd_enabled: bool = False

    @classmethod
    def dial(
        cls, attempt_id: str, at: float, connect_limit_s: float = 2.0, amd_enabled: bool = False
    ) -> Attempt:
        """A new attempt, dialing since ``at``."""
        if connect_limit_s < 0:
            raise InvalidInput(f"connect_limit_s must not be negative, got {connect_limit_s}")
        return cls(
            attempt_id=attempt_id,
            started_at=at,
            connect_limit_s=connect_limit_s,
            amd_enabled=amd_enabled,
        )


def apply(attempt: Attempt, event: CallEvent) -> Attempt:
    """The attempt after ``event``; the same attempt if the event does not apply."""
    if getattr(event, "attempt_id", None) != attempt.attempt_id:
        return attempt
    if attempt.state is AttemptState.ENDED:
        return _after_end(attempt, event)
    match event:
        case Ringing():
            return _on_ringing(attempt, event)
        case Answered():
            return _on_answered(attempt, event)
        case OriginateFailed():
            return _on_originate_failed(attempt, event)
        case MachineDetected():
            return _on_machine_detected(attempt, event)
        case QueueJoined():
            return _on_queue_joined(attempt, event)
        case OperatorConnected():
            return _on_operator_connected(attempt, event)
        case SafeHarbourPlayed():
            return _on_safe_harbour(attempt, event)
        case HungUp():
            return _on_hung_up(attempt, event)
    return attempt


def expire(attempt: Attempt, now: float) -> Attempt:
    """End an attempt that got no final event by its deadline (a lost or ghost call).

    An outcome already known stands. Otherwise a call that was never answered
    ended as ``FAILED``; one that a person answered and no operator took is
    ``ABANDONED``: we cannot show the person reached an operator, and the abandon
    rate must not be understated by our own blind spot.
    """
    if attempt.state is AttemptState.ENDED:
        return attempt
    outcome = attempt.outcome
    if outcome is None:
        outcome = Outcome.ABANDONED if attempt.state in _AWAITING_OPERATOR else Outcome.FAILED
    return replace(attempt, state=AttemptState.ENDED, ended_at=now, outcome=outcome)


# --- queries -----------------------------------------------------------------------


def is_live(attempt: Attempt) -> bool:
    """Whether the call may still hold a channel (and, once connected, an operator)."""
    return attempt.state is not AttemptState.ENDED


def greeting_done_at(attempt: Attempt) -> float | None:
    """When the two-second connect clock started: the AMD verdict with AMD, else the answer."""
    if attempt.answered_at is None:
        return None
    if attempt.amd_enabled and attempt.amd_at is not None:
        return max(attempt.amd_at, attempt.answered_at)
    return attempt.answered_at


def wait_seconds(attempt: Attempt) -> float | None:
    """How long the person waited for an operator; None when no operator took the call."""
    start = greeting_done_at(attempt)
    if start is None or attempt.connected_at is None:
        return None
    return max(0.0, attempt.connected_at - start)


def counts_toward_abandon_rate(
    outcome: Outcome | None, *, machine_misdetected: bool = False
) -> tuple[bool, bool]:
    """``(is_live_answer, is_abandoned)`` for the abandon rate (abandoned / live answers).

    Live answers are calls a person answered: connected and abandoned ones.
    Machine outcomes are not live answers, except an AMD false positive known
    to be one (a person was hung up on): Ofcom counts that as abandoned.
    """
    if outcome is Outcome.CONNECTED:
        return True, False
    if outcome is Outcome.ABANDONED:
        return True, True
    if outcome is Outcome.MACHINE and machine_misdetected:
        return True, True
    return False, False


# --- transitions -------------------------------------------------------------------


def _answered(attempt: Attempt, at: float) -> Attempt:
    """Record the answer if an event implies one that was not reported."""
    if attempt.answered_at is not None:
        return attempt
    return replace(attempt, answered_at=at, state=AttemptState.ANSWERED)


def _on_ringing(attempt: Attempt, event: Ringing) -> Attempt:
    if attempt.state is not AttemptState.DIALING:
        return attempt
    return replace(attempt, state=AttemptState.RINGING, ringing_at=event.at)


def _on_answered(attempt: Attempt, event: Answered) -> Attempt:
    if attempt.state not in _BEFORE_ANSWER:
        return attempt
    return _answered(attempt, event.at)


def _on_originate_failed(attempt: Attempt, event: OriginateFailed) -> Attempt:
    # After an answer a failure report is stale: the call did go through.
    if attempt.state not in _BEFORE_ANSWER:
        return attempt
    return replace(
        attempt,
        state=AttemptState.ENDED,
        ended_at=event.at,
        outcome=_FAIL_OUTCOME[event.reason],
        hangup_cause=event.hangup_cause,
    )


def _on_machine_detected(attempt: Attempt, event: MachineDetected) -> Attempt:
    if attempt.amd_status is not None or attempt.state is AttemptState.CONNECTED:
        return attempt
    status = event.status.strip().upper()
    attempt = replace(_answered(attempt, event.at), amd_status=status, amd_at=event.at)
    if status == "MACHINE" and attempt.outcome is None:
        return replace(attempt, state=AttemptState.ENDED, ended_at=event.at, outcome=Outcome.MACHINE)
    return attempt


def _on_queue_joined(attempt: Attempt, event: QueueJoined) -> Attempt:
    if attempt.state not in _BEFORE_ANSWER and attempt.state is not AttemptState.ANSWERED:
        return attempt
    return replace(_answered(attempt, event.at), state=AttemptState.WAITING, queued_at=event.at)


def _on_operator_connected(attempt: Attempt, event: OperatorConnected) -> Attempt:
    # After the safe-harbour message the person has left the queue; a bridge
    # reported now is stale.
    if attempt.state is AttemptState.CONNECTED or attempt.safe_harbour:
        return attempt
    attempt = _answered(attempt, event.at)
    start = greeting_done_at(attempt)
    in_time = start is None or event.at - start <= attempt.connect_limit_s
    return replace(
        attempt,
        state=AttemptState.CONNECTED,
        connected_at=event.at,
        operator=event.interface,
        outcome=Outcome.CONNECTED if in_time else Outcome.ABANDONED,
    )


def _on_safe_harbour(attempt: Attempt, event: SafeHarbourPlayed) -> Attempt:
    if attempt.state is AttemptState.CONNECTED or attempt.safe_harbour:
        return attempt
    return replace(_answered(attempt, event.at), safe_harbour=True, outcome=Outcome.ABANDONED)


def _on_hung_up(attempt: Attempt, event: HungUp) -> Attempt:
    if attempt.state in _BEFORE_ANSWER:
        outcome = outcome_for_cause(event.cause)
    elif attempt.outcome is not None:
        outcome = attempt.outcome
    else:
        # A person answered and hung up before any operator took the call.
        outcome = Outcome.ABANDONED
    return replace(
        attempt,
        state=AttemptState.ENDED,
        ended_at=event.at,
        outcome=outcome,
        hangup_cause=event.cause,
    )


def _after_end(attempt: Attempt, event: CallEvent) -> Attempt:
    """A late hang-up may still tell why the call ended; nothing else changes."""
    if isinstance(event, HungUp) and attempt.hangup_cause is None:
        return replace(attempt, hangup_cause=event.cause)
    return attempt
