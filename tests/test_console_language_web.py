"""What the console answers a form with is in the operator's own language (over HTTP, in process).

The services refuse in English (the reasons are stored and compared in English); the console
translates at the field. A Russian operator and an English one make the same refused requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from campaigns.models import Callback, DirectCall, DncEntry, Lead, utcnow
from campaigns.store import session_scope
from dialer.services import accounts, callbacks, dispositions
from dialer.services.operators import add_operator
from dialer.web.app import create_app
from tests.console_helpers import PASSWORD, connected_call, console_campaign
from tests.engine_helpers import open_zone
from tests.test_console_web import log_in

MOSCOW = ZoneInfo("Europe/Moscow")


def _closed_now() -> str:
    """A calling window that Moscow is outside of now (and at 22:00 on any day)."""
    return "13:00-20:00" if datetime.now(MOSCOW).hour < 12 else "08:00-10:00"


@pytest.fixture
def app_store(store: Engine) -> Engine:
    night = console_campaign(store, "night", region="RU", window=_closed_now())
    preview = console_campaign(store, "pv", "q2", mode="preview", window="00:00-23:59")
    for user, operator, language in (("vera", "op3", "ru"), ("anna", "op1", "en")):
        add_operator(store, operator, f"Local/{operator}@sim-operators/n", ["night", "pv"])
        accounts.add_user(store, user, "operator", PASSWORD, operator=operator, language=language)
    dispositions.add_code(store, "night", "later", "Call back", callback=True)
    callbacks.change_settings(store, "pv", preview_hold="30s")
    with session_scope(store) as session:
        session.add(DncEntry(phone="+79161234567"))
        for phone in ("+79001230001", "+79001230002"):
            session.add(Lead(campaign_id=preview, phone=phone, time_zones=open_zone()))
    assert night
    return store


@pytest.fixture
def client(app_store: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(app_store), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _post(client: TestClient, url: str, csrf: str, **data: str) -> tuple[int, dict[str, object]]:
    response = client.post(url, data=data, headers={"X-CSRF-Token": csrf})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("user", "do_not_call", "outside"),
    [
        (
            "vera",
            "сейчас звонить нельзя: номер в списке запрета звонков",
            "сейчас звонить нельзя: вне окна звонков",
        ),
        ("anna", "not allowed now: on a do-not-call list", "not allowed now: outside the calling window"),
    ],
)
def test_a_refused_manual_dial_is_explained_at_the_phone_field_in_the_operators_language(
    client: TestClient, app_store: Engine, user: str, do_not_call: str, outside: str
) -> None:
    csrf = log_in(client, user)
    assert _post(client, "/dial", csrf, phone="8 916 123-45-67", campaign="night") == (
        400,
        {"ok": False, "error": do_not_call, "field": "phone"},
    )
    assert _post(client, "/dial", csrf, phone="+7 495 123-45-67", campaign="night") == (
        400,
        {"ok": False, "error": outside, "field": "phone"},
    )
    status, body = _post(client, "/dial", csrf, phone="12ab", campaign="night")
    assert status == 400 and body["field"] == "phone"
    assert ("не номер телефона" if user == "vera" else "not a phone number") in str(body["error"])
    with Session(app_store) as session:
        assert session.exec(select(DirectCall)).all() == []


def test_a_callback_outside_the_window_is_refused_in_russian_at_its_field(
    client: TestClient, app_store: Engine
) -> None:
    attempt, _lead = connected_call(app_store, 1, "op3", "+79001239999")
    csrf = log_in(client, "vera")
    tomorrow = datetime.now(MOSCOW).date() + timedelta(days=1)
    fields = {"code": "later", "callback_at": f"{tomorrow}T22:00", "callback_for": "me"}
    status, body = _post(client, f"/calls/{attempt}/disposition", csrf, **fields)
    assert status == 400 and body["field"] == "callback_at"
    assert str(body["error"]).startswith("вне окна звонков; ближайшее разрешённое время 20")
    opens = _closed_now()[:5]  # the next time is given in the zone the time was entered in
    assert str(body["error"]).endswith(f"{tomorrow + timedelta(days=1)} {opens} (Europe/Moscow)")
    status, body = _post(client, f"/calls/{attempt}/disposition", csrf, **{**fields, "callback_at": "вчера"})
    assert (status, body["error"]) == (400, "введите дату и время, например 2026-12-01T15:30")
    with Session(app_store) as session:
        assert session.exec(select(Callback)).all() == []


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("vera", "время брони истекло: возьмите следующего клиента"),
        ("anna", "the reservation ran out: take the next lead"),
    ],
)
@pytest.mark.parametrize("press", ["call", "skip"])
def test_a_reservation_that_ran_out_is_refused_at_the_call_button(
    client: TestClient, app_store: Engine, user: str, message: str, press: str
) -> None:
    csrf = log_in(client, user)
    status, body = _post(client, "/preview/next", csrf)
    assert status == 200
    lead = int(str(body["lead"]))
    with session_scope(app_store) as session:  # past its hold; the periodic release has not run yet
        session.get(Lead, lead).claimed_at = utcnow() - timedelta(seconds=31)  # type: ignore[union-attr]
    assert _post(client, f"/preview/{lead}/{press}", csrf) == (
        400,
        {"ok": False, "error": message, "field": "preview"},
    )
    with Session(app_store) as session:
        assert session.exec(select(DirectCall)).all() == []
        assert session.get(Lead, lead).claimed_by is None  # type: ignore[union-attr]
    assert 'id="preview-next"' in client.get("/").text  # the screen offers the next lead
