"""Calling windows: when a lead may be called, in the called person's local time.

A number's time zone comes from its prefix, and one prefix can map to many
zones (a Russian mobile number maps to sixteen, UTC+2 to UTC+12). The only safe
rule is that the local time in EVERY candidate zone is inside the window. A
lead with no known zone, or whose zones never share an open hour, is never
dialed and never silently skipped: ``window_problem`` says why, for the report.

All functions are pure: they take the current instant as an argument.

``next_callable`` works on intervals rather than scanning: for each zone it
splits the coming days into stretches of constant UTC offset (finding DST
changes by bisection), turns each local day's opening hours into a UTC
interval, and intersects the zones' interval lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.core import reasons
from dialer.core.errors import InvalidInput

UNKNOWN_ZONE = "Etc/Unknown"

# A week plus a day covers every weekday/weekend pattern from any starting instant.
HORIZON = timedelta(days=8)
# Offset changes (DST) are months apart; sampling every 6 hours cannot miss one.
_SAMPLE_S = 6 * 3600

_HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")

Interval = tuple[float, float]  # [start, end) in epoch seconds

END_OF_DAY = time.max  # "24:00" as an exclusive end: midnight; ``seconds_of_day`` counts it as 86,400


def _check_hours(start: time, end: time, which: str) -> None:
    if start.tzinfo is not None or end.tzinfo is not None:
        raise InvalidInput(f"{which} hours are local times and must not carry a time zone")
    if not start < end:
        raise InvalidInput(f"{which} hours must start before they end, got {start:%H:%M}-{end:%H:%M}")


# Russian non-working public holidays (Labour Code art. 112): the New Year holidays and
# Christmas, Defender of the Fatherland Day, Women's Day, Spring and Labour Day, Victory
# Day, Russia Day, Unity Day; and 31 December, a day off by decree in recent years.
_RU_HOLIDAYS = frozenset(
    [(1, d) for d in range(1, 9)] + [(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4), (12, 31)]
)


def ru_day_off(day: date) -> bool:
    """A Russian non-working holiday, or the working day it moves to when it falls on a weekend.

    Art. 112 moves a holiday that falls on a Saturday or Sunday to the next working
    day (the January holidays excepted). Other moves decreed for a given year are
    not known here; treating more days as days off only narrows the calling hours.
    """
    if (day.month, day.day) in _RU_HOLIDAYS:
        return True
    if day.weekday() >= 5:
        return False
    back = day - timedelta(days=1)
    while back.weekday() >= 5 or (back.month, back.day) in _RU_HOLIDAYS:
        if back.weekday() >= 5 and (back.month, back.day) in _RU_HOLIDAYS and back.month not in (1, 12):
            return True
        back -= timedelta(days=1)
    return False


HOLIDAY_CALENDARS: dict[str, Callable[[date], bool]] = {"ru": ru_day_off}


@dataclass(frozen=True)
class CallingWindow:
    """Local hours when calls may start: ``start`` inclusive, ``end`` exclusive.

    ``weekend`` (Saturday and Sunday) defaults to the weekday hours. With a
    ``holidays`` calendar (``ru``) its days off keep the weekend hours too.
    """

    start: time = time(9, 0)
    end: time = time(21, 0)
    weekend: tuple[time, time] | None = None
    holidays: str = ""

    def __post_init__(self) -> None:
        _check_hours(self.start, self.end, "weekday")
        if self.weekend is not None:
            _check_hours(self.weekend[0], self.weekend[1], "weekend")
        if self.holidays and self.holidays not in HOLIDAY_CALENDARS:
            raise InvalidInput(
                f"unknown holiday calendar {self.holidays!r} (known: {', '.join(sorted(HOLIDAY_CALENDARS))})"
            )

    def hours_on(self, day: date) -> tuple[time, time]:
        """The opening hours on a local calendar day."""
        if self.weekend is not None and (
            day.weekday() >= 5 or (self.holidays and HOLIDAY_CALENDARS[self.holidays](day))
        ):
            return self.weekend
        return self.start, self.end

    @classmethod
    def parse(cls, text: str) -> CallingWindow:
        """Parse ``"09:00-21:00"``, ``"08:00-22:00,09:00-20:00"`` (weekdays, weekend) or a profile name.

        Profiles: ``default`` (09:00-21:00), ``us-tsr`` (08:00-21:00), ``ru-230fz``
        (weekdays 08:00-22:00; weekends and Russian days off 09:00-20:00).
        """
        key = text.strip().lower()
        if key in PROFILES:
            return PROFILES[key]
        parts = [p.strip() for p in key.split(",")]
        holidays = ""
        if parts and parts[-1].startswith("holidays:"):
            holidays = parts.pop()[len("holidays:") :]
        if len(parts) > 2 or not parts or not parts[0] or (holidays and len(parts) != 2):
            raise InvalidInput(
                f"calling window {text!r}: expected HH:MM-HH:MM, optionally followed by "
                f"',HH:MM-HH:MM' for weekends and then ',holidays:ru' for days off kept at weekend "
                f"hours, or one of {', '.join(sorted(PROFILES))}"
            )
        start, end = _parse_hours(parts[0], text)
        weekend = _parse_hours(parts[1], text) if len(parts) == 2 else None
        try:
            return cls(start, end, weekend, holidays)
        except ValueError as exc:
            raise InvalidInput(f"calling window {text!r}: {exc}") from None

    def __str__(self) -> str:
        text = f"{self.start:%H:%M}-{_clock(self.end)}"
        if self.weekend is not None:
            text += f",{self.weekend[0]:%H:%M}-{_clock(self.weekend[1])}"
        if self.holidays:
            text += f",holidays:{self.holidays}"
        return text


PROFILES: dict[str, CallingWindow] = {
    "default": CallingWindow(),
    "us-tsr": CallingWindow(time(8, 0), time(21, 0)),
    "ru-230fz": CallingWindow(time(8, 0), time(22, 0), weekend=(time(9, 0), time(20, 0)), holidays="ru"),
}


def _parse_hours(part: str, text: str) -> tuple[time, time]:
    match = _HOURS.fullmatch(part)
    if match is None:
        raise InvalidInput(
            f"calling window {text!r}: {part.strip()!r} is not HH:MM-HH:MM "
            f"(nor a profile: {', '.join(sorted(PROFILES))})"
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        return time(h1, m1), END_OF_DAY if (h2, m2) == (24, 0) else time(h2, m2)
    except ValueError:
        raise InvalidInput(f"calling window {text!r}: {part.strip()!r} is not a valid time of day") from None


# --- zones ---------------------------------------------------------------------------


MAX_ZONE_NAME = 64  # the longest IANA name is about 30 characters


# ZoneInfo keeps only eight zones strongly cached; a Russian mobile number alone has
# sixteen, and re-reading zone files on every check made a check cost tens of microseconds.
@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    if not name or name == UNKNOWN_ZONE or len(name) > MAX_ZONE_NAME:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder of zone files: OSError
        return None


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone (``Europe/Moscow``), not a folder or a path."""
    return _zone(name) is not None


def _known_zone(name: str) -> ZoneInfo:
    zone = _zone(name)
    if zone is None:
        raise InvalidInput(f"unknown time zone {name[:40]!r}")
    return zone


def _zones(names: Iterable[str]) -> list[ZoneInfo] | None:
    """The zones, or None if there are none or any one is unknown."""
    zones = [_zone(name) for name in names]
    if not zones or any(z is None for z in zones):
        return None
    return [z for z in zones if z is not None]


def _require_aware(now_utc: datetime) -> None:
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise InvalidInput("now_utc must be an aware datetime (UTC)")


# --- public rules --------------------------------------------------------------------


def is_callable(now_utc: datetime, zones: Sequence[str], window: CallingWindow) -> bool:
    """Whether the local time in every candidate zone is inside the window."""
    _require_aware(now_utc)
    resolved = _zones(zones)
    if resolved is None:
        return False
    for zone in resolved:
        local = now_utc.astimezone(zone)
        start, end = window.hours_on(local.date())
        if not start <= local.time().replace(tzinfo=None) < end:
            return False
    return True


def next_callable(now_utc: datetime, zones: Sequence[str], window: CallingWindow) -> datetime | None:
    """The earliest instant >= ``now_utc`` (in UTC) at which the lead is callable.

    None when it is not callable at any time in the next eight days: an unknown
    zone, or zones whose opening hours never overlap (see ``window_problem``).
    """
    _require_aware(now_utc)
    if _zones(zones) is None:
        return None
    now = now_utc.timestamp()
    # Intervals are cached per hour so that many leads sharing a zone set cost one computation.
    hour = int(now // 3600) * 3600
    for start, end in _shared_intervals(tuple(sorted(set(zones))), window, hour):
        if end > now:
            # Return ``now_utc`` itself rather than a float round trip of it.
            return now_utc.astimezone(UTC) if start <= now else datetime.fromtimestamp(start, UTC)
    return None


def callable_intervals(
    zones: Sequence[str], window: CallingWindow, since_utc: datetime
) -> tuple[tuple[datetime, datetime], ...]:
    """The stretches of the eight days from ``since_utc`` when every zone is inside the window.

    Empty for an unknown zone or zones that never share an open hour. Used to say
    how many hours a day a list can be called.
    """
    _require_aware(since_utc)
    if _zones(zones) is None:
        return ()
    since = int(since_utc.timestamp())
    return tuple(
        (datetime.fromtimestamp(lo, UTC), datetime.fromtimestamp(hi, UTC))
        for lo, hi in _shared_intervals(tuple(sorted(set(zones))), window, since)
    )


def window_problem(
    zones: Sequence[str], window: CallingWindow | None = None, now_utc: datetime | None = None
) -> str | None:
    """Why a lead can never be called, for the report; None when it can be.

    Without ``window`` only the zones are checked. With it, the window is checked
    from ``now_utc``, or, without ``now_utc``, from a winter and a summer week
    (daylight saving time moves zones closer together or further apart).
    """
    if not zones:
        return reasons.NO_ZONE
    unknown = sorted({name for name in zones if _zone(name) is None})
    if unknown:
        return reasons.UNKNOWN_ZONE.format(zones=", ".join(repr(u[:40]) for u in unknown[:3]))
    if window is None:
        return None
    checks = [now_utc] if now_utc is not None else _REFERENCE_INSTANTS
    for instant in checks:
        if next_callable(instant, zones, window) is None:
            span = _offset_span(set(zones), instant)
            return reasons.NEVER_OPENS.format(
                window=window, count=len(set(zones)), span=span, date=f"{instant:%Y-%m-%d}"
            )
    return None


_REFERENCE_INSTANTS = [datetime(2025, 1, 13, tzinfo=UTC), datetime(2025, 7, 14, tzinfo=UTC)]


def _offset_span(zones: Iterable[str], at: datetime) -> str:
    offsets = [at.astimezone(_known_zone(name)).utcoffset() or timedelta() for name in zones]
    return f"UTC{_fmt_offset(min(offsets))} to UTC{_fmt_offset(max(offsets))}"


def _fmt_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours}" + (f":{mins:02d}" if mins else "")


# --- interval arithmetic -------------------------------------------------------------


@lru_cache(maxsize=4096)
def _shared_intervals(zones: tuple[str, ...], window: CallingWindow, since: int) -> tuple[Interval, ...]:
    """Instants in [since, since + HORIZON) when every zone is inside the window."""
    until = since + int(HORIZON.total_seconds())
    shared: list[Interval] = [(float(since), float(until))]
    for name in zones:
        shared = _intersect(shared, _zone_intervals(_known_zone(name), window, since, until))
        if not shared:
            break
    return tuple(shared)


def _zone_intervals(zone: ZoneInfo, window: CallingWindow, since: int, until: int) -> list[Interval]:
    intervals: list[Interval] = []
    for seg_start, seg_end, offset in _constant_offset_stretches(zone, since, until):
        first_day = datetime.fromtimestamp(seg_start + offset, UTC).date()
        last_day = datetime.fromtimestamp(seg_end + offset, UTC).date()
        day = first_day
        while day <= last_day:
            start, end = window.hours_on(day)
            local_midnight = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            lo = max(local_midnight + seconds_of_day(start) - offset, seg_start)
            hi = min(local_midnight + seconds_of_day(end) - offset, seg_end)
            if lo < hi:
                intervals.append((lo, hi))
            day += timedelta(days=1)
    return _merge(intervals)


def _constant_offset_stretches(zone: ZoneInfo, since: int, until: int) -> list[tuple[int, int, int]]:
    """Split [since, until) into (start, end, utc offset seconds) stretches."""
    stretches: list[tuple[int, int, int]] = []
    start, offset = since, _offset(zone, since)
    probe = since
    while probe < until:
        nxt = min(probe + _SAMPLE_S, until)
        if _offset(zone, nxt) != offset and nxt < until:
            change = _find_change(zone, probe, nxt, offset)
            stretches.append((start, change, offset))
            start, offset = change, _offset(zone, change)
        probe = nxt
    stretches.append((start, until, offset))
    return stretches


def _find_change(zone: ZoneInfo, lo: int, hi: int, offset: int) -> int:
    """The first second in (lo, hi] whose offset differs from ``offset``."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, mid) == offset:
            lo = mid
        else:
            hi = mid
    return hi


def _offset(zone: ZoneInfo, ts: int) -> int:
    delta = datetime.fromtimestamp(ts, UTC).astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def seconds_of_day(t: time) -> int:
    """Seconds since midnight; ``END_OF_DAY`` (an end of "24:00") is the day's whole 86,400."""
    return 86_400 if t == END_OF_DAY else t.hour * 3600 + t.minute * 60 + t.second


def _clock(t: time) -> str:
    return "24:00" if t == END_OF_DAY else f"{t:%H:%M}"


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out
