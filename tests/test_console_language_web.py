"""What the console answers a form with is in the operator's own language (over HTTP, in process).

The services refuse in English (the reasons are stored and compared in English); the console
translates at the field. A Russian operator and an English one make the same refused requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from campaigns.models import Callback, DirectCall, DncEntry, Lead, WebSession, utcnow
from campaigns.store import session_scope
from dialer.services import accounts, callbacks, dispositions
from dialer.services.operators import add_operator
from dialer.web.app import create_app
from tests.console_helpers import PASSWORD, connected_call, console_campaign, csrf_of
from tests.engine_helpers import open_zone
from tests.test_console_web import log_in

MOSCOW = ZoneInfo("Europe/Moscow")


def _closed_now() -> str:
    """A calling window that Moscow is outside of now (and at 22:00 on any day)."""
    return "13:00-20:00" if datetime.now(MOSCOW).hour < 12 else "08:00-10:00"


@pytest.fixture
def app_store(store: Engine) -> Engine:
    night = console_campaign(store, "night", region="RU", window=_closed_now())
    preview = console_campaign(store, "pv", "q2", mode="preview", window="00:00-24:00")
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


SESSION_ENDED = {"ru": "сеанс завершён: войдите снова", "en": "your session has ended: log in again"}
OUT_OF_DATE = {
    "ru": "страница устарела: обновите её и повторите",
    "en": "this page is out of date: reload it and try again",
}
# Every request the page's scripts make, as they make it (the stream's too).
SCRIPT_CALLS = [
    ("POST", "/dial"),
    ("POST", "/preview/next"),
    ("POST", "/preview/1/call"),
    ("POST", "/state"),
    ("POST", "/calls/x/disposition"),
    ("POST", "/leads/1/edit"),
    ("GET", "/events"),
]


def _refusals(client: TestClient, csrf: str = "") -> set[tuple[int, str]]:
    """What each of the page's requests gets: (status, JSON body) once each, as a set."""
    answers = set()
    for method, url in SCRIPT_CALLS:
        data = {"phone": "+79001230009"} if method == "POST" else None
        response = client.request(method, url, data=data, headers={"X-CSRF-Token": csrf})
        assert response.headers["content-type"] == "application/json", (url, response.text)
        answers.add((response.status_code, json.dumps(response.json(), ensure_ascii=False)))
    return answers


def _body(error: str) -> str:
    return json.dumps({"ok": False, "error": error}, ensure_ascii=False)


@pytest.mark.every_store
def test_without_a_session_scripts_get_401_in_json_and_the_browser_goes_to_log_in(client: TestClient) -> None:
    """Nobody is known: the message speaks the login page's language."""
    assert _refusals(client) == {(401, _body(SESSION_ENDED["ru"]))}
    for headers in ({"Sec-Fetch-Mode": "navigate"}, {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}):
        page = client.post("/state", data={"state": "ready"}, headers=headers, follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (303, "/login")
    stream = client.get("/events", headers={"Accept": "text/event-stream", "Sec-Fetch-Mode": "cors"})
    assert (stream.status_code, stream.json()) == (401, {"ok": False, "error": SESSION_ENDED["ru"]})


@pytest.mark.every_store
@pytest.mark.parametrize(("user", "language"), [("vera", "ru"), ("anna", "en")])
def test_a_session_that_ended_is_told_so_in_its_users_language(
    client: TestClient, app_store: Engine, user: str, language: str
) -> None:
    csrf = log_in(client, user)
    with session_scope(app_store) as session:  # the shift's session runs out
        for row in session.exec(select(WebSession)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    assert _refusals(client, csrf) == {(401, _body(SESSION_ENDED[language]))}
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


@pytest.mark.every_store
@pytest.mark.parametrize(("user", "language"), [("vera", "ru"), ("anna", "en")])
def test_a_missing_or_wrong_csrf_token_gets_403_in_the_users_language(
    client: TestClient, app_store: Engine, user: str, language: str
) -> None:
    log_in(client, user)
    forbidden = {(403, _body(OUT_OF_DATE[language]))}
    answers = set()
    for method, url in SCRIPT_CALLS[:-1]:  # the stream changes nothing: it needs no token
        for token in ("", "stale"):
            response = client.request(method, url, data={}, headers={"X-CSRF-Token": token} if token else {})
            answers.add((response.status_code, json.dumps(response.json(), ensure_ascii=False)))
    assert answers == forbidden
    page = client.post("/logout", data={"csrf": "stale"}, headers={"Sec-Fetch-Mode": "navigate"})
    assert page.status_code == 403 and "text/html" in page.headers["content-type"]
    assert f'<p class="error" id="refused">{OUT_OF_DATE[language]}</p>' in page.text
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in
    with Session(app_store) as session:
        assert session.exec(select(DirectCall)).all() == []


@pytest.mark.every_store
def test_a_user_who_is_not_an_operator_is_told_so(client: TestClient, app_store: Engine) -> None:
    accounts.add_user(app_store, "sam", "supervisor", PASSWORD, language="en")
    csrf = log_in(client, "sam")
    response = client.post("/dial", data={"phone": "+79001230009"}, headers={"X-CSRF-Token": csrf})
    assert (response.status_code, response.json()) == (
        401,
        {"ok": False, "error": "only an operator can do this"},
    )
    page = client.post("/preview/next", headers={"X-CSRF-Token": csrf, "Sec-Fetch-Mode": "navigate"})
    assert page.status_code == 200 and 'id="team-panel"' in page.text  # a navigation: home instead


@pytest.mark.every_store
def test_a_login_form_that_expired_is_shown_again_with_the_reason(client: TestClient) -> None:
    fields = {"name": "vera", "password": PASSWORD, "csrf": "old"}
    page = client.post("/login", data=fields, headers={"Sec-Fetch-Mode": "navigate"}, follow_redirects=False)
    assert page.status_code == 403 and 'id="login-error">форма входа устарела: войдите снова<' in page.text
    assert 'value="vera"' in page.text and PASSWORD not in page.text
    again = {**fields, "csrf": csrf_of(page.text)}  # the form comes back with a new token
    assert client.post("/login", data=again, follow_redirects=False).status_code == 303
    client.cookies.clear()
    script = client.post("/login", data=fields)
    assert (script.status_code, script.json()) == (403, {"ok": False, "error": OUT_OF_DATE["ru"]})


LOG_IN = {
    "ru": '<button type="submit" id="login">Войти</button>',
    "en": '<button type="submit" id="login">Log in</button>',
}


@pytest.mark.every_store
@pytest.mark.parametrize(
    ("accept", "language"),
    [
        (None, "ru"),
        ("ru-RU,ru;q=0.9", "ru"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,en;q=0.5", "en"),
        ("de", "ru"),
    ],
)
def test_the_login_page_speaks_the_browsers_language_and_russian_by_default(
    client: TestClient, accept: str | None, language: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    page = client.get("/login", headers=headers)
    assert page.status_code == 200 and LOG_IN[language] in page.text
    refused = client.post(
        "/login", data={"name": "vera", "password": "wrong", "csrf": csrf_of(page.text)}, headers=headers
    )
    assert refused.status_code == 401 and LOG_IN[language] in refused.text
    stream = client.get(
        "/events", headers={**headers, "Accept": "text/event-stream", "Sec-Fetch-Mode": "cors"}
    )
    assert (stream.status_code, stream.json()) == (401, {"ok": False, "error": SESSION_ENDED[language]})


@pytest.mark.every_store
@pytest.mark.parametrize(("user", "language"), [("vera", "ru"), ("anna", "en")])
def test_after_a_logout_the_login_page_speaks_the_last_users_language(
    client: TestClient, user: str, language: str
) -> None:
    other = {"ru": "en-US,en;q=0.9", "en": "ru-RU,ru;q=0.9"}[language]  # the browser asks for the other one
    csrf = log_in(client, user)
    client.post("/logout", data={"csrf": csrf}, headers={"Accept-Language": other})
    assert LOG_IN[language] in client.get("/login", headers={"Accept-Language": other}).text
