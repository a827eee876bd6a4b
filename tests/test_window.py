"""Calling windows in the called person's local time, over every candidate zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as phone_timezone

from campaigns.window import PROFILES, CallingWindow, is_callable, next_callable, ru_day_off, window_problem
from dialer.core.errors import InvalidInput

NINE_TO_NINE = CallingWindow(time(9, 0), time(21, 0))
RU_230FZ = PROFILES["ru-230fz"]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def russian_mobile_zones() -> list[str]:
    return list(phone_timezone.time_zones_for_number(phonenumbers.parse("+79161234567")))


# --- parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("09:00-21:00", CallingWindow(time(9, 0), time(21, 0))),
        (" 8:30 - 20:15 ", CallingWindow(time(8, 30), time(20, 15))),
        ("08:00-22:00,09:00-20:00", CallingWindow(time(8, 0), time(22, 0), (time(9, 0), time(20, 0)))),
        ("ru-230fz", CallingWindow(time(8, 0), time(22, 0), (time(9, 0), time(20, 0)), "ru")),
        ("US-TSR", CallingWindow(time(8, 0), time(21, 0))),
        ("default", CallingWindow()),
    ],
)
def test_parse_reads_hours_weekend_hours_and_profiles(text: str, window: CallingWindow) -> None:
    assert CallingWindow.parse(text) == window


@pytest.mark.parametrize("window", [NINE_TO_NINE, RU_230FZ, CallingWindow(time(0, 0), time(23, 59))])
def test_a_window_reads_back_from_its_text(window: CallingWindow) -> None:
    assert CallingWindow.parse(str(window)) == window


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected HH:MM-HH:MM"),
        ("9-21", "'9-21' is not HH:MM-HH:MM"),
        ("21:00-09:00", "must start before they end"),
        ("09:00-09:00", "must start before they end"),
        ("25:00-26:00", "not a valid time of day"),
        ("09:00-21:00,10:00", "'10:00' is not HH:MM-HH:MM"),
        ("09:00-21:00,20:00-09:00", "weekend hours must start before they end"),
        ("09:00-12:00,13:00-14:00,15:00-16:00", "expected HH:MM-HH:MM"),
        ("night", "ru-230fz"),
    ],
)
def test_parse_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="calling window") as raised:
        CallingWindow.parse(text)
    assert message in str(raised.value)


def test_weekend_hours_apply_on_saturday_and_sunday_only() -> None:
    # A week with no holiday near it (8 March 2025, a Saturday, moved a day off to the 10th).
    friday, saturday, sunday, monday = (datetime(2025, 3, d).date() for d in (14, 15, 16, 17))
    assert RU_230FZ.hours_on(friday) == (time(8, 0), time(22, 0))
    assert RU_230FZ.hours_on(saturday) == (time(9, 0), time(20, 0))
    assert RU_230FZ.hours_on(sunday) == (time(9, 0), time(20, 0))
    assert RU_230FZ.hours_on(monday) == (time(8, 0), time(22, 0))


# --- one zone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2025, 1, 15, 13, 59), False),  # 08:59 EST
        (utc(2025, 1, 15, 14, 0), True),  # 09:00 EST: the start is inside
        (utc(2025, 1, 16, 1, 59), True),  # 20:59 EST
        (utc(2025, 1, 16, 2, 0), False),  # 21:00 EST: the end is outside
    ],
)
def test_window_start_is_inside_and_end_is_outside(now: datetime, expected: bool) -> None:
    assert is_callable(now, ["America/New_York"], NINE_TO_NINE) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2025, 1, 15, 3, 0), utc(2025, 1, 15, 14, 0)),  # before the window: later today
        (utc(2025, 1, 15, 15, 30), utc(2025, 1, 15, 15, 30)),  # inside: now
        (utc(2025, 1, 16, 2, 0), utc(2025, 1, 16, 14, 0)),  # after: tomorrow
        (utc(2025, 3, 9, 5, 0), utc(2025, 3, 9, 13, 0)),  # the day clocks go forward: 09:00 EDT
        (utc(2025, 11, 2, 3, 0), utc(2025, 11, 2, 14, 0)),  # the day clocks go back: 09:00 EST
    ],
)
def test_next_callable_in_one_zone(now: datetime, expected: datetime) -> None:
    assert next_callable(now, ["America/New_York"], NINE_TO_NINE) == expected


def test_window_opening_inside_the_spring_gap_opens_when_clocks_jump() -> None:
    # 02:30 local never happens on 2025-03-09 in New York: 01:59 EST is followed by 03:00 EDT.
    window = CallingWindow(time(2, 30), time(21, 0))
    assert next_callable(utc(2025, 3, 9, 5, 0), ["America/New_York"], window) == utc(2025, 3, 9, 7, 0)
    assert not is_callable(utc(2025, 3, 9, 6, 59), ["America/New_York"], window)


def test_window_ending_inside_the_autumn_fold_opens_twice() -> None:
    # 01:00-02:00 local happens twice on 2025-11-02 in New York (EDT, then EST).
    window = CallingWindow(time(0, 0), time(1, 30))
    zones = ["America/New_York"]
    assert is_callable(utc(2025, 11, 2, 5, 15), zones, window)  # 01:15 EDT
    assert not is_callable(utc(2025, 11, 2, 5, 45), zones, window)  # 01:45 EDT
    assert next_callable(utc(2025, 11, 2, 5, 45), zones, window) == utc(2025, 11, 2, 6, 0)  # 01:00 EST


def test_weekend_hours_hold_back_saturday_morning() -> None:
    zones = ["Europe/Moscow"]  # UTC+3, no DST
    assert is_callable(utc(2025, 3, 7, 5, 0), zones, RU_230FZ)  # Friday 08:00
    assert not is_callable(utc(2025, 3, 8, 5, 0), zones, RU_230FZ)  # Saturday 08:00
    assert next_callable(utc(2025, 3, 8, 5, 0), zones, RU_230FZ) == utc(2025, 3, 8, 6, 0)
    assert next_callable(utc(2025, 3, 8, 17, 0), zones, RU_230FZ) == utc(2025, 3, 9, 6, 0)  # Sunday 09:00


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_callable(datetime(2025, 1, 15, 12, 0), ["Europe/Moscow"], NINE_TO_NINE)
    with pytest.raises(ValueError, match="aware"):
        next_callable(datetime(2025, 1, 15, 12, 0), ["Europe/Moscow"], NINE_TO_NINE)


# --- unknown zones and the many-zone trap ---------------------------------------------------


@pytest.mark.parametrize(
    ("zones", "message"),
    [
        ([], "no time zone"),
        (["Etc/Unknown"], "unknown time zone 'Etc/Unknown'"),
        (["Europe/Moscow", "Mars/Olympus_Mons"], "unknown time zone 'Mars/Olympus_Mons'"),
        (["../../etc/passwd"], "unknown time zone"),
    ],
)
def test_a_lead_without_a_known_zone_is_never_callable_and_is_reported(
    zones: list[str], message: str
) -> None:
    for hour in range(24):
        assert not is_callable(utc(2025, 1, 15, hour, 0), zones, NINE_TO_NINE)
    assert next_callable(utc(2025, 1, 15), zones, NINE_TO_NINE) is None
    problem = window_problem(zones, NINE_TO_NINE)
    assert problem is not None and message in problem


def test_russian_mobile_number_spans_sixteen_zones_from_utc_plus_2_to_plus_12() -> None:
    zones = russian_mobile_zones()
    offsets = {utc(2025, 1, 15).astimezone(ZoneInfo(z)).utcoffset() for z in zones}
    assert len(zones) == 16
    assert min(o for o in offsets if o is not None) == timedelta(hours=2)
    assert max(o for o in offsets if o is not None) == timedelta(hours=12)


def test_russian_mobile_number_is_callable_only_while_every_zone_is_open() -> None:
    # 09:00 in UTC+2 is 07:00 UTC; 21:00 in UTC+12 is 09:00 UTC.
    zones = russian_mobile_zones()
    assert next_callable(utc(2025, 1, 15, 0, 0), zones, NINE_TO_NINE) == utc(2025, 1, 15, 7, 0)
    assert is_callable(utc(2025, 1, 15, 8, 59), zones, NINE_TO_NINE)
    assert not is_callable(utc(2025, 1, 15, 9, 0), zones, NINE_TO_NINE)
    assert next_callable(utc(2025, 1, 15, 9, 0), zones, NINE_TO_NINE) == utc(2025, 1, 16, 7, 0)
    assert window_problem(zones, NINE_TO_NINE) is None


def test_a_narrow_window_over_many_zones_never_opens_and_is_reported() -> None:
    zones = russian_mobile_zones()
    office_hours = CallingWindow(time(10, 0), time(18, 0))
    now = utc(2025, 1, 15, 0, 0)
    assert next_callable(now, zones, office_hours) is None
    problem = window_problem(zones, office_hours, now)
    assert problem is not None
    assert "never opens in all 16 candidate zones" in problem
    assert "UTC+2 to UTC+12" in problem


def test_window_problem_without_a_window_checks_only_the_zones() -> None:
    assert window_problem(russian_mobile_zones()) is None
    assert window_problem(["Europe/Moscow"], CallingWindow(time(10, 0), time(11, 0))) is None


# --- properties ---------------------------------------------------------------------------------

ALL_ZONES = sorted(available_timezones())

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@st.composite
def windows(draw: st.DrawFn) -> CallingWindow:
    def hours() -> tuple[time, time]:
        start = draw(st.integers(0, 24 * 4 - 2)) * 15
        end = draw(st.integers(start // 15 + 1, 24 * 4 - 1)) * 15
        return time(start // 60, start % 60), time(end // 60, end % 60)

    start, end = hours()
    weekend = draw(st.none() | st.just(None).map(lambda _: hours()))
    return CallingWindow(start, end, weekend)


zone_sets = st.lists(st.sampled_from(ALL_ZONES), min_size=1, max_size=3)
# Zones whose clocks change, some by half an hour or at midnight, and instants around the changes.
DST_ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "America/Havana"]
dst_zone_sets = st.lists(st.sampled_from(DST_ZONES), min_size=1, max_size=2)
dst_instants = st.builds(
    lambda year, month, minutes: datetime(year, month, 1, tzinfo=UTC) + timedelta(minutes=minutes),
    st.integers(2024, 2030),
    st.sampled_from([3, 4, 9, 10, 11]),
    st.integers(0, 30 * 24 * 60),
)
russian_numbers = st.integers(9_000_000_000, 9_999_999_999).map(
    lambda n: list(phone_timezone.time_zones_for_number(phonenumbers.parse(f"+7{n}")))
)


def inside(now: datetime, zone: str, window: CallingWindow) -> bool:
    local = now.astimezone(ZoneInfo(zone))
    start, end = window.hours_on(local.date())
    return start <= local.time() < end


@given(instants | dst_instants, zone_sets | russian_numbers | dst_zone_sets, windows())
def test_callable_means_every_zone_is_inside_the_window(
    now: datetime, zones: list[str], window: CallingWindow
) -> None:
    known = all(z in ALL_ZONES for z in zones)
    assert is_callable(now, zones, window) == (known and all(inside(now, z, window) for z in zones))


@settings(max_examples=200, deadline=None)
@given(instants | dst_instants, zone_sets | russian_numbers | dst_zone_sets, windows())
def test_next_callable_is_callable_and_nothing_earlier_is(
    now: datetime, zones: list[str], window: CallingWindow
) -> None:
    found = next_callable(now, zones, window)
    # Minute steps up to the answer, or over the whole horizon when there is none.
    limit = found if found is not None else now + timedelta(days=7, hours=23)
    if found is not None:
        assert found >= now
        assert is_callable(found, zones, window)
    step = now
    while step < limit:
        assert not is_callable(step, zones, window), step
        step += timedelta(minutes=1)


def first_clock_change(zone: str, year: int, month: int) -> datetime | None:
    """The hour in which ``zone`` first changes its UTC offset in that month, found by plain scanning."""
    tz = ZoneInfo(zone)
    start = datetime(year, month, 1, tzinfo=UTC)
    before = start.astimezone(tz).utcoffset()
    for hour in range(1, 32 * 24):
        instant = start + timedelta(hours=hour)
        if instant.astimezone(tz).utcoffset() != before:
            return instant
    return None


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(DST_ZONES),
    st.integers(2024, 2030),
    st.sampled_from([3, 4, 9, 10, 11]),
    st.integers(0, 36 * 60),
    windows(),
)
def test_next_callable_across_a_clock_change(
    zone: str, year: int, month: int, minutes_before: int, window: CallingWindow
) -> None:
    change = first_clock_change(zone, year, month)
    if change is None:
        return
    now = change - timedelta(minutes=minutes_before)
    found = next_callable(now, [zone], window)
    assert found is not None  # one zone, a window of at least 15 minutes a day
    assert is_callable(found, [zone], window)
    step = now
    while step < found:
        assert not is_callable(step, [zone], window), step
        step += timedelta(minutes=1)


# --- days off (the ru-230fz profile) ---------------------------------------------------


def test_russian_days_off_keep_weekend_hours_under_the_230fz_profile() -> None:
    window = CallingWindow.parse("ru-230fz")
    assert str(window) == "08:00-22:00,09:00-20:00,holidays:ru"
    assert CallingWindow.parse(str(window)) == window
    moscow = ["Europe/Moscow"]
    # 8 March 2026 is a Sunday: Monday the 9th is the day off it moves to; Tuesday is a working day.
    assert window.hours_on(date(2026, 3, 9)) == (time(9, 0), time(20, 0))
    assert window.hours_on(date(2026, 3, 10)) == (time(8, 0), time(22, 0))
    assert window.hours_on(date(2026, 6, 12)) == (time(9, 0), time(20, 0))  # Russia Day, a Friday
    at_830 = datetime(2026, 3, 9, 5, 30, tzinfo=UTC)  # 08:30 in Moscow
    assert not is_callable(at_830, moscow, window)
    assert is_callable(at_830 + timedelta(days=1), moscow, window)
    assert next_callable(at_830, moscow, window) == datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
    # Without the calendar, the same Monday opens at 08:00.
    plain = CallingWindow.parse("08:00-22:00,09:00-20:00")
    assert is_callable(at_830, moscow, plain)


def test_the_russian_calendar_moves_weekend_holidays_but_not_january_ones() -> None:
    assert ru_day_off(date(2026, 5, 11))  # 9 May 2026 is a Saturday
    assert not ru_day_off(date(2026, 5, 12))
    assert ru_day_off(date(2027, 5, 10))  # 9 May 2027 is a Sunday
    assert not ru_day_off(date(2026, 1, 12))  # January holidays move only by decree
    assert ru_day_off(date(2026, 11, 4)) and not ru_day_off(date(2026, 11, 5))
    assert ru_day_off(date(2026, 12, 31))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08:00-22:00,holidays:ru", "weekends"),
        ("08:00-22:00,09:00-20:00,holidays:xx", "unknown holiday calendar"),
    ],
)
def test_a_holiday_calendar_needs_weekend_hours_and_a_known_name(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CallingWindow.parse(text)


# --- a window to midnight ------------------------------------------------------------


def test_24_00_ends_a_window_at_midnight_and_reads_back_as_written() -> None:
    all_day = CallingWindow.parse("00:00-24:00")
    assert str(all_day) == "00:00-24:00" and CallingWindow.parse(str(all_day)) == all_day
    evening = CallingWindow.parse("18:00-24:00,10:00-24:00")
    assert str(evening) == "18:00-24:00,10:00-24:00"
    with pytest.raises(InvalidInput, match="not a valid time of day"):
        CallingWindow.parse("24:00-23:00")


def test_a_window_to_24_00_is_open_in_the_days_last_minute_in_every_zone() -> None:
    zones = russian_mobile_zones()
    all_day, to_23_59 = CallingWindow.parse("00:00-24:00"), CallingWindow.parse("00:00-23:59")
    # 18:59:30 UTC is 23:59:30 in Yekaterinburg, one of a Russian mobile number's zones.
    last_minute = datetime(2026, 11, 30, 18, 59, 30, tzinfo=UTC)
    assert not is_callable(last_minute, zones, to_23_59)
    assert is_callable(last_minute, zones, all_day)
    assert next_callable(last_minute, zones, all_day) == last_minute
    for minute in range(0, 24 * 60, 7):  # every seventh minute of a day, the same answer
        moment = utc(2026, 11, 30) + timedelta(minutes=minute, seconds=30)
        assert is_callable(moment, zones, all_day) and next_callable(moment, zones, all_day) == moment
