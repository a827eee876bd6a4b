"""The membership plan and the periodic timer: pure, so fed plain values with no store or phone system."""

from __future__ import annotations

from dialer.core.clock import Periodic
from dialer.core.operators import OperatorState
from dialer.core.telephony import MemberState
from dialer.pacing.team import held_for_calls
from dialer.policy.membership import (
    Assignment,
    Hold,
    QueueAction,
    adopted_state,
    leaving,
    next_step,
)

ANNA = Assignment("anna", "PJSIP/101", 1, "q1", OperatorState.READY)
IVAN = Assignment("ivan", "PJSIP/102", 1, "q1", OperatorState.PAUSED)


def test_a_member_asked_to_change_is_moved() -> None:
    assert next_step(IVAN, OperatorState.READY, MemberState.PAUSED, False) == QueueAction(
        "q1", "PJSIP/102", "ivan", OperatorState.READY, OperatorState.PAUSED
    )
    assert next_step(ANNA, None, None, False) == QueueAction(
        "q1", "PJSIP/101", "anna", None, OperatorState.READY
    )


def test_a_member_already_as_asked_is_left_alone() -> None:
    assert next_step(ANNA, OperatorState.READY, MemberState.AVAILABLE, True) is None


def test_a_ready_operator_who_asks_to_pause_is_held_while_placed_calls_need_them() -> None:
    assert next_step(IVAN, OperatorState.READY, MemberState.AVAILABLE, True) is Hold.FOR_PLACED_CALLS
    # Not available (in a call already): nothing to hold for, the pause goes ahead.
    assert isinstance(next_step(IVAN, OperatorState.READY, MemberState.IN_CALL, True), QueueAction)


def test_only_calls_placed_before_the_ask_hold_an_operator_and_the_earliest_to_ask_first() -> None:
    # Two calls placed before ivan asked at 10, one ready operator besides: ivan stays.
    assert held_for_calls({"ivan": 10.0}, [5.0, 8.0], other_ready=1) == {"ivan"}
    # Calls placed after the ask were not placed for ivan.
    assert held_for_calls({"ivan": 10.0}, [5.0, 11.0, 12.0], other_ready=1) == set()
    # Two calls before both asked, one other ready: one of the two stays, the first to ask.
    assert held_for_calls({"olga": 9.0, "ivan": 10.0}, [1.0, 2.0], other_ready=1) == {"olga"}
    assert held_for_calls({"olga": 9.0, "ivan": 10.0}, [1.0, 2.0, 3.0], other_ready=1) == {"olga", "ivan"}


def test_members_asterisk_reports_are_adopted_as_they_are() -> None:
    assert adopted_state(MemberState.IN_CALL) is OperatorState.READY
    assert adopted_state(MemberState.PAUSED) is OperatorState.PAUSED
    assert adopted_state(MemberState.UNAVAILABLE) is None and adopted_state(None) is None


def test_members_no_longer_assigned_log_out_unless_they_already_did() -> None:
    applied = {("q1", "PJSIP/101"): OperatorState.READY, ("q2", "PJSIP/103"): OperatorState.LOGGED_OUT}
    assert leaving(applied, wanted=set()) == [
        QueueAction("q1", "PJSIP/101", "", OperatorState.READY, OperatorState.LOGGED_OUT)
    ]
    assert leaving(applied, wanted={("q1", "PJSIP/101")}) == []


def test_a_periodic_timer_is_due_at_once_then_once_per_period_after_each_restart() -> None:
    timer = Periodic(5.0)
    assert timer.due(0.0)
    timer.restart(0.0)
    assert not timer.due(4.9)
    assert timer.due(5.0)
    timer.restart(7.0)  # a period runs from when the work was done
    assert not timer.due(11.9) and timer.due(12.0)
