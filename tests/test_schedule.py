"""Campaign schedules: the pure rules (open at an instant, next change) and bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from campaigns.schedule import (
    ScheduleRule,
    build_rule,
    check_new_rule,
    format_days,
    is_open,
    next_change,
    parse_days,
    parse_hours,
)
from dialer.core.errors import InvalidInput

MSK = ZoneInfo("Europe/Moscow")
WEEKDAYS = build_rule("mon-fri", "09:00-18:00", "Europe/Moscow")


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sat,sun", {5, 6}),
        ("mon,wed-fri", {0, 2, 3, 4}),
        ("daily", set(range(7))),
        ("Monday-Tuesday", {0, 1}),
        ("sun", {6}),
    ],
)
def test_days_parse(text: str, days: set[int]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("days", [{0, 1, 2, 3, 4}, {5, 6}, {0, 2, 3, 4}, {6}])
def test_days_print_as_they_parse(days: set[int]) -> None:
    assert parse_days(format_days(days)) == days


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon-fry", "unknown day 'fry'"),
        ("funday", "unknown day"),
        ("fri-mon", "runs backwards"),
        ("mon,,tue", "bad days"),
        ("mo", "unknown day"),
    ],
)
def test_bad_days_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_days(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("09:00-18:00", time(9), time(18)),
        ("18:00-24:00", time(18), None),
        ("00:00-06:30", time(0), time(6, 30)),
        ("09:00:30-09:01:15", time(9, 0, 30), time(9, 1, 15)),
    ],
)
def test_hours_parse(text: str, start: time, end: time | None) -> None:
    assert parse_hours(text) == (start, end)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("18:00-09:00", "reversed hours"),
        ("09:00-09:00", "reversed hours"),
        ("9-18", "bad hours"),
        ("25:00-26:00", "bad hours"),
        ("09:00", "bad hours"),
    ],
)
def test_bad_hours_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_hours(text)


def test_unknown_zone_and_reversed_dates_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown time zone"):
        build_rule("mon", "09:00-10:00", "Mars/Olympus")
    with pytest.raises(InvalidInput, match="before --from"):
        build_rule("mon", "09:00-10:00", "UTC", date(2026, 12, 2), date(2026, 12, 1))


@pytest.mark.parametrize(
    ("existing", "new", "overlaps"),
    [
        (("mon-fri", "09:00-18:00"), ("fri", "17:00-20:00"), True),
        (("mon-fri", "09:00-18:00"), ("sat", "09:00-18:00"), False),
        (("mon-fri", "09:00-13:00"), ("mon-fri", "13:00-18:00"), False),  # touching is not overlapping
        (("daily", "18:00-24:00"), ("sun", "23:00-23:30"), True),
    ],
)
def test_overlapping_rules_are_refused(
    existing: tuple[str, str], new: tuple[str, str], overlaps: bool
) -> None:
    old = build_rule(*existing, "UTC")
    rule = build_rule(*new, "UTC")
    if overlaps:
        with pytest.raises(InvalidInput, match="overlapping hours"):
            check_new_rule([old], rule)
    else:
        check_new_rule([old], rule)


def test_rules_in_separate_date_ranges_do_not_overlap() -> None:
    december = build_rule("mon-fri", "09:00-18:00", "UTC", date(2026, 12, 1), date(2026, 12, 31))
    january = build_rule("mon-fri", "10:00-19:00", "UTC", date(2027, 1, 1), None)
    check_new_rule([december], january)


# 2026-11-30 is a Monday.
@pytest.mark.parametrize(
    ("at", "open_", "change"),
    [
        (msk(2026, 11, 30, 8, 59), False, msk(2026, 11, 30, 9, 0)),
        (msk(2026, 11, 30, 9, 0), True, msk(2026, 11, 30, 18, 0)),
        (msk(2026, 11, 30, 17, 59, 59), True, msk(2026, 11, 30, 18, 0)),
        (msk(2026, 11, 30, 18, 0), False, msk(2026, 12, 1, 9, 0)),
        (msk(2026, 12, 4, 18, 30), False, msk(2026, 12, 7, 9, 0)),  # Friday evening → Monday
        (msk(2026, 12, 5, 12, 0), False, msk(2026, 12, 7, 9, 0)),  # Saturday noon
        (datetime(2026, 11, 30, 6, 0, tzinfo=UTC), True, msk(2026, 11, 30, 18, 0)),  # 09:00 MSK in UTC
    ],
)
def test_weekday_hours_in_the_centre_zone(at: datetime, open_: bool, change: datetime) -> None:
    assert is_open([WEEKDAYS], at) is open_
    assert next_change([WEEKDAYS], at) == change


def test_no_rule_means_always_on_schedule() -> None:
    at = msk(2026, 12, 5, 3, 0)
    assert is_open([], at) and next_change([], at) is None


def test_touching_rules_close_once_at_the_end_of_the_last() -> None:
    rules = [build_rule("mon", "09:00-13:00", "UTC"), build_rule("mon", "13:00-18:00", "UTC")]
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert next_change(rules, at) == datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def test_evening_to_midnight_runs_into_the_next_morning_rule() -> None:
    rules = [build_rule("daily", "18:00-24:00", "UTC"), build_rule("daily", "00:00-02:00", "UTC")]
    at = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert is_open(rules, at)
    assert next_change(rules, at) == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_date_range_limits_the_rule() -> None:
    rule = build_rule("daily", "09:00-18:00", "UTC", date(2026, 12, 10), date(2026, 12, 11))
    assert not is_open([rule], datetime(2026, 12, 9, 12, tzinfo=UTC))
    assert is_open([rule], datetime(2026, 12, 11, 12, tzinfo=UTC))
    assert next_change([rule], datetime(2026, 12, 1, tzinfo=UTC)) == datetime(2026, 12, 10, 9, tzinfo=UTC)
    assert next_change([rule], datetime(2026, 12, 11, 19, tzinfo=UTC)) is None  # never again


def test_hours_follow_daylight_saving_in_the_rule_zone() -> None:
    rule = ScheduleRule(frozenset(range(7)), time(9), time(17), "Europe/Berlin")
    summer = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)  # 09:30 CEST
    winter = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # 08:30 CET
    assert is_open([rule], summer) and not is_open([rule], winter)
