"""Operators in wrap-up, as Asterisk applies it: the one model behind every pacing snapshot."""

from __future__ import annotations

from dataclasses import replace

from dialer.ami.tracker import CallTracker, MemberTracker
from dialer.core.operators import OperatorState
from dialer.core.telephony import FailReason, MemberChanged, MemberState
from dialer.engine.adoption import operator_of
from dialer.engine.membership import Membership
from dialer.pacing import AbandonStats, DialCaps, Estimates, EstimatesTracker, PacingSnapshot, make_pacer
from dialer.pacing.progressive import TRUSTED_ANSWERS
from dialer.pacing.team import Activity, OperatorView, build_snapshot, team_figures, wrap_end, wrap_up
from dialer.policy.membership import Assignment
from tests.engine_helpers import ScriptedTelephony


def test_an_operator_in_wrap_up_is_not_ready_until_the_queue_would_offer_them_a_call() -> None:
    op = wrap_up(100.0, 5.0)
    assert op.at(104.9) is Activity.WRAP_UP
    assert op.at(105.0) is Activity.READY
    figures = team_figures(103.0, [op, OperatorView(Activity.READY), wrap_up(101.0, None)])
    assert (figures.ready, figures.wrap_left, figures.in_wrap) == (1, (2.0,), (2.0,))


def test_wrap_up_ends_wrapuptime_after_the_last_call_and_not_at_all_without_one() -> None:
    assert wrap_end(1_000.0, 5) == 1_005.0
    assert wrap_end(None, 5) is None
    assert wrap_end(1_000.0, 0) is None


def _learnt(ring_s: float, answers: int) -> Estimates:
    tracker = EstimatesTracker()
    for _ in range(answers):
        tracker.call_resolved(True, ring_s)
    return tracker.current()


def _one_ready_two_wrapping(estimates: Estimates, left: float) -> PacingSnapshot:
    ops = [OperatorView(Activity.READY), wrap_up(0.0, 5.0 + left), wrap_up(0.0, 5.0 + left)]
    return build_snapshot(5.0, ops, [], 0, estimates, AbandonStats(), DialCaps())


def test_progressive_dials_for_an_operator_in_wrap_up_only_if_free_before_almost_any_answer() -> None:
    progressive = make_pacer("progressive")
    warm = _learnt(8.0, TRUSTED_ANSWERS)
    assert progressive.decide(_one_ready_two_wrapping(warm, 0.5)).calls == 3
    assert progressive.decide(_one_ready_two_wrapping(warm, 6.0)).calls == 1
    # Before the ring time is learnt, nobody in wrap-up counts.
    cold = _learnt(8.0, TRUSTED_ANSWERS - 1)
    assert progressive.decide(_one_ready_two_wrapping(cold, 0.5)).calls == 1


def test_predictive_counts_a_known_wrap_up_only_when_it_ends_by_the_answer() -> None:
    warm = _learnt(8.0, 200)
    soon = make_pacer("predictive").decide(_one_ready_two_wrapping(warm, 0.5)).calls
    late = make_pacer("predictive").decide(_one_ready_two_wrapping(warm, 60.0)).calls
    alone = build_snapshot(5.0, [OperatorView(Activity.READY)], [], 0, warm, AbandonStats(), DialCaps())
    assert late == make_pacer("predictive").decide(alone).calls
    assert soon > late


def test_the_member_tracker_reports_each_new_last_call_even_when_the_status_is_unchanged() -> None:
    tracker = MemberTracker()
    base = {"Event": "QueueMemberStatus", "Queue": "q", "Interface": "Local/op1@x/n", "Status": "1"}
    first = tracker.on_event({**base, "LastCall": "0", "Wrapuptime": "0"}, 1.0)
    again = tracker.on_event({**base, "LastCall": "0", "Wrapuptime": "0"}, 2.0)
    ended = tracker.on_event({**base, "LastCall": "1796012208", "Wrapuptime": "0"}, 3.0)
    own = tracker.on_event({**base, "LastCall": "1796012208", "Wrapuptime": "7"}, 4.0)
    assert [(e.state, e.last_call, e.wrapup_s) for e in first] == [(MemberState.AVAILABLE, None, None)]
    assert again == []
    assert [e.last_call for e in ended] == [1796012208.0]
    assert [e.wrapup_s for e in own] == [7.0]


async def test_membership_keeps_an_idle_operator_out_of_ready_for_the_queue_wrap_up() -> None:
    iface = "Local/op1@sim-operators/n"
    membership = Membership(ScriptedTelephony(), queue_wrapup_s=5.0)
    await membership.apply([Assignment("op1", iface, 1, "q", OperatorState.READY)])
    membership.on_member(MemberChanged(0.0, "q", iface, MemberState.AVAILABLE))
    assert [a.operator for a in membership.ready(1, (), 100.0)] == ["op1"]
    membership.call_ended(iface, 100.4)  # the engine saw the call end
    membership.on_member(MemberChanged(100.5, "q", iface, MemberState.AVAILABLE, last_call=100.0))
    assert membership.ready(1, (), 103.0) == []
    assert membership.wrapping(1, (), 103.0)[iface] == OperatorView(Activity.WRAP_UP, 100.4, 105.4)
    assert [a.operator for a in membership.ready(1, (), 105.4)] == ["op1"]
    # A member's own wrap-up time, when the queue reports one, wins over the queue's.
    membership.on_member(MemberChanged(106.0, "q", iface, MemberState.AVAILABLE, 106.0, wrapup_s=2.0))
    assert membership.ready(1, (), 107.0) == [] and len(membership.ready(1, (), 108.0)) == 1


def test_the_snapshot_counts_wrap_ups_as_staffed() -> None:
    snap = _one_ready_two_wrapping(Estimates.prior(), 1.0)
    assert (snap.ready, snap.staffed) == (1, 3)
    assert replace(snap, wrap_left=()).staffed == 1


def test_a_channel_name_leads_back_to_its_operator() -> None:
    operators = [("PJSIP/101", "anna"), ("Local/op7@sim-operators/n", "op7")]
    assert operator_of("PJSIP/101-0000002a", operators) == ("PJSIP/101", "anna")
    local = operator_of("Local/op7@sim-operators-00000003;1", operators)
    assert local == ("Local/op7@sim-operators/n", "op7")
    assert operator_of("SIP/999-00000001", operators) == ("SIP/999", "SIP/999")


def test_an_adopted_call_that_hangs_up_unanswered_takes_its_outcome_from_the_cause() -> None:
    tracker = CallTracker()
    tracker.adopt(["a1", "a2", "gone"])
    channels = [
        {"Event": "CoreShowChannel", "Uniqueid": "a1", "ChannelState": "5"},
        {"Event": "CoreShowChannel", "Uniqueid": "a2", "ChannelState": "6", "BridgeId": "b"},
        {
            "Event": "CoreShowChannel",
            "Uniqueid": "x.9",
            "Channel": "PJSIP/101-0000002a",
            "BridgeId": "b",
            "Duration": "00:01:05",
        },
    ]
    found = tracker.carried(["a1", "a2", "gone"], channels)
    assert set(found) == {"a1", "a2"} and not tracker.is_tracked("gone")
    assert (found["a1"].answered, found["a1"].operator_channel) == (False, None)
    assert (found["a2"].answered, found["a2"].operator_channel, found["a2"].operator_for_s) == (
        True,
        "PJSIP/101-0000002a",
        65.0,
    )
    events = tracker.on_event({"Event": "Hangup", "Uniqueid": "a1", "Cause": "19"}, 5.0)
    assert [type(e).__name__ for e in events] == ["OriginateFailed", "HungUp"]
    assert events[0].reason is FailReason.NO_ANSWER  # type: ignore[union-attr]
    ended = tracker.on_event({"Event": "Hangup", "Uniqueid": "a2", "Cause": "16"}, 6.0)
    assert [type(e).__name__ for e in ended] == ["HungUp"]
