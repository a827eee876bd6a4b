"""A lead's time zones: region and city names, written offsets, the order of precedence, list hours."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.window import CallingWindow
from dialer.core.errors import FieldRejected as PhoneRejected
from lists.lead_zones import LeadZones, ZoneSource, explicit_zone, list_hours, next_week_start
from lists.phones import PhoneNormalizer
from lists.ru_regions import SUBJECTS, city_zones, subject_zones, subjects_named

WEEK = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
WINDOW = CallingWindow.parse("09:00-21:00")
MOSCOW = "Europe/Moscow"
YAKUTIA = ("Asia/Yakutsk", "Asia/Ust-Nera", "Asia/Srednekolymsk")


@pytest.mark.parametrize(
    ("name", "zones"),
    [
        ("г. Москва", (MOSCOW,)),
        ("Московская обл.", (MOSCOW,)),
        ("г. Москва и Московская область", (MOSCOW,)),
        ("Республика Саха (Якутия)", YAKUTIA),
        ("Республика Саха /Якутия/", YAKUTIA),
        ("Sakha (Yakutia) Republic", YAKUTIA),
        ("Новосибирская обл.", ("Asia/Novosibirsk",)),
        ("  НОВОСИБИРСКАЯ   область ", ("Asia/Novosibirsk",)),
        ("Novosibirsk Oblast", ("Asia/Novosibirsk",)),
        ("Ханты - Мансийский - Югра АО", ("Asia/Yekaterinburg",)),
        ("Ямало-Ненецкий АО", ("Asia/Yekaterinburg",)),
        ("Ненецкий АО", (MOSCOW,)),
        ("Кемеровская область - Кузбасс", ("Asia/Novokuznetsk",)),
        ("г.о. город Нефтекамск|Республика Башкортостан", ("Asia/Yekaterinburg",)),
        ("Калининградская обл.", ("Europe/Kaliningrad",)),
        ("Камчатский край", ("Asia/Kamchatka",)),
        ("Российская Федерация", ()),
        ("", ()),
    ],
)
def test_region_names_are_read_tolerantly(name: str, zones: tuple[str, ...]) -> None:
    assert subject_zones(name) == zones


def test_every_subject_is_found_by_its_own_name_and_has_real_zones() -> None:
    assert len(SUBJECTS) == 89
    for subject in SUBJECTS:
        assert subjects_named(subject.name) == (subject,), subject.name
        for zone in subject.zones:
            ZoneInfo(zone)
    assert sum(len(s.zones) > 1 for s in SUBJECTS) == 1  # only Yakutia spans several zones


@pytest.mark.parametrize(
    ("city", "zones"),
    [
        ("Москва", (MOSCOW,)),
        ("Якутск", ("Asia/Yakutsk",)),
        ("Нижний Новгород", (MOSCOW,)),
        ("Новосибирск", ("Asia/Novosibirsk",)),
        ("Yekaterinburg", ("Asia/Yekaterinburg",)),
        ("Томск", ("Asia/Tomsk",)),
        ("Омск", ("Asia/Omsk",)),
        ("Минск", ()),
    ],
)
def test_cities(city: str, zones: tuple[str, ...]) -> None:
    assert city_zones(city) == zones


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("МСК+4", "Asia/Novosibirsk"),
        ("мск + 6", "Asia/Yakutsk"),
        ("MSK-1", "Europe/Kaliningrad"),
        ("МСК", MOSCOW),
        ("UTC+7", "Etc/GMT-7"),
        ("GMT-5", "Etc/GMT+5"),
        ("UTC", "Etc/UTC"),
        ("Asia/Omsk", "Asia/Omsk"),
        ("", ""),
    ],
)
def test_a_written_zone(text: str, zone: str) -> None:
    assert explicit_zone(text) == zone


@pytest.mark.parametrize("text", ["МСК+12", "UTC+5:30", "UTC+15", "Mars/Olympus", "7"])
def test_an_unreadable_zone_rejects_the_row(text: str) -> None:
    with pytest.raises(PhoneRejected, match=r"time zone"):
        explicit_zone(text)


def test_utc_plus_seven_is_seven_hours_ahead() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC).astimezone(ZoneInfo(explicit_zone("UTC+7")))
    assert at.utcoffset() is not None and at.utcoffset().total_seconds() == 7 * 3600  # type: ignore[union-attr]


class _Plan:
    """A numbering plan that knows one number: our own port, faked for a pure test."""

    loaded = True

    def zones(self, e164: str) -> tuple[str, ...]:
        return ("Asia/Novosibirsk",) if e164 == "+79130000001" else ()


def test_the_order_of_precedence() -> None:
    phone = PhoneNormalizer("RU").normalize("+79130000001")
    other = PhoneNormalizer("RU").normalize("+79160000001")
    zones = LeadZones(_Plan())
    assert zones.resolve(phone, "МСК+1", "Якутск", "Омская обл.") == ("Europe/Samara", ZoneSource.TZ_COLUMN)
    assert zones.resolve(phone, "", "Якутск", "Омская обл.") == ("Asia/Yakutsk", ZoneSource.PLACE)
    assert zones.resolve(phone, "", "Атлантида", "Омская обл.") == ("Asia/Omsk", ZoneSource.PLACE)
    assert zones.resolve(phone, "", "Атлантида", "") == ("Asia/Novosibirsk", ZoneSource.REGISTRY)
    fallback, source = zones.resolve(other, "", "", "")
    assert source is ZoneSource.INTERSECTION and len(fallback.split(",")) > 10
    landline = PhoneNormalizer("RU").normalize("+74951234567")
    assert LeadZones(None).resolve(landline, "", "", "") == (MOSCOW, ZoneSource.NUMBER)


def test_list_hours_for_one_zone_and_for_every_russian_zone() -> None:
    moscow = list_hours({MOSCOW: 10}, WINDOW, WEEK)
    assert (moscow.leads, moscow.median, moscow.fewest, moscow.any_lead, moscow.short) == (10, 12, 12, 12, 0)
    mobile = PhoneNormalizer("RU").normalize("+79161234567").zones
    strict = list_hours({mobile: 3}, WINDOW, WEEK)
    assert strict.median == pytest.approx(2.0)  # UTC+2 opens at 07:00 UTC, UTC+12 closes at 09:00 UTC
    assert strict.short == 3 and strict.is_short


def test_list_hours_for_a_mixed_list() -> None:
    hours = list_hours(
        {MOSCOW: 2, "Asia/Novosibirsk": 1, ",".join(YAKUTIA): 1}, CallingWindow.parse("09:00-21:00"), WEEK
    )
    # Moscow 06-18 UTC, Novosibirsk 02-14 UTC, Yakutia's three zones together 00-10 UTC.
    assert (hours.fewest, hours.median, hours.any_lead, hours.short) == (10, 12, 18, 0)


def test_list_hours_average_a_shorter_weekend() -> None:
    hours = list_hours({MOSCOW: 1}, CallingWindow.parse("08:00-22:00,09:00-20:00"), WEEK)
    assert hours.median == pytest.approx((5 * 14 + 2 * 11) / 7)


def test_the_reference_week_starts_on_the_next_monday() -> None:
    assert next_week_start(datetime(2026, 11, 30, 4, 27, tzinfo=UTC)) == datetime(2026, 12, 7, tzinfo=UTC)
    assert next_week_start(datetime(2026, 12, 6, 23, 0, tzinfo=UTC)) == datetime(2026, 12, 7, tzinfo=UTC)
