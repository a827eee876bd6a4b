"""A number typed by hand gets its time zones as an imported lead does, on SQLite and PostgreSQL.

The window is 09:00-18:00. At 09:00 UTC it is noon in Moscow and 19:00 in Vladivostok; at
00:00 UTC it is 03:00 in Moscow and 10:00 in Vladivostok. A Russian mobile with only the zones
libphonenumber gives (all of Russia) is callable at neither hour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import DirectCall, Lead
from campaigns.store import session_scope
from dialer.services import direct_calls
from dialer.services.callbacks import FieldProblem
from lists.numbering import load_numbering
from tests.console_helpers import console_campaign, operator_account

pytestmark = pytest.mark.every_store

MOSCOW_NOON = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
VLADIVOSTOK_MORNING = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
MOSCOW_MOBILE = "+7 916 555-01-01"
VLADIVOSTOK_MOBILE = "+7 924 555-01-01"
UNLISTED_MOBILE = "+7 977 555-01-01"  # no range of the plan holds it


@pytest.fixture
def sales(store: Engine, tmp_path: Path) -> Engine:
    console_campaign(store, "sales", region="RU", window="09:00-18:00")
    operator_account(store, "anna", "op1", "sales")
    registry = tmp_path / "DEF-9xx.csv"
    lines = [
        "АВС/ DEF;От;До;Емкость;Оператор;Регион",
        '916;0000000;9999999;10000000;ПАО "Мобильные ТелеСистемы";г. Москва и Московская область',
        '924;0000000;9999999;10000000;ПАО "МегаФон";Приморский край',
    ]
    registry.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    load_numbering(store, [registry])
    return store


def _zones_of(store: Engine, request: int) -> str:
    with Session(store) as session:
        row = session.get(DirectCall, request)
        assert row is not None
        lead = session.get(Lead, row.lead_id)
        assert lead is not None
        return lead.time_zones


def _refused(store: Engine, phone: str, now: datetime, place: str = "") -> FieldProblem:
    with pytest.raises(FieldProblem) as caught:
        direct_calls.manual_dial(store, "op1", phone, place=place, now=now)
    return caught.value


def _leads(store: Engine) -> list[Lead]:
    with Session(store) as session:
        return list(session.exec(select(Lead)).all())


def test_a_moscow_range_is_callable_at_moscow_noon_and_a_vladivostok_range_is_not(sales: Engine) -> None:
    request = direct_calls.manual_dial(sales, "op1", MOSCOW_MOBILE, now=MOSCOW_NOON)
    assert _zones_of(sales, request) == "Europe/Moscow"
    refused = _refused(sales, VLADIVOSTOK_MOBILE, MOSCOW_NOON)
    assert refused.field == "phone" and "window" in str(refused)
    assert [lead.phone for lead in _leads(sales)] == ["+79165550101"]  # the refused one left nothing


def test_a_vladivostok_range_is_callable_in_its_morning_and_a_moscow_range_is_not(sales: Engine) -> None:
    request = direct_calls.manual_dial(sales, "op1", VLADIVOSTOK_MOBILE, now=VLADIVOSTOK_MORNING)
    assert _zones_of(sales, request) == "Asia/Vladivostok"
    refused = _refused(sales, MOSCOW_MOBILE, VLADIVOSTOK_MORNING)
    assert refused.field == "phone" and "window" in str(refused)


def test_a_number_outside_the_plan_falls_back_to_every_russian_zone(sales: Engine) -> None:
    for moment in (MOSCOW_NOON, VLADIVOSTOK_MORNING):
        assert _refused(sales, UNLISTED_MOBILE, moment).field == "phone"
    assert _leads(sales) == []


def test_a_typed_city_or_region_comes_before_the_plan(sales: Engine) -> None:
    # The operator knows better than the range: a Moscow-range mobile of a customer in Vladivostok.
    request = direct_calls.manual_dial(
        sales, "op1", MOSCOW_MOBILE, place="Владивосток", now=VLADIVOSTOK_MORNING
    )
    assert _zones_of(sales, request) == "Asia/Vladivostok"
    with Session(sales) as session:
        lead = session.exec(select(Lead)).one()
        assert lead.data == {"source": "manual", "place": "Владивосток"}
    request = direct_calls.manual_dial(
        sales, "op1", UNLISTED_MOBILE, place="Приморский край", now=VLADIVOSTOK_MORNING
    )
    assert _zones_of(sales, request) == "Asia/Vladivostok"


def test_an_unknown_place_is_refused_at_its_field_and_nothing_is_written(sales: Engine) -> None:
    refused = _refused(sales, MOSCOW_MOBILE, MOSCOW_NOON, place="Нигдевск")
    assert refused.field == "place"
    assert _leads(sales) == []


def test_a_number_already_a_lead_keeps_the_zones_of_its_import(sales: Engine) -> None:
    with session_scope(sales) as session:
        session.add(Lead(campaign_id=1, phone="+79165550101", time_zones="Asia/Vladivostok"))
    refused = _refused(sales, MOSCOW_MOBILE, MOSCOW_NOON)
    assert refused.field == "phone" and "window" in str(refused)
    request = direct_calls.manual_dial(sales, "op1", MOSCOW_MOBILE, now=VLADIVOSTOK_MORNING)
    assert _zones_of(sales, request) == "Asia/Vladivostok"
