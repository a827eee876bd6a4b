"""What the engine keeps per campaign it dials, and how it picks the campaign's pacer.

A ``CampaignRun`` lives as long as the engine dials the campaign: its rules as last
loaded, its pacer (which keeps a little state between ticks), its originate
rate limit, its learnt estimates and its abandon figures.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from dialer.pacing import AbandonPolicy, EstimatesTracker, Pacer, make_pacer
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.ratelimit import TokenBucket
from dialer.store.abandon import AbandonSettings, AbandonTracker, window_length

DIAL_RATE_WINDOW_S = 60.0


@dataclass
class CampaignRun:
    """Per-campaign state that lives as long as the engine: pacer, rate limit, estimates, abandons."""

    rules: CampaignRules
    pacer: Pacer
    bucket: TokenBucket
    abandon: AbandonTracker
    limits: AbandonSettings = field(default_factory=AbandonSettings)
    estimates: EstimatesTracker = field(default_factory=EstimatesTracker)
    last_explain: dict[str, float | str] = field(default_factory=dict)
    placed_at: deque[float] = field(default_factory=deque)  # originate instants over the last minute

    def dial_rate(self, now: float) -> float:
        """Calls placed per minute over the last minute."""
        while self.placed_at and self.placed_at[0] <= now - DIAL_RATE_WINDOW_S:
            self.placed_at.popleft()
        return len(self.placed_at) * 60.0 / DIAL_RATE_WINDOW_S


def abandon_policy(limits: AbandonSettings) -> AbandonPolicy | None:
    """The abandonment controller's policy for a campaign's cap and window; None for a zero cap."""
    if limits.cap <= 0:
        return None  # no abandon allowed at all: only progressive dialing can promise that
    # Aim at the same share of the cap as the policy the pacing benchmark measures (2.5% of 3%).
    share = AbandonPolicy.target / AbandonPolicy.cap
    return AbandonPolicy(
        cap=limits.cap,
        target=limits.cap * share,
        window_s=window_length(limits.window).total_seconds(),
    )


def default_pacer(rules: CampaignRules, policy: AbandonPolicy | None) -> Pacer:
    if rules.mode == "ratio":
        return make_pacer(f"ratio:{rules.ratio:g}")
    if rules.mode == "predictive" and policy is None:
        return make_pacer("progressive")
    return make_pacer(rules.mode, policy)
