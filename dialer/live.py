"""Calls in flight on this node, and the pure views the engine takes of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dialer.attempt import Attempt, AttemptState, Outcome, outcome_for_cause
from dialer.campaign_rules import CampaignRules
from dialer.claims import ClaimedLead
from dialer.pacing import AbandonStats, Estimates, Limits, PacingSnapshot
from dialer.telephony import HungUp

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


def busy_operators(calls: Iterable[LiveCall]) -> set[str]:
    """Interfaces bridged to a live call: busy whatever the queue events say yet."""
    return {
        c.attempt.operator
        for c in calls
        if c.attempt.state is AttemptState.CONNECTED and c.attempt.operator is not None
    }


def snapshot(
    now: float,
    calls: list[LiveCall],
    ready: int,
    paused: int,
    estimates: Estimates,
    max_channels: int,
    max_originate: int,
    abandon: AbandonStats,
) -> PacingSnapshot:
    """The pacer's view of one campaign at ``now``."""
    return PacingSnapshot(
        now=now,
        ready=ready,
        estimates=estimates,
        paused=paused,
        in_call=tuple(
            now - (c.attempt.connected_at or now) for c in calls if c.attempt.state is AttemptState.CONNECTED
        ),
        ringing=tuple(now - c.attempt.started_at for c in calls if c.attempt.state in _UNANSWERED),
        waiting=sum(1 for c in calls if c.attempt.state in _WAITING),
        abandon=abandon,
        limits=Limits(max_channels=max_channels, max_originate_per_tick=max_originate),
    )


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
