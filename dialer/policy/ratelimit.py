"""A token bucket for the originate rate: pure, the caller passes the clock reading."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.core.errors import InvalidInput


def burst_for(rate: float) -> float:
    """The tokens a bucket of ``rate`` may hold: one second's worth, at least one call so that a rate
    under one a second still places calls, and none at a rate of zero (a node cut to nothing)."""
    return max(1.0, rate) if rate > 0 else 0.0


@dataclass
class TokenBucket:
    """``rate`` tokens per second, holding at most ``burst``; starts full."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float | None = None

    def __post_init__(self) -> None:
        if self.rate < 0 or self.burst < 0:
            raise InvalidInput("rate and burst must not be negative")
        if self.tokens < 0:
            self.tokens = self.burst

    def available(self, now: float) -> int:
        """Whole tokens at ``now``, after refilling."""
        if self.stamp is not None and now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now if self.stamp is None else max(self.stamp, now)
        return int(self.tokens + 1e-9)

    def take(self, now: float, count: int = 1) -> None:
        self.available(now)
        self.tokens = max(0.0, self.tokens - count)

    def reconfigure(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = min(self.tokens, burst)
