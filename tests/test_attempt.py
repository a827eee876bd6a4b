"""The call attempt state machine, fed events with no phone system at all."""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.core.attempt import (
    FINAL_OUTCOMES,
    Attempt,
    AttemptState,
    Outcome,
    apply,
    counts_toward_abandon_rate,
    expire,
    greeting_done_at,
    is_live,
    outcome_for_cause,
    wait_seconds,
)
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

A = "att-1"
OP = "Local/op101@operators/n"


def run(events: Sequence[CallEvent], connect_limit_s: float = 2.0, amd_enabled: bool = False) -> Attempt:
    start = Attempt.dial(A, 0.0, connect_limit_s=connect_limit_s, amd_enabled=amd_enabled)
    return reduce(apply, events, start)


def answered_call(answer_at: float = 5.0) -> list[CallEvent]:
    return [Ringing(A, 1.0), Answered(A, answer_at), QueueJoined(A, answer_at + 0.1, "sales")]


# --- the ordinary paths --------------------------------------------------------------


def test_new_attempt_is_dialing_and_live() -> None:
    attempt = Attempt.dial(A, 100.0)
    assert attempt.state is AttemptState.DIALING
    assert attempt.started_at == 100.0
    assert attempt.outcome is None
    assert is_live(attempt)


def test_operator_within_limit_connects_the_call() -> None:
    attempt = run([*answered_call(5.0), OperatorConnected(A, 6.5, "sales", OP)])
    assert attempt.state is AttemptState.CONNECTED
    assert attempt.outcome is Outcome.CONNECTED
    assert attempt.operator == OP
    assert wait_seconds(attempt) == pytest.approx(1.5)
    assert is_live(attempt)


def test_connected_call_keeps_its_outcome_and_cause_when_it_hangs_up() -> None:
    attempt = run([*answered_call(5.0), OperatorConnected(A, 6.0, "sales", OP), HungUp(A, 90.0, 16)])
    assert attempt.state is AttemptState.ENDED
    assert attempt.outcome is Outcome.CONNECTED
    assert attempt.hangup_cause == 16
    assert attempt.ended_at == 90.0
    assert not is_live(attempt)


def test_operator_exactly_at_the_limit_is_in_time() -> None:
    attempt = run([*answered_call(5.0), OperatorConnected(A, 7.0, "sales", OP)])
    assert attempt.outcome is Outcome.CONNECTED


def test_operator_later_than_limit_is_abandoned_but_recorded() -> None:
    attempt = run([*answered_call(5.0), OperatorConnected(A, 7.01, "sales", OP)])
    assert attempt.state is AttemptState.CONNECTED
    assert attempt.outcome is Outcome.ABANDONED
    assert attempt.operator == OP
    assert wait_seconds(attempt) == pytest.approx(2.01)


def test_connect_limit_is_per_attempt() -> None:
    events: list[CallEvent] = [*answered_call(5.0), OperatorConnected(A, 9.0, "sales", OP)]
    assert run(events, connect_limit_s=5.0).outcome is Outcome.CONNECTED
    assert run(events, connect_limit_s=2.0).outcome is Outcome.ABANDONED


def test_negative_connect_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="connect_limit_s"):
        Attempt.dial(A, 0.0, connect_limit_s=-1.0)


def test_with_amd_the_connect_clock_starts_at_the_human_verdict() -> None:
    events: list[CallEvent] = [
        Answered(A, 5.0),
        MachineDetected(A, 9.0, "HUMAN"),
        QueueJoined(A, 9.1, "sales"),
        OperatorConnected(A, 10.5, "sales", OP),
    ]
    with_amd = run(events, amd_enabled=True)
    assert greeting_done_at(with_amd) == 9.0
    assert with_amd.outcome is Outcome.CONNECTED
    assert wait_seconds(with_amd) == pytest.approx(1.5)
    # The same history on a campaign without AMD: the clock ran from the answer.
    assert run(events, amd_enabled=False).outcome is Outcome.ABANDONED


def test_person_hanging_up_while_waiting_is_abandoned() -> None:
    attempt = run([*answered_call(5.0), HungUp(A, 6.0, 16)])
    assert attempt.state is AttemptState.ENDED
    assert attempt.outcome is Outcome.ABANDONED
    assert attempt.hangup_cause == 16
    assert wait_seconds(attempt) is None


def test_person_hanging_up_before_the_queue_is_abandoned() -> None:
    attempt = run([Answered(A, 5.0), HungUp(A, 5.5, 16)])
    assert attempt.outcome is Outcome.ABANDONED


def test_safe_harbour_message_is_abandoned_and_the_call_stays_live_until_hangup() -> None:
    attempt = run([*answered_call(5.0), SafeHarbourPlayed(A, 7.0)])
    assert attempt.safe_harbour
    assert attempt.outcome is Outcome.ABANDONED
    assert is_live(attempt)
    ended = apply(attempt, HungUp(A, 15.0, 16))
    assert ended.state is AttemptState.ENDED
    assert ended.outcome is Outcome.ABANDONED
    assert ended.ended_at == 15.0


def test_operator_after_safe_harbour_is_ignored() -> None:
    attempt = run([*answered_call(5.0), SafeHarbourPlayed(A, 7.0)])
    assert apply(attempt, OperatorConnected(A, 7.5, "sales", OP)) is attempt


def test_machine_verdict_ends_the_call_as_machine() -> None:
    attempt = run([Answered(A, 5.0), MachineDetected(A, 8.0, "MACHINE", "LONGGREETING")], amd_enabled=True)
    assert attempt.state is AttemptState.ENDED
    assert attempt.outcome is Outcome.MACHINE
    assert attempt.amd_status == "MACHINE"
    assert attempt.ended_at == 8.0


def test_hangup_after_machine_verdict_adds_its_cause_only() -> None:
    attempt = run([Answered(A, 5.0), MachineDetected(A, 8.0, "MACHINE")])
    after = apply(attempt, HungUp(A, 8.2, 16))
    assert after.outcome is Outcome.MACHINE
    assert after.ended_at == 8.0
    assert after.hangup_cause == 16


@pytest.mark.parametrize("status", ["HUMAN", "NOTSURE", "human"])
def test_live_verdict_keeps_the_call_waiting_for_an_operator(status: str) -> None:
    attempt = run([Answered(A, 5.0), MachineDetected(A, 8.0, status)], amd_enabled=True)
    assert attempt.state is AttemptState.ANSWERED
    assert attempt.outcome is None
    assert attempt.amd_status == status.upper()


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        (FailReason.BUSY, Outcome.BUSY),
        (FailReason.NO_ANSWER, Outcome.NO_ANSWER),
        (FailReason.CONGESTION, Outcome.CONGESTION),
        (FailReason.FAILED, Outcome.FAILED),
        (FailReason.INVALID_NUMBER, Outcome.INVALID_NUMBER),
    ],
)
def test_originate_failure_ends_with_the_reason_outcome(reason: FailReason, outcome: Outcome) -> None:
    attempt = run([Ringing(A, 1.0), OriginateFailed(A, 30.0, reason, 42)])
    assert attempt.state is AttemptState.ENDED
    assert attempt.outcome is outcome
    assert attempt.hangup_cause == 42
    assert attempt.ended_at == 30.0


@pytest.mark.parametrize(
    ("cause", "outcome"),
    [
        (19, Outcome.NO_ANSWER),
        (18, Outcome.NO_ANSWER),
        (17, Outcome.BUSY),
        (34, Outcome.CONGESTION),
        (38, Outcome.CONGESTION),
        (1, Outcome.INVALID_NUMBER),
        (28, Outcome.INVALID_NUMBER),
        (16, Outcome.FAILED),
        (127, Outcome.FAILED),
    ],
)
def test_hangup_before_answer_takes_its_outcome_from_the_cause(cause: int, outcome: Outcome) -> None:
    for before in ([], [Ringing(A, 1.0)]):
        attempt = run([*before, HungUp(A, 20.0, cause)])
        assert attempt.outcome is outcome
        assert attempt.hangup_cause == cause
    assert outcome_for_cause(cause) is outcome


def test_missing_cause_means_failed() -> None:
    assert outcome_for_cause(None) is Outcome.FAILED


# --- the network misbehaving ----------------------------------------------------------


def test_event_for_another_attempt_is_ignored() -> None:
    attempt = Attempt.dial(A, 0.0)
    for event in (Ringing("other", 1.0), Answered("other", 2.0), HungUp("other", 3.0, 17)):
        assert apply(attempt, event) is attempt


def test_duplicate_events_change_nothing() -> None:
    ringing = run([Ringing(A, 1.0)])
    assert apply(ringing, Ringing(A, 1.5)) is ringing
    answered = apply(ringing, Answered(A, 3.0))
    assert apply(answered, Answered(A, 4.0)) is answered
    ended = apply(answered, HungUp(A, 5.0, 16))
    assert apply(ended, HungUp(A, 6.0, 16)) is ended


def test_originate_failure_after_answer_does_not_overwrite() -> None:
    attempt = run([*answered_call(5.0), OperatorConnected(A, 6.0, "sales", OP)])
    assert apply(attempt, OriginateFailed(A, 7.0, FailReason.BUSY, 17)) is attempt


def test_ringing_after_answer_does_not_move_the_call_back() -> None:
    attempt = run(answered_call(5.0))
    assert apply(attempt, Ringing(A, 6.0)) is attempt


def test_nothing_revives_an_ended_attempt() -> None:
    ended = run([OriginateFailed(A, 30.0, FailReason.BUSY, 17)])
    for event in (
        Answered(A, 31.0),
        QueueJoined(A, 31.0, "sales"),
        OperatorConnected(A, 32.0, "sales", OP),
        SafeHarbourPlayed(A, 32.0),
        MachineDetected(A, 32.0, "MACHINE"),
    ):
        assert apply(ended, event) is ended


def test_queue_join_without_answer_event_implies_the_answer() -> None:
    attempt = run([Ringing(A, 1.0), QueueJoined(A, 5.0, "sales"), OperatorConnected(A, 6.0, "sales", OP)])
    assert attempt.answered_at == 5.0
    assert attempt.outcome is Outcome.CONNECTED


def test_operator_without_answer_event_connects_in_time() -> None:
    attempt = run([OperatorConnected(A, 6.0, "sales", OP)])
    assert attempt.outcome is Outcome.CONNECTED
    assert attempt.answered_at == 6.0


# --- ghost calls -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "outcome"),
    [
        ([], Outcome.FAILED),
        ([Ringing(A, 1.0)], Outcome.FAILED),
        ([Answered(A, 5.0)], Outcome.ABANDONED),
        ([Answered(A, 5.0), QueueJoined(A, 5.1, "sales")], Outcome.ABANDONED),
        ([Answered(A, 5.0), OperatorConnected(A, 6.0, "sales", OP)], Outcome.CONNECTED),
    ],
)
def test_expire_ends_a_call_with_no_final_event(events: list[CallEvent], outcome: Outcome) -> None:
    attempt = expire(run(events), 600.0)
    assert attempt.state is AttemptState.ENDED
    assert attempt.outcome is outcome
    assert attempt.ended_at == 600.0
    assert attempt.hangup_cause is None


def test_expire_leaves_an_ended_attempt_alone() -> None:
    ended = run([HungUp(A, 20.0, 17)])
    assert expire(ended, 600.0) is ended


# --- the abandon rate --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome.CONNECTED, (True, False)),
        (Outcome.ABANDONED, (True, True)),
        (Outcome.MACHINE, (False, False)),
        (Outcome.BUSY, (False, False)),
        (Outcome.NO_ANSWER, (False, False)),
        (Outcome.CONGESTION, (False, False)),
        (Outcome.FAILED, (False, False)),
        (Outcome.INVALID_NUMBER, (False, False)),
        (None, (False, False)),
    ],
)
def test_abandon_rate_counts_only_live_answers(outcome: Outcome | None, expected: tuple[bool, bool]) -> None:
    assert counts_toward_abandon_rate(outcome) == expected


def test_known_amd_false_positive_counts_as_abandoned() -> None:
    assert counts_toward_abandon_rate(Outcome.MACHINE, machine_misdetected=True) == (True, True)
    assert counts_toward_abandon_rate(Outcome.BUSY, machine_misdetected=True) == (False, False)


def test_final_outcomes_are_connected_and_invalid_number() -> None:
    assert {Outcome.CONNECTED, Outcome.INVALID_NUMBER} == FINAL_OUTCOMES


# --- any history at all -----------------------------------------------------------------

_RANK = {
    AttemptState.DIALING: 0,
    AttemptState.RINGING: 1,
    AttemptState.ANSWERED: 2,
    AttemptState.WAITING: 3,
    AttemptState.CONNECTED: 4,
    AttemptState.ENDED: 5,
}

times = st.floats(min_value=0.0, max_value=120.0, allow_nan=False)
attempt_ids = st.sampled_from([A, A, A, "other"])
call_events = st.one_of(
    st.builds(Ringing, attempt_ids, times),
    st.builds(Answered, attempt_ids, times),
    st.builds(
        OriginateFailed, attempt_ids, times, st.sampled_from(FailReason), st.none() | st.integers(0, 127)
    ),
    st.builds(
        MachineDetected, attempt_ids, times, st.sampled_from(["MACHINE", "HUMAN", "NOTSURE", "HANGUP"])
    ),
    st.builds(QueueJoined, attempt_ids, times, st.just("sales")),
    st.builds(OperatorConnected, attempt_ids, times, st.just("sales"), st.just(OP)),
    st.builds(SafeHarbourPlayed, attempt_ids, times),
    st.builds(HungUp, attempt_ids, times, st.integers(0, 127)),
)


@given(st.lists(call_events, max_size=12), st.booleans())
def test_any_event_history_moves_forward_and_never_rewrites_the_end(
    history: list[CallEvent], amd_enabled: bool
) -> None:
    attempt = Attempt.dial(A, 0.0, amd_enabled=amd_enabled)
    for event in history:
        after = apply(attempt, event)
        assert _RANK[after.state] >= _RANK[attempt.state]
        if attempt.state is AttemptState.ENDED:
            assert (after.outcome, after.ended_at) == (attempt.outcome, attempt.ended_at)
        if attempt.outcome is not None:
            # An outcome, once known, is never rewritten by a later event.
            assert after.outcome is attempt.outcome
        attempt = after
    assert (attempt.state is AttemptState.ENDED) == (attempt.ended_at is not None)
    if attempt.state is AttemptState.ENDED:
        assert attempt.outcome is not None
    if attempt.outcome is Outcome.CONNECTED:
        assert attempt.operator == OP
        waited = wait_seconds(attempt)
        assert waited is not None and waited <= attempt.connect_limit_s
    assert expire(attempt, 1000.0).outcome is not None
