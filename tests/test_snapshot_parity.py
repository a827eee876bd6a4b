"""The engine's live view and the simulator build the same pacing snapshot for the same situation.

The situation, at t = 1000 s, with queues whose wrap-up time is 5 s:
- operator A ready; operator B in a call connected 12 s ago; operator C whose call
  ended 2 s ago (in wrap-up for 3 s more, although the queue reports them idle);
  operator D paused (the simulator has no pauses: D is left out on both sides);
- calls dialed 1 s and 3 s ago still ringing; one answered and waiting in the queue;
  one answered and still being screened for a machine (AMD).
"""

from __future__ import annotations

from dataclasses import replace

from campaigns.models import Campaign
from dialer.core.attempt import Attempt, apply
from dialer.core.operators import OperatorState
from dialer.core.telephony import (
    Answered,
    MemberChanged,
    MemberState,
    OperatorConnected,
    QueueJoined,
    Ringing,
)
from dialer.engine.live import LiveCall, snapshot
from dialer.engine.membership import Membership
from dialer.pacing import AbandonStats, Estimates, PacingDecision, PacingSnapshot
from dialer.pacing.team import Activity, OperatorView
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.membership import Assignment
from dialer.sim.simulator import SimParams, _Shift
from dialer.sim.world import CallPlan, Fate
from dialer.store.claims import ClaimedLead
from tests.engine_helpers import ScriptedTelephony

NOW = 1000.0
WRAPUP = 5.0
QUEUE = "q1"


def _interface(name: str) -> str:
    return f"Local/{name}@sim-operators/n"


def _call(aid: str, dialed: float, *events: object) -> LiveCall:
    rules = CampaignRules.from_campaign(
        Campaign(id=1, name="c", queue=QUEUE, dial_template="Local/{number}@sim-customers")
    )
    attempt = Attempt.dial(aid, dialed, 2.0, amd_enabled=True)
    for event in events:
        attempt = apply(attempt, event)  # type: ignore[arg-type]
    lead = ClaimedLead(1, 1, "+79000000001", [], 0, {})
    return LiveCall(attempt, lead, rules, last_event_at=dialed)


async def _engine_view(estimates: Estimates) -> tuple[object, ...]:
    membership = Membership(ScriptedTelephony(), queue_wrapup_s=WRAPUP)
    names = ["a", "b", "c"]
    await membership.apply([Assignment(n, _interface(n), 1, QUEUE, OperatorState.READY) for n in names])
    membership.on_member(MemberChanged(NOW - 20, QUEUE, _interface("a"), MemberState.AVAILABLE))
    membership.on_member(MemberChanged(NOW - 12, QUEUE, _interface("b"), MemberState.IN_CALL))
    # The queue reports C idle, with the end of their last call.
    membership.on_member(
        MemberChanged(NOW - 2, QUEUE, _interface("c"), MemberState.AVAILABLE, last_call=NOW - 2)
    )
    calls = [
        _call("r1", NOW - 1, Ringing("r1", NOW - 0.5)),
        _call("r3", NOW - 3, Ringing("r3", NOW - 2.5)),
        _call("w", NOW - 6, Answered("w", NOW - 2), QueueJoined("w", NOW - 1.5, QUEUE)),
        _call("amd", NOW - 4, Answered("amd", NOW - 1)),
        _call(
            "talk",
            NOW - 20,
            Answered("talk", NOW - 14),
            OperatorConnected("talk", NOW - 12, QUEUE, _interface("b")),
        ),
    ]
    busy = {_interface("b")}
    ready = membership.ready(1, busy, NOW)
    wrapping = membership.wrapping(1, busy, NOW)
    snap = snapshot(
        NOW, calls, len(ready), list(wrapping.values()), 0, estimates, 100, 20, AbandonStats(1, 40)
    )
    return _figures(snap)


def _simulator_view(estimates: Estimates) -> tuple[object, ...]:
    shift = _Shift(SimParams(operators=3, wrap=WRAPUP, max_channels=100, max_originate_per_tick=20), _Never())
    shift.views = {
        0: OperatorView(Activity.READY),
        1: OperatorView(Activity.IN_CALL, NOW - 12),
        2: OperatorView(Activity.WRAP_UP, NOW - 2, NOW - 2 + WRAPUP),
    }
    person = CallPlan(Fate.PERSON, 0.5, 4.0, 6.5, 30.0)
    shift.pending = {"r1": NOW - 1, "r3": NOW - 3, "amd": NOW - 4}
    shift.plans = {"r1": person, "r3": person, "amd": replace(person, outcome_after=3.0)}
    shift.waiting.append("w")
    shift.tally.abandoned, shift.tally.live_answers = 1, 40
    snap = shift._snapshot(NOW)
    return _figures(replace(snap, estimates=estimates))


class _Never:
    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        raise AssertionError("not asked")


def _figures(snap: PacingSnapshot) -> tuple[object, ...]:
    fields = ("now", "ready", "paused", "in_call", "in_wrap", "wrap_left", "ringing", "waiting")
    values = tuple(sorted(v) if isinstance(v, tuple) else v for v in (getattr(snap, f) for f in fields))
    return (*values, snap.abandon, snap.estimates)


async def test_engine_and_simulator_build_the_same_snapshot_for_the_same_situation() -> None:
    estimates = Estimates.prior()
    engine = await _engine_view(estimates)
    simulator = _simulator_view(estimates)
    assert engine == simulator
    # And the situation reads as it should: one ready, one talking, one in wrap-up with 3 s left.
    _, ready, paused, in_call, in_wrap, wrap_left, ringing, waiting, abandon, _estimates = engine
    assert (ready, paused, in_call, in_wrap, wrap_left) == (1, 0, [12.0], [], [3.0])
    assert (ringing, waiting, abandon) == ([1.0, 3.0], 2, AbandonStats(1, 40))


async def test_an_operator_held_until_the_disposition_reads_as_open_ended_wrap_up_on_both_sides() -> None:
    """E's call ended 4 s ago on a campaign that holds wrap-up until the disposition: Asterisk
    reports E paused, yet both sides count E in wrap-up, its end forecast from the estimates."""
    estimates = Estimates.prior()
    membership = Membership(ScriptedTelephony())
    await membership.apply([Assignment("e", _interface("e"), 1, QUEUE, OperatorState.READY)])
    membership.on_member(MemberChanged(NOW - 30, QUEUE, _interface("e"), MemberState.AVAILABLE))
    membership.call_ended(_interface("e"), NOW - 4)
    membership.hold(_interface("e"), NOW - 4)
    await membership.apply([Assignment("e", _interface("e"), 1, QUEUE, OperatorState.READY)])
    membership.on_member(MemberChanged(NOW - 3.9, QUEUE, _interface("e"), MemberState.PAUSED))
    wrapping = membership.wrapping(1, set(), NOW)
    engine = snapshot(
        NOW, [], len(membership.ready(1, set(), NOW)), list(wrapping.values()), membership.paused(1),
        estimates, 100, 20, AbandonStats(0, 0),
    )  # fmt: skip

    shift = _Shift(
        SimParams(operators=1, wrap=WRAPUP, wrap_by_queue=False, max_channels=100, max_originate_per_tick=20),
        _Never(),
    )
    shift.views = {0: OperatorView(Activity.WRAP_UP, NOW - 4)}
    simulator = replace(shift._snapshot(NOW), estimates=estimates)
    assert _figures(engine) == _figures(simulator)
    assert (engine.ready, engine.paused, engine.in_wrap, engine.wrap_left) == (0, 0, (4.0,), ())


async def test_an_operator_due_for_a_break_after_the_call_is_not_expected_free() -> None:
    """B asked to pause while talking: the queue pauses them; neither view expects B free after the call."""
    estimates = Estimates.prior()
    membership = Membership(ScriptedTelephony(), queue_wrapup_s=WRAPUP)
    await membership.apply(
        [
            Assignment("a", _interface("a"), 1, QUEUE, OperatorState.READY),
            Assignment("b", _interface("b"), 1, QUEUE, OperatorState.PAUSED),
        ]
    )
    membership.on_member(MemberChanged(NOW - 20, QUEUE, _interface("a"), MemberState.AVAILABLE))
    membership.on_member(MemberChanged(NOW - 5, QUEUE, _interface("b"), MemberState.PAUSED))
    talk = _call(
        "t", NOW - 20, Answered("t", NOW - 14), OperatorConnected("t", NOW - 12, QUEUE, _interface("b"))
    )
    busy = {_interface("b")}
    engine = snapshot(
        NOW,
        [talk],
        len(membership.ready(1, busy, NOW)),
        list(membership.wrapping(1, busy, NOW).values()),
        membership.paused(1),
        estimates,
        100,
        20,
        AbandonStats(),
        membership.leaving(1),
    )
    shift = _Shift(SimParams(operators=2, wrap=WRAPUP, max_channels=100, max_originate_per_tick=20), _Never())
    shift.views = {0: OperatorView(Activity.READY), 1: OperatorView(Activity.IN_CALL, NOW - 12, leaving=True)}
    simulator = replace(shift._snapshot(NOW), estimates=estimates, abandon=AbandonStats())
    assert _figures(engine) == _figures(simulator)
    assert (engine.ready, engine.paused, engine.in_call) == (1, 1, ())


async def test_an_idle_operator_who_asks_to_pause_stays_only_for_the_calls_placed_before() -> None:
    """B, idle, asks to pause at NOW - 10 while calls dialed at NOW - 12 and NOW - 11 ring and A is
    the only other ready operator. Both sides keep B in the queue (counted paused) while those two
    calls outnumber A, and let B go once they are over, although a call placed after the ask
    (NOW - 2) still rings: it was not placed for B."""
    clock = [NOW - 10]
    telephony = ScriptedTelephony()
    membership = Membership(telephony, clock=lambda: clock[0])
    both = [Assignment(n, _interface(n), 1, QUEUE, OperatorState.READY) for n in ("a", "b")]
    await membership.apply(both)
    for name in ("a", "b"):
        membership.on_member(MemberChanged(NOW - 30, QUEUE, _interface(name), MemberState.AVAILABLE))
    b_pauses = [both[0], replace(both[1], desired=OperatorState.PAUSED)]
    await membership.apply(b_pauses, {1: [NOW - 12, NOW - 11]})
    clock[0] = NOW
    await membership.apply(b_pauses, {1: [NOW - 12, NOW - 11, NOW - 2]})
    assert not any(action[0] == "pause" for action in telephony.actions)
    calls = [
        _call(aid, NOW - ago, Ringing(aid, NOW - ago + 0.5))
        for aid, ago in (("r12", 12), ("r11", 11), ("r2", 2))
    ]
    engine = snapshot(
        NOW, calls, len(membership.ready(1, set(), NOW)), [], membership.paused(1),
        Estimates.prior(), 100, 20, AbandonStats(), membership.leaving(1),
    )  # fmt: skip

    shift = _Shift(SimParams(operators=2, max_channels=100, max_originate_per_tick=20), _Never())
    shift.views = {0: OperatorView(Activity.READY), 1: OperatorView(Activity.PAUSED, NOW - 10)}
    shift.ready.extend([0, 1])
    shift.held[1] = NOW - 10
    shift.on_since[1] = 0.0
    shift.pending = {"r12": NOW - 12, "r11": NOW - 11, "r2": NOW - 2}
    shift.plans = dict.fromkeys(shift.pending, CallPlan(Fate.PERSON, 0.5, 20.0, 20.5, 30.0))
    shift._release_held(NOW)
    simulator = replace(shift._snapshot(NOW), estimates=Estimates.prior())
    assert _figures(engine) == _figures(simulator)
    assert (engine.ready, engine.paused, len(engine.ringing)) == (1, 1, 3)

    # A takes the call dialed at NOW - 12 and the one dialed at NOW - 11 fails: B goes.
    clock[0] = NOW + 1
    membership.on_member(MemberChanged(NOW + 1, QUEUE, _interface("a"), MemberState.IN_CALL))
    await membership.apply(b_pauses, {1: [NOW - 2]})
    assert ("pause", QUEUE, _interface("b"), "True") in telephony.actions
    shift.ready.remove(0)
    shift.views[0] = OperatorView(Activity.IN_CALL, NOW + 1)
    shift.pending = {"r2": NOW - 2}
    shift._release_held(NOW + 1)
    assert 1 not in shift.held and 1 not in shift.ready
