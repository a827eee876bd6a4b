"""Contact-frequency limits: how often one number may be spoken to, as pure time logic.

A limit ``N/PERIOD`` allows at most N contacts with a number in any rolling
window of PERIOD: every half-open window ``(t - PERIOD, t]`` holds at most N.
Rolling windows are the conservative reading of calendar rules: a rolling day
allows at most one contact per calendar day, a rolling 7 days at most two per
calendar week, and 31 days (not 30) covers every calendar month.

The profile ``ru-230fz`` is the Russian debt-collection rule (230-FZ art. 7):
at most once a day, twice a week, eight times a month.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.core.errors import InvalidInput

PROFILES: dict[str, str] = {"ru-230fz": "1/1d,2/7d,8/31d"}
MAX_COUNT = 1000
MAX_PERIOD = timedelta(days=366)
_LIMIT = re.compile(r"^(\d+)\s*/\s*(\d+)\s*([hd])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1)}


@dataclass(frozen=True)
class ContactLimit:
    """At most ``count`` contacts in any rolling ``period``."""

    count: int
    period: timedelta

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_COUNT:
            raise InvalidInput(f"contact limit count {self.count}: expected 1 to {MAX_COUNT}")
        if not timedelta(0) < self.period <= MAX_PERIOD:
            raise InvalidInput(f"contact limit period {self.period}: expected more than 0 and at most 366d")

    def __str__(self) -> str:
        day = _UNITS["d"]
        if self.period % day == timedelta(0):
            return f"{self.count}/{self.period // day}d"
        return f"{self.count}/{self.period // _UNITS['h']}h"


ContactLimits = tuple[ContactLimit, ...]


def parse_limits(text: str) -> ContactLimits:
    """``"1/1d,2/7d,8/31d"``, a profile name, or ``""`` (no limits); ``InvalidInput`` names the bad part."""
    key = text.strip().lower()
    key = PROFILES.get(key, key)
    if not key:
        return ()
    limits: list[ContactLimit] = []
    for part in key.split(","):
        match = _LIMIT.match(part.strip())
        if match is None:
            raise InvalidInput(
                f"contact limits {text!r}: {part.strip()!r} is not N/PERIOD "
                f"(e.g. 1/1d or 3/12h; periods in h or d), nor a profile: {', '.join(sorted(PROFILES))}"
            )
        count, amount, unit = int(match.group(1)), int(match.group(2)), match.group(3)
        try:
            limits.append(ContactLimit(count, amount * _UNITS[unit]))
        except ValueError as exc:
            raise InvalidInput(f"contact limits {text!r}: {part.strip()!r}: {exc}") from None
    return tuple(limits)


def format_limits(limits: ContactLimits) -> str:
    """The canonical text of ``limits``; ``parse_limits`` reads it back unchanged."""
    return ",".join(str(limit) for limit in limits)


def longest_period(limits: ContactLimits) -> timedelta:
    """How far back contacts matter; zero when there are no limits."""
    return max((limit.period for limit in limits), default=timedelta(0))


def next_allowed(contacts: Sequence[datetime], limits: ContactLimits, now: datetime) -> datetime | None:
    """None if one more contact may be made at ``now``; else the earliest instant every limit allows one.

    The candidate instant only moves forward, each time to the moment the oldest
    contact that is one too many leaves a limit's window, so the first instant no
    limit objects to is the earliest. Contacts stamped after ``now`` (another
    node's clock running ahead) are counted in every window that could hold both
    them and the new contact: safe, if stricter than needed.
    """
    ordered = sorted(contacts)
    at = now
    moved = True
    while moved:
        moved = False
        for limit in limits:
            low = bisect_right(ordered, at - limit.period)
            high = bisect_left(ordered, at + limit.period)
            inside = high - low
            if inside >= limit.count:
                at = ordered[low + inside - limit.count] + limit.period
                moved = True
    return None if at == now else at


def over_limits(contacts: Sequence[datetime], limits: ContactLimits) -> list[bool]:
    """For each contact (in the given order): did it leave some window holding more than allowed?

    The window that a contact breaks is the one ending at it: ``(t - period, t]``.
    Contacts at the same instant share that window, so all of them are flagged.
    """
    ordered = sorted(contacts)
    flags = []
    for at in contacts:
        end = bisect_right(ordered, at)
        flags.append(any(end - bisect_right(ordered, at - limit.period) > limit.count for limit in limits))
    return flags
