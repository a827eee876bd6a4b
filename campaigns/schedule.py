"""Campaign schedules: on which days and hours a campaign dials. Pure: rules and an instant in, answers out.

A campaign with no schedule rule dials whenever it is active (as ``dialer run`` always has). With
rules, it dials only while at least one rule is open, and then still only inside each lead's own
calling window (``campaigns.window``): the schedule is the call centre's opening hours, the
window is the called person's.

Hours are read in the zone stored with each rule: the call centre's zone (``--tz``), not the
leads'. A rule covers ``start <= local time < end`` on its days, between its first and last
day inclusive; ``24:00`` ends a rule at midnight. Hours never wrap past midnight: a night shift
is two rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.core.errors import InvalidInput

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HORIZON_DAYS = 400  # how far ahead the next opening is looked for
MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class ScheduleRule:
    """One rule: days of the week (0 = Monday), local hours ``[start, end)``, optional date range."""

    days: frozenset[int]
    start: time
    end: time | None  # None: midnight at the end of the day ("24:00")
    zone: str
    first_day: date | None = None
    last_day: date | None = None

    @property
    def days_text(self) -> str:
        return format_days(self.days)

    @property
    def hours_text(self) -> str:
        end = "24:00" if self.end is None else _clock_text(self.end)
        return f"{_clock_text(self.start)}-{end}"

    def describe(self) -> str:
        text = f"{self.days_text} {self.hours_text} {self.zone}"
        if self.first_day or self.last_day:
            text += f" from {self.first_day or '-'} until {self.last_day or '-'}"
        return text

    def active_on(self, day: date) -> bool:
        return (
            day.weekday() in self.days
            and (self.first_day is None or day >= self.first_day)
            and (self.last_day is None or day <= self.last_day)
        )

    def interval_on(self, day: date) -> tuple[datetime, datetime]:
        """The rule's opening on a local day, as aware datetimes in its zone."""
        tz = ZoneInfo(self.zone)
        opens = datetime.combine(day, self.start, tz)
        closes = (
            datetime.combine(day + timedelta(days=1), MIDNIGHT, tz)
            if self.end is None
            else (datetime.combine(day, self.end, tz))
        )
        return opens, closes


def _clock_text(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def parse_days(text: str) -> frozenset[int]:
    """``mon-fri``, ``sat,sun``, ``mon,wed-fri``, ``daily``: the days of the week, 0 = Monday."""
    cleaned = text.strip().lower()
    if cleaned in ("daily", "all", "mon-sun"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in cleaned.split(","):
        ends = [p.strip() for p in part.split("-")]
        if len(ends) > 2 or not all(ends):
            raise InvalidInput(f"bad days {text!r}: use e.g. mon-fri or sat,sun")
        first, last = (_day(e, text) for e in (ends[0], ends[-1]))
        if last < first:
            raise InvalidInput(f"bad days {text!r}: {ends[0]}-{ends[-1]} runs backwards")
        days.update(range(first, last + 1))
    return frozenset(days)


def _day(name: str, text: str) -> int:
    key = name[:3]
    if key not in DAY_NAMES or name not in (key, _long_name(key)):
        raise InvalidInput(f"unknown day {name!r} in {text!r}: use mon tue wed thu fri sat sun")
    return DAY_NAMES.index(key)


def _long_name(key: str) -> str:
    return {
        "mon": "monday",
        "tue": "tuesday",
        "wed": "wednesday",
        "thu": "thursday",
        "fri": "friday",
        "sat": "saturday",
        "sun": "sunday",
    }[key]


def format_days(days: Iterable[int]) -> str:
    """Days as the shortest text: ``mon-fri``, ``sat,sun``, ``mon,wed-fri``."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [DAY_NAMES[r[0]] if len(r) == 1 else f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}" for r in runs]
    return ",".join(parts)


def parse_hours(text: str) -> tuple[time, time | None]:
    """``09:00-18:00`` → (09:00, 18:00); ``18:00-24:00`` ends at midnight (None); seconds allowed."""
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise InvalidInput(f"bad hours {text!r}: use HH:MM-HH:MM, e.g. 09:00-18:00")
    start = _clock(parts[0], text)
    end = None if parts[1].strip() == "24:00" else _clock(parts[1], text)
    if start is None or (end is not None and end <= start):
        raise InvalidInput(
            f"reversed hours {text!r}: the end must come after the start (a night shift is two rules)"
        )
    return start, end


def _clock(value: str, text: str) -> time:
    parts = value.strip().split(":")
    try:
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            raise ValueError(value)
        numbers = [int(p) for p in parts] + [0]
        return time(numbers[0], numbers[1], numbers[2])
    except ValueError:
        raise InvalidInput(f"bad hours {text!r}: use HH:MM-HH:MM, e.g. 09:00-18:00") from None


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}: use an IANA name such as Europe/Moscow") from None
    return name


def build_rule(
    days: str, hours: str, zone: str, first_day: date | None = None, last_day: date | None = None
) -> ScheduleRule:
    """A checked rule from the command line's text."""
    start, end = parse_hours(hours)
    if first_day and last_day and last_day < first_day:
        raise InvalidInput(f"--until {last_day} is before --from {first_day}")
    return ScheduleRule(parse_days(days), start, end, check_zone(zone), first_day, last_day)


def overlap(a: ScheduleRule, b: ScheduleRule) -> bool:
    """Two rules in one zone that share a day, a date and an hour."""
    if a.zone != b.zone or not a.days & b.days:
        return False
    if a.last_day and b.first_day and a.last_day < b.first_day:
        return False
    if b.last_day and a.first_day and b.last_day < a.first_day:
        return False
    a_end, b_end = a.end or time.max, b.end or time.max
    return a.start < b_end and b.start < a_end


def check_new_rule(existing: Sequence[ScheduleRule], rule: ScheduleRule) -> None:
    for other in existing:
        if overlap(other, rule):
            raise InvalidInput(f"overlapping hours: {rule.describe()} overlaps the rule {other.describe()}")


def _intervals(rules: Sequence[ScheduleRule], start: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """Every opening from the local day before ``start`` on, merged where they touch or overlap."""
    found: list[tuple[datetime, datetime]] = []
    for rule in rules:
        first = start.astimezone(ZoneInfo(rule.zone)).date() - timedelta(days=1)
        for offset in range(days + 2):
            day = first + timedelta(days=offset)
            if rule.active_on(day):
                found.append(rule.interval_on(day))
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in found:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def is_open(rules: Sequence[ScheduleRule], at: datetime) -> bool:
    """Is a campaign with these rules on schedule at the aware instant ``at``? No rules: always."""
    if not rules:
        return True
    return any(opens <= at < closes for opens, closes in _intervals(rules, at, 1))


def next_change(rules: Sequence[ScheduleRule], at: datetime) -> datetime | None:
    """When the campaign next opens (if closed at ``at``) or closes (if open); None: never."""
    if not rules:
        return None
    for opens, closes in _intervals(rules, at, _HORIZON_DAYS):
        if opens <= at < closes:
            return closes
        if opens > at:
            return opens
    return None
