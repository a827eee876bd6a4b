"""Which time zone(s) a lead gets, and how many hours a day a list can then be called.

Order of precedence, first that gives an answer wins:

1. the lead's own time-zone column: an IANA name (``Asia/Novosibirsk``),
   ``МСК+N``/``MSK+N`` (Moscow time plus N hours), ``UTC+N`` or ``GMT+N``;
   a value that is none of these rejects the row;
2. the lead's city column, then its region column, in Russian or English
   (``lists.ru_regions``); a place not recognised there is passed over;
3. for a Russian number, the region of its range in the loaded numbering plan
   (``dialer numbering import``);
4. the zones libphonenumber gives the number's prefix. For a Russian mobile
   number that is every Russian zone, and the calling window must then hold in
   all of them at once (the strict intersection): about two hours a day under
   09:00-21:00. The import summary counts the leads left with it.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from campaigns.window import CallingWindow, callable_intervals, is_zone, seconds_of_day
from dialer.core.errors import FieldRejected
from lists.phones import Phone
from lists.ru_regions import city_zones, subject_zones

# Moscow time plus N: the zone of a Russian place on that offset (Russia keeps no summer time).
_MSK_ZONES = {
    -1: "Europe/Kaliningrad",
    0: "Europe/Moscow",
    1: "Europe/Samara",
    2: "Asia/Yekaterinburg",
    3: "Asia/Omsk",
    4: "Asia/Novosibirsk",
    5: "Asia/Irkutsk",
    6: "Asia/Yakutsk",
    7: "Asia/Vladivostok",
    8: "Asia/Magadan",
    9: "Asia/Kamchatka",
}
_OFFSET = re.compile(r"^(мск|msk|utc|gmt)\s*(?:([+-−])\s*(\d{1,2})(?::?(\d{2}))?)?$")
WEEK = timedelta(days=7)


class ZoneSource(Enum):
    TZ_COLUMN = "time-zone column"
    PLACE = "city or region column"
    REGISTRY = "numbering plan"
    NUMBER = "number prefix"
    INTERSECTION = "number prefix, several zones"


def explicit_zone(value: str) -> str:
    """The IANA zone a time-zone cell names; empty for an empty cell; ``FieldRejected`` if unreadable."""
    text = value.strip()
    if not text:
        return ""
    match = _OFFSET.match(text.casefold())
    if match is not None:
        return _offset_zone(text, match)
    if not is_zone(text):
        raise FieldRejected(
            f"unknown time zone {text[:40]!r}: write an IANA name (Europe/Moscow), МСК+N, UTC+N or GMT+N"
        )
    return text


def _offset_zone(text: str, match: re.Match[str]) -> str:
    base, sign, hours, minutes = match.groups()
    offset = int(hours or 0) * (-1 if sign in ("-", "−") else 1)
    if minutes and int(minutes):
        raise FieldRejected(f"time zone {text!r}: no fixed zone for a part-hour offset; write an IANA name")
    if base in ("мск", "msk"):
        zone = _MSK_ZONES.get(offset)
        if zone is None:
            raise FieldRejected(f"time zone {text!r}: Russia has no zone at Moscow time {offset:+d}")
        return zone
    if not -12 <= offset <= 14:
        raise FieldRejected(f"time zone {text!r}: no such UTC offset")
    # The tz database names fixed offsets with the sign reversed: Etc/GMT-7 is UTC+7.
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


class LeadZones:
    """Applies the order of precedence to one lead at a time; ``plan`` is None without a loaded plan."""

    def __init__(self, plan: ZonePlan | None) -> None:
        self._plan = plan if plan is not None and plan.loaded else None

    def resolve(self, phone: Phone, tz: str, city: str, region: str) -> tuple[str, ZoneSource]:
        own = explicit_zone(tz)
        if own:
            return own, ZoneSource.TZ_COLUMN
        for place, lookup in ((city, city_zones), (region, subject_zones)):
            zones = lookup(place.strip()) if place.strip() else ()
            if zones:
                return ",".join(zones), ZoneSource.PLACE
        if self._plan is not None:
            zones = self._plan.zones(phone.e164)
            if zones:
                return ",".join(zones), ZoneSource.REGISTRY
        several = len(phone.time_zones) > 1
        return phone.zones, ZoneSource.INTERSECTION if several else ZoneSource.NUMBER


class ZonePlan(Protocol):
    """What ``LeadZones`` needs of the numbering plan (``lists.numbering.NumberingPlan``)."""

    loaded: bool

    def zones(self, e164: str) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class ListHours:
    """Hours a day the leads can be called, averaged over a week, under a calling window."""

    leads: int
    window_hours: float  # the window's own weekday length
    fewest: float  # the lead with the fewest callable hours
    median: float
    any_lead: float  # hours when at least one lead is callable
    short: int  # leads callable less than half the window

    @property
    def is_short(self) -> bool:
        return self.short > 0


def list_hours(zone_counts: Mapping[str, int], window: CallingWindow, week_start: datetime) -> ListHours:
    """Callable hours a day for leads grouped by their zones text, over the week from ``week_start``."""
    until = week_start + WEEK
    window_h = (seconds_of_day(window.end) - seconds_of_day(window.start)) / 3600
    per_lead: list[tuple[float, int]] = []
    union: list[tuple[datetime, datetime]] = []
    for zones, count in zone_counts.items():
        stretches = [
            (max(lo, week_start), min(hi, until))
            for lo, hi in callable_intervals(zones.split(",") if zones else [], window, week_start)
            if lo < until
        ]
        union.extend(stretches)
        per_lead.append((_hours_a_day(stretches), count))
    expanded = sorted(hours for hours, count in per_lead for _ in range(count))
    if not expanded:
        return ListHours(0, window_h, 0.0, 0.0, 0.0, 0)
    short = sum(count for hours, count in per_lead if hours < window_h / 2)
    return ListHours(
        len(expanded),
        window_h,
        expanded[0],
        statistics.median(expanded),
        _hours_a_day(_merged(union)),
        short,
    )


def _hours_a_day(stretches: list[tuple[datetime, datetime]]) -> float:
    return sum((hi - lo).total_seconds() for lo, hi in stretches) / 3600 / WEEK.days


def _merged(stretches: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(stretches):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def next_week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC after ``now``: the reference week an import measures."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=7 - day.weekday())
