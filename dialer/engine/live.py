"""Calls in flight on this node, and the pure views the engine takes of them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from dialer.core.attempt import Attempt, AttemptState, Outcome, outcome_for_cause
from dialer.core.telephony import HungUp
from dialer.pacing import AbandonStats, DialCaps, Estimates, PacingDecision, PacingSnapshot
from dialer.pacing.team import Activity, OperatorView, build_snapshot
from dialer.policy.campaign_rules import CampaignRules
from dialer.store.claims import ClaimedLead

_UNANSWERED = frozenset({AttemptState.DIALING, AttemptState.RINGING})
_WAITING = frozenset({AttemptState.ANSWERED, AttemptState.WAITING})


@dataclass
class LiveCall:
    attempt: Attempt
    lead: ClaimedLead
    rules: CampaignRules
    last_event_at: float
    operator_name: str | None = None
    # A pre-answer hang-up that does not say why, held briefly for the originate's verdict.
    held_hangup: HungUp | None = None
    hold_until: float = 0.0
    amd_cause: str | None = None  # why AMD said what it said (AMDCAUSE), e.g. INITIALSILENCE-2500-2500
    direct_to: str | None = None  # the one operator's interface a dialer-direct call goes to


def pending_by_campaign(calls: Iterable[LiveCall]) -> dict[int, int]:
    """Per campaign, calls placed that no operator has taken yet."""
    return {cid: len(dialed) for cid, dialed in pending_dials(calls).items()}


def pending_dials(calls: Iterable[LiveCall]) -> dict[int, list[float]]:
    """Per campaign, when each call that no operator has taken yet was placed."""
    pending: dict[int, list[float]] = {}
    for call in calls:
        if call.attempt.state is not AttemptState.CONNECTED:
            pending.setdefault(call.rules.campaign_id, []).append(call.attempt.started_at)
    return pending


def busy_operators(calls: Iterable[LiveCall]) -> set[str]:
    """Interfaces bridged to a live call: busy whatever the queue events say yet."""
    calls = list(calls)
    bridged = {
        c.attempt.operator
        for c in calls
        if c.attempt.state is AttemptState.CONNECTED and c.attempt.operator is not None
    }
    # An operator a direct call is placed for is theirs until it ends, answered or not.
    return bridged | {c.direct_to for c in calls if c.direct_to is not None}


def snapshot(
    now: float,
    calls: list[LiveCall],
    ready: int,
    wrapping: Iterable[OperatorView],
    paused: int,
    estimates: Estimates,
    max_channels: int,
    max_originate: int,
    abandon: AbandonStats,
    leaving: Collection[str] = (),
) -> PacingSnapshot:
    """The pacer's view of one campaign at ``now`` (built as the simulator builds it).

    ``ready`` and ``paused`` count the campaign's operators the queue reports
    available (outside wrap-up) and paused; ``wrapping`` are those in wrap-up. An
    operator in a call is known by the campaign's connected calls, unless they asked
    to pause or log out (``leaving``, by interface): the queue pauses them at once and
    they take no call after this one, so they count as paused, as in the simulator.
    """
    operators = [
        *(OperatorView(Activity.READY) for _ in range(ready)),
        *(OperatorView(Activity.PAUSED) for _ in range(paused)),
        *wrapping,
        *(
            OperatorView(Activity.IN_CALL, c.attempt.connected_at or now)
            for c in calls
            if c.attempt.state is AttemptState.CONNECTED and c.attempt.operator not in leaving
        ),
    ]
    return build_snapshot(
        now,
        operators,
        ringing=[c.attempt.started_at for c in calls if c.attempt.state in _UNANSWERED],
        waiting=sum(1 for c in calls if c.attempt.state in _WAITING),
        estimates=estimates,
        abandon=abandon,
        limits=DialCaps(max_channels=max_channels, max_originate_per_tick=max_originate),
    )


# Figures of the pacer's own explanation worth showing as they are.
_PACER_FIGURES = ("overflow", "free_expected", "answers_expected", "horizon_s", "reason", "fallback", "floor")


def pacing_explain(
    decision: PacingDecision,
    snap: PacingSnapshot,
    placed: int,
    dial_rate_per_min: float,
    abandon_cap: float,
    abandon_window: str,
) -> dict[str, float | str]:
    """Why the campaign dialed what it dialed this tick, as ``dialer status`` shows it.

    ``abandon_rate`` is the campaign's rate over its window (abandoned / live
    answers); ``steering_rate`` is the rate the controller acted on, which
    counts at least its minimum number of live answers so that one early abandon
    does not read as 100%.
    """
    est = snap.estimates
    view: dict[str, float | str] = {
        "mode": str(decision.explain.get("mode", "")),
        "calls_wanted": decision.calls,
        "placed": placed,
        "dial_rate_per_min": round(dial_rate_per_min, 1),
        "ready": snap.ready,
        "staffed": snap.staffed,
        "ringing": len(snap.ringing),
        "waiting": snap.waiting,
        "in_call": len(snap.in_call),
        "wrapping": len(snap.in_wrap) + len(snap.wrap_left),
        "in_flight": snap.in_flight,
        "answer_rate": round(est.answer_rate, 4),
        "ring_mean_s": round(est.ring.mean, 2),
        "talk_mean_s": round(est.talk.mean, 2),
        "answered_seen": est.answered,
        "abandoned": snap.abandon.abandoned,
        "live_answers": snap.abandon.live_answers,
        "abandon_rate": round(snap.abandon.rate, 4),
        "abandon_cap": abandon_cap,
        "abandon_window": abandon_window,
    }
    for key in _PACER_FIGURES:
        if key in decision.explain:
            view[key] = decision.explain[key]
    if "abandon_rate" in decision.explain:
        view["steering_rate"] = decision.explain["abandon_rate"]
    return view


def should_hold(call: LiveCall, event: HungUp) -> bool:
    """Whether to wait for the originate's verdict before ending on this hang-up.

    Asterisk may report the hang-up of an unanswered call (cause 0, "unknown")
    before the OriginateResponse that says busy or congestion; ending on the
    hang-up would record a plain failure.
    """
    return (
        call.held_hangup is None
        and call.attempt.state in _UNANSWERED
        and outcome_for_cause(event.cause) is Outcome.FAILED
    )


def deadline(call: LiveCall, expire_after_s: float, max_call_s: float) -> float:
    """When a call with no further events is presumed lost (a ghost channel)."""
    attempt = call.attempt
    if attempt.state in _UNANSWERED:
        return attempt.started_at + call.rules.ring_timeout_s + expire_after_s
    if attempt.state is AttemptState.CONNECTED:
        return (attempt.connected_at or attempt.started_at) + max_call_s
    return call.last_event_at + expire_after_s
