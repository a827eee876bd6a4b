"""Time helpers every layer shares: the engine's float clock readings as the store's datetimes,
and a periodic timer read against an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime


def aware(moment: datetime) -> datetime:
    """A store datetime as an aware UTC one: the store writes only UTC, and SQLite may hand it back naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def to_ts(dt: datetime) -> float:
    return aware(dt).timestamp()


class Periodic:
    """Something to do every ``period_s`` of an injected clock (heartbeats, reloads, saves).

    ``due(now)`` says whether the period is over; ``restart(now)`` starts the next one. Due at
    once until first restarted.
    """

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self._next = float("-inf")

    def due(self, now: float) -> bool:
        return now >= self._next

    def restart(self, now: float) -> None:
        self._next = now + self.period_s
