"""Pacing: the hard rules every mode obeys, and the abandonment controller's steering."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.core.errors import InvalidInput
from dialer.pacing import (
    AbandonController,
    AbandonPolicy,
    AbandonStats,
    DialCaps,
    Estimates,
    EstimatesTracker,
    LogNormal,
    PacingSnapshot,
    PredictivePacer,
    PredictiveSettings,
    RatioPacer,
    make_pacer,
)
from dialer.pacing.forecast import balances
from dialer.pacing.predictive import calls_for, unserved_risk
from dialer.pacing.progressive import free_by_answer

MODES = ["preview", "progressive", "ratio:2.5", "predictive"]

elapsed = st.floats(min_value=0.0, max_value=900.0, allow_nan=False)
estimates = st.builds(
    lambda p, ring, talk: Estimates(
        answer_rate=p,
        ring=LogNormal.from_mean(ring, 0.5),
        no_answer=LogNormal.from_mean(15.0, 1.0),
        talk=LogNormal.from_mean(talk, 0.7),
        wrap=LogNormal.from_mean(10.0, 0.3),
        answered=100,
        resolved=400,
    ),
    st.floats(min_value=0.02, max_value=0.9),
    st.floats(min_value=2.0, max_value=25.0),
    st.floats(min_value=10.0, max_value=600.0),
)


ANY_READY = st.integers(0, 50)


@st.composite
def snapshots(draw: st.DrawFn, ready: st.SearchStrategy[int] = ANY_READY) -> PacingSnapshot:
    live = draw(st.integers(0, 5000))
    return PacingSnapshot(
        now=draw(st.floats(0, 1e5)),
        ready=draw(ready),
        estimates=draw(estimates),
        paused=draw(st.integers(0, 10)),
        in_call=tuple(draw(st.lists(elapsed, max_size=60))),
        in_wrap=tuple(draw(st.lists(st.floats(0, 60), max_size=10))),
        wrap_left=tuple(draw(st.lists(st.floats(0, 30), max_size=10))),
        ringing=tuple(draw(st.lists(st.floats(0, 40), max_size=200))),
        waiting=draw(st.integers(0, 5)),
        abandon=AbandonStats(draw(st.integers(0, live)), live),
        limits=DialCaps(draw(st.integers(1, 2000)), draw(st.integers(1, 200))),
    )


def nobody_logged_in(snap: PacingSnapshot) -> PacingSnapshot:
    return PacingSnapshot(
        now=snap.now,
        ready=0,
        estimates=snap.estimates,
        paused=snap.paused,
        ringing=snap.ringing,
        waiting=snap.waiting,
        abandon=snap.abandon,
        limits=snap.limits,
    )


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=60, deadline=None)
@given(snap=snapshots())
def test_no_mode_dials_when_no_operator_is_logged_in(mode: str, snap: PacingSnapshot) -> None:
    assert make_pacer(mode).decide(nobody_logged_in(snap)).calls == 0


@pytest.mark.parametrize("mode", ["preview", "progressive", "ratio:3"])
@settings(max_examples=60, deadline=None)
@given(snap=snapshots(ready=st.just(0)))
def test_progressive_and_ratio_dial_only_for_ready_operators(mode: str, snap: PacingSnapshot) -> None:
    assert make_pacer(mode).decide(snap).calls == 0


@settings(max_examples=100, deadline=None)
@given(snap=snapshots())
def test_progressive_never_has_more_calls_in_flight_than_operators_free_by_the_answer(
    snap: PacingSnapshot,
) -> None:
    calls = make_pacer("progressive").decide(snap).calls
    assert calls >= 0
    assert calls == 0 or calls + snap.in_flight <= snap.ready + free_by_answer(snap)
    soonest = snap.estimates.ring.quantile(0.01)
    assert free_by_answer(snap) <= sum(1 for left in snap.wrap_left if left <= soonest)


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=60, deadline=None)
@given(snap=snapshots())
def test_every_mode_respects_the_channel_and_originate_limits(mode: str, snap: PacingSnapshot) -> None:
    calls = make_pacer(mode).decide(snap).calls
    assert 0 <= calls <= snap.limits.max_originate_per_tick
    assert calls == 0 or snap.channels_in_use + calls <= snap.limits.max_channels


def test_preview_never_dials() -> None:
    snap = PacingSnapshot(now=0, ready=10, estimates=Estimates.prior())
    assert make_pacer("preview").decide(snap).calls == 0


def test_ratio_places_lines_per_ready_operator_minus_calls_in_flight() -> None:
    snap = PacingSnapshot(now=0, ready=4, estimates=Estimates.prior(), ringing=(1.0, 2.0, 3.0))
    assert RatioPacer(2.5).decide(snap).calls == 10 - 3


@pytest.mark.parametrize("mode", ["", "ratio", "ratio:x", "ratio:0.5", "fast", "preview:2"])
def test_unknown_modes_are_refused_as_user_errors(mode: str) -> None:
    with pytest.raises(InvalidInput):
        make_pacer(mode)


def busy_floor(
    ready: int = 2, abandon: AbandonStats | None = None, ringing: tuple[float, ...] = (1.0, 3.0, 6.0)
) -> PacingSnapshot:
    """Twenty operators mid-shift, a few calls ringing, learned estimates."""
    tracker = EstimatesTracker()
    for i in range(400):
        tracker.call_resolved(i % 5 == 0, 8.0 if i % 5 == 0 else 20.0)
    for _ in range(100):
        tracker.call_handled(90.0, 10.0)
    return PacingSnapshot(
        now=3600,
        ready=ready,
        estimates=tracker.current(),
        in_call=tuple(float(60 + 10 * i) for i in range(18)),
        ringing=ringing,
        abandon=abandon or AbandonStats(0, 1000),
    )


def test_predictive_dials_ahead_of_operators_about_to_be_free() -> None:
    snap = replace(busy_floor(ready=0, ringing=()), in_wrap=(6.0, 8.0, 9.0))
    assert make_pacer("predictive").decide(snap).calls > 0
    assert make_pacer("progressive").decide(snap).calls == 0


def test_controller_backs_off_as_the_abandon_rate_rises() -> None:
    low = PredictivePacer().decide(busy_floor(abandon=AbandonStats(0, 1000))).calls
    near_target = PredictivePacer().decide(busy_floor(abandon=AbandonStats(20, 1000))).calls
    assert low > near_target


def test_controller_turns_cautious_near_the_cap_and_resumes_after_recovery() -> None:
    pacer = PredictivePacer()
    over = busy_floor(ready=3, abandon=AbandonStats(29, 1000))  # 2.9% >= 0.95 x 3%
    decision = pacer.decide(over)
    assert decision.explain["fallback"] == "cautious"
    normal = PredictivePacer().decide(busy_floor(ready=3, abandon=AbandonStats(20, 1000))).calls
    assert decision.calls < normal
    still = pacer.decide(busy_floor(ready=3, abandon=AbandonStats(29, 1100)))  # 2.6%: latched
    assert still.explain.get("fallback") == "cautious"
    resumed = pacer.decide(busy_floor(ready=3, abandon=AbandonStats(29, 1200)))  # 2.4% < 0.85 x 3%
    assert "fallback" not in resumed.explain


def test_controller_dials_progressively_at_the_edge_of_the_cap() -> None:
    edge = busy_floor(ready=5, abandon=AbandonStats(30, 1000))  # 3.0% >= 0.98 x 3%
    decision = PredictivePacer().decide(edge)
    assert decision.explain["fallback"] == "progressive"
    assert decision.calls == edge.ready - edge.in_flight


def test_without_a_cautious_risk_the_fallback_is_progressive() -> None:
    over = busy_floor(ready=5, abandon=AbandonStats(29, 1000))
    decision = PredictivePacer(settings=PredictiveSettings(cautious_risk=0.0)).decide(over)
    assert decision.explain["fallback"] == "progressive"
    assert decision.calls == over.ready - over.in_flight


def test_controller_lowers_the_allowed_overflow_with_each_abandon() -> None:
    controller = AbandonController()
    first = controller.steer(AbandonStats(0, 100)).overflow
    second = controller.steer(AbandonStats(2, 110)).overflow
    assert second < first
    recovered = controller.steer(AbandonStats(2, 400)).overflow
    assert recovered > second


def test_early_abandons_count_against_at_least_the_minimum_of_live_answers() -> None:
    controller = AbandonController(AbandonPolicy(min_live_answers=50))
    steering = controller.steer(AbandonStats(1, 2))
    assert steering.rate == pytest.approx(1 / 50)
    assert steering.predictive


def test_uk_policy_uses_a_24_hour_window() -> None:
    assert AbandonPolicy.uk().window_s == 86400


def test_more_allowed_risk_never_means_fewer_calls() -> None:
    snap = busy_floor(ready=3)
    checks = balances(snap.estimates, (0.25, 0.5, 0.9), 1.0, 3, 0, snap.in_call, (), snap.ringing)
    counts = [calls_for(checks, risk, 500) for risk in (0.0005, 0.002, 0.01, 0.05, 0.2)]
    assert counts == sorted(counts)
    assert counts[-1] > counts[0]


def test_each_new_call_carries_more_risk_than_the_one_before() -> None:
    snap = busy_floor(ready=3)
    checks = balances(snap.estimates, (0.25, 0.5, 0.9), 1.0, 3, 0, snap.in_call, (), snap.ringing)
    assert sum(b.weight for b in checks) == pytest.approx(1.0)
    risks = [unserved_risk(checks, n) for n in range(0, 60, 5)]
    assert risks == sorted(risks)
    assert risks[0] < 0.05 < risks[-1]


def test_tracker_learns_the_answer_rate_and_talk_time() -> None:
    tracker = EstimatesTracker()
    for i in range(2000):
        tracker.call_resolved(i % 10 == 0, 6.0 if i % 10 == 0 else 25.0)
        tracker.call_handled(200.0, 15.0)
    est = tracker.current()
    assert est.answer_rate == pytest.approx(0.1, abs=0.01)
    assert est.talk.median == pytest.approx(200.0, rel=0.02)
    assert est.wrap.median == pytest.approx(15.0, rel=0.02)
    assert est.ring.median == pytest.approx(6.0, rel=0.02)
    assert (est.answered, est.resolved) == (200, 2000)


def test_lognormal_conditional_completion_matches_its_survival_function() -> None:
    d = LogNormal.from_mean(60.0, 0.7)
    assert d.mean == pytest.approx(60.0)
    assert d.quantile(0.5) == pytest.approx(d.median, rel=1e-3)
    expected = 1 - d.sf(40.0) / d.sf(30.0)
    import numpy as np

    got = d.done_within(np.array([30.0]), 10.0)[0]
    assert got == pytest.approx(expected, rel=1e-3)
    assert math.isclose(d.sf(0.0), 1.0)


@settings(max_examples=100, deadline=None)
@given(snap=snapshots())
def test_predictive_never_places_fewer_calls_than_progressive(snap: PacingSnapshot) -> None:
    assert make_pacer("predictive").decide(snap).calls >= make_pacer("progressive").decide(snap).calls


def test_a_lone_ready_operator_gets_a_call_at_a_cold_start() -> None:
    snap = PacingSnapshot(now=0, ready=1, estimates=Estimates.prior(), in_call=(30.0, 50.0, 70.0, 90.0))
    decision = make_pacer("predictive").decide(snap)
    assert decision.calls >= 1


def test_a_cold_start_does_not_bet_on_wrap_ups_ending_before_the_answer() -> None:
    """Operators still in the wrap-up of an earlier run: untrusted ring times must not count them."""
    snap = PacingSnapshot(now=0, ready=1, estimates=Estimates.prior(), wrap_left=(2.8, 3.8, 3.8))
    assert make_pacer("predictive").decide(snap).calls == 1
    # Once the campaign knows people take seconds to answer, those wrap-ups count.
    warm = replace(busy_floor(ready=1, ringing=()), in_call=(), wrap_left=(0.5, 1.0, 1.5))
    assert make_pacer("predictive").decide(warm).calls > 1


def test_a_burst_of_abandons_makes_predictive_cautious_until_it_is_a_quarter_hour_old() -> None:
    """The day's rate is fine (1.6%), yet the last 15 minutes abandoned 3 of 40 answers: the
    pacer predicts cautiously, as near the cap, until that burst is older than 15 minutes."""
    pacer = PredictivePacer()
    start = busy_floor(ready=3, abandon=AbandonStats(13, 1000))  # history: nothing recent
    assert "fallback" not in pacer.decide(start).explain
    burst = replace(start, now=start.now + 300, abandon=AbandonStats(16, 1040))
    decision = pacer.decide(burst)
    assert decision.explain["fallback"] == "recent abandons"
    assert decision.calls < PredictivePacer().decide(burst).calls
    later = replace(burst, now=burst.now + 901, abandon=AbandonStats(16, 1100))
    assert "fallback" not in pacer.decide(later).explain
