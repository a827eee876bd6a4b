"""Contact-frequency limits as pure time logic: parsing, the next allowed instant, breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.contact_limits import (
    ContactLimit,
    ContactLimits,
    format_limits,
    longest_period,
    next_allowed,
    over_limits,
    parse_limits,
)

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
RU_230FZ = (ContactLimit(1, D), ContactLimit(2, 7 * D), ContactLimit(8, 31 * D))


def brute_force_valid(contacts: list[datetime], limits: ContactLimits) -> bool:
    """Every window (t - period, t] ending at a contact holds at most count contacts."""
    return all(
        sum(1 for c in contacts if end - limit.period < c <= end) <= limit.count
        for end in contacts
        for limit in limits
    )


# --- parsing -------------------------------------------------------------------------


def test_profile_ru_230fz_is_once_a_day_twice_a_week_eight_times_in_31_days() -> None:
    assert parse_limits("ru-230fz") == RU_230FZ
    assert parse_limits(" RU-230FZ ") == RU_230FZ
    assert format_limits(parse_limits("ru-230fz")) == "1/1d,2/7d,8/31d"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("  ", ()),
        ("1/1d", (ContactLimit(1, D),)),
        ("3/12h, 5 / 2d", (ContactLimit(3, 12 * H), ContactLimit(5, 2 * D))),
        ("1/24h", (ContactLimit(1, D),)),
    ],
)
def test_limits_parse(text: str, expected: ContactLimits) -> None:
    assert parse_limits(text) == expected


@pytest.mark.parametrize(
    ("text", "canonical"), [("1/24h", "1/1d"), ("3/12h,5/2d", "3/12h,5/2d"), ("2/36h", "2/36h"), ("", "")]
)
def test_format_is_canonical_and_reads_back(text: str, canonical: str) -> None:
    assert format_limits(parse_limits(text)) == canonical
    assert parse_limits(canonical) == parse_limits(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0/1d", "expected 1 to"),
        ("1/0d", "more than 0"),
        ("1/0h", "more than 0"),
        ("1/1w", "not N/PERIOD"),
        ("1d", "not N/PERIOD"),
        ("-1/1d", "not N/PERIOD"),
        ("1/1d,", "not N/PERIOD"),
        ("1/400d", "366d"),
        ("ru-230", "ru-230fz"),
    ],
)
def test_bad_limits_are_refused_naming_the_part(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_limits(text)


def test_longest_period() -> None:
    assert longest_period(RU_230FZ) == 31 * D
    assert longest_period(()) == timedelta(0)


# --- next allowed instant ----------------------------------------------------------------


def test_no_limits_or_no_contacts_allow_a_call_now() -> None:
    assert next_allowed([NOW - H], (), NOW) is None
    assert next_allowed([], RU_230FZ, NOW) is None


def test_once_a_day_waits_24_hours_from_the_last_contact() -> None:
    assert next_allowed([NOW - 2 * H], (ContactLimit(1, D),), NOW) == NOW + 22 * H


def test_a_contact_exactly_one_period_ago_is_out_of_the_window() -> None:
    assert next_allowed([NOW - D], (ContactLimit(1, D),), NOW) is None


def test_twice_a_week_waits_for_the_older_contact_to_leave_the_week() -> None:
    contacts = [NOW - 6 * D, NOW - 3 * D]
    assert next_allowed(contacts, RU_230FZ, NOW) == NOW + D


def test_eight_in_31_days_waits_for_the_oldest_of_the_eight() -> None:
    contacts = [NOW - (30 - 4 * i) * D for i in range(8)]  # every 4 days, the last 2 days ago
    assert next_allowed(contacts, RU_230FZ, NOW) == contacts[0] + 31 * D == NOW + D


@pytest.mark.parametrize("order", [1, -1])
def test_the_limit_that_waits_longest_decides_whatever_the_order(order: int) -> None:
    contacts = [NOW - 5 * D, NOW - 12 * H]  # the day allows NOW + 12 h, the week NOW + 2 d
    limits = (ContactLimit(1, D), ContactLimit(2, 7 * D))[::order]
    assert next_allowed(contacts, limits, NOW) == NOW + 2 * D


def test_a_history_already_over_a_limit_waits_until_it_is_under_again() -> None:
    # Three in a week under 2/7d: two must leave the week before one more is allowed.
    contacts = [NOW - 3 * D, NOW - 2 * D, NOW - H]
    assert next_allowed(contacts, (ContactLimit(2, 7 * D),), NOW) == NOW - 2 * D + 7 * D


def test_contacts_stamped_after_now_still_count() -> None:
    assert next_allowed([NOW + H], (ContactLimit(1, D),), NOW) == NOW + H + D


# --- breaches ---------------------------------------------------------------------------


def test_over_limits_flags_the_contact_that_broke_a_window() -> None:
    contacts = [NOW, NOW - 30 * H, NOW - 2 * D, NOW - 10 * D]
    # Three in the week ending NOW: the third (NOW) is over 2/7d; 2 days ago and 30 h ago are 6 h apart.
    assert over_limits(contacts, RU_230FZ) == [True, True, False, False]
    assert over_limits(contacts, ()) == [False] * 4


def test_contacts_at_the_same_instant_are_all_flagged() -> None:
    assert over_limits([NOW, NOW], (ContactLimit(1, D),)) == [True, True]


# --- properties ---------------------------------------------------------------------------

limit_sets = st.lists(
    st.builds(ContactLimit, st.integers(1, 4), st.integers(1, 24 * 10).map(lambda h: h * H)),
    min_size=1,
    max_size=3,
)
# Minutes between one wish to call and the next.
gaps = st.lists(st.integers(0, 60 * 24 * 3), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(limits=limit_sets, waits=gaps)
def test_contacts_placed_at_next_allowed_never_break_a_limit(
    limits: list[ContactLimit], waits: list[int]
) -> None:
    rules = tuple(limits)
    history: list[datetime] = []
    wish = NOW
    for wait in waits:
        wish = max([wish, *history]) + timedelta(minutes=wait)
        at = next_allowed(history, rules, wish)
        placed = wish if at is None else at
        assert placed >= wish
        history.append(placed)
        assert brute_force_valid(history, rules)
        assert not any(over_limits(history, rules))
        if at is not None:
            # The earliest: a microsecond sooner would break a limit.
            sooner = at - timedelta(microseconds=1)
            assert sooner < wish or not brute_force_valid([*history[:-1], sooner], rules)


@settings(max_examples=200, deadline=None)
@given(
    limits=limit_sets,
    offsets=st.lists(st.integers(0, 60 * 24 * 20), max_size=12),
)
def test_over_limits_agrees_with_brute_force(limits: list[ContactLimit], offsets: list[int]) -> None:
    rules = tuple(limits)
    contacts = [NOW + timedelta(minutes=m) for m in offsets]
    flags = over_limits(contacts, rules)
    for contact, flag in zip(contacts, flags, strict=True):
        inside = [c for c in contacts if c <= contact]
        expected = any(sum(1 for c in inside if contact - limit.period < c) > limit.count for limit in rules)
        assert flag == expected
    assert (not any(flags)) == brute_force_valid(contacts, rules)
