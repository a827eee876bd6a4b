"""The console over HTTP (in process): sessions, CSRF, who may see what, dispositions, no secrets logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from campaigns.models import CallAttempt, Lead
from dialer.web.app import create_app
from tests.console_helpers import PASSWORD, connected_call, console_campaign, csrf_of, operator_account


@pytest.fixture
def app_store(store: Engine) -> Engine:
    console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    operator_account(store, "boris", "op2", "spring")
    return store


@pytest.fixture
def client(app_store: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(app_store), base_url="http://127.0.0.1") as test_client:
        yield test_client


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)


def test_without_a_session_pages_redirect_and_actions_get_401(client: TestClient) -> None:
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert client.get("/events").status_code == 401
    assert client.post("/state", data={"state": "ready"}).status_code == 401
    assert client.post("/calls/x/disposition", data={"code": "sale"}).status_code == 401
    assert client.get("/leads/1", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_http_only_and_same_site(client: TestClient) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"name": "anna", "password": PASSWORD, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "dialer_session" in v)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_a_login_without_its_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post("/login", data={"name": "anna", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403


def test_wrong_passwords_get_401_then_429(client: TestClient) -> None:
    csrf = csrf_of(client.get("/login").text)
    statuses = [
        client.post("/login", data={"name": "anna", "password": "nope-nope", "csrf": csrf}).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_state_changes_need_the_csrf_token(client: TestClient, app_store: Engine) -> None:
    csrf = log_in(client, "anna")
    assert client.post("/state", data={"state": "ready"}).status_code == 403
    assert client.post("/state", data={"state": "ready", "csrf": "wrong"}).status_code == 403
    ok = client.post("/state", data={"state": "ready"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200
    page = client.get("/").text
    assert 'id="desired" data-state="ready">ready<' in page
    assert 'id="observed" data-state="logged_out">logged_out<' in page
    assert client.post("/logout", data={}).status_code == 403


def test_a_bad_state_is_answered_next_to_the_field(client: TestClient) -> None:
    csrf = log_in(client, "anna")
    response = client.post("/state", data={"state": "dance"}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 400 and response.json()["field"] == "reason"


def test_an_operator_cannot_read_another_operators_lead(client: TestClient, app_store: Engine) -> None:
    cid = 1
    attempt, lead = connected_call(app_store, cid, "op1", "+79005550001", name="Анна Каренина")
    log_in(client, "boris")
    csrf = csrf_of(client.get("/").text)
    assert client.get(f"/leads/{lead}").status_code == 404
    assert client.get(f"/calls/{attempt}").status_code == 404
    assert "Анна Каренина" not in client.get("/").text
    refused = client.post(
        f"/calls/{attempt}/disposition", data={"code": "sale"}, headers={"X-CSRF-Token": csrf}
    )
    assert refused.status_code == 404
    client.post("/logout", data={"csrf": csrf})
    log_in(client, "anna")
    assert "Анна Каренина" in client.get(f"/leads/{lead}").text
    assert "Анна Каренина" in client.get("/").text  # the pop on the operator's own screen


def test_a_disposition_lands_on_the_attempt_and_closes_the_lead(
    client: TestClient, app_store: Engine
) -> None:
    attempt, lead = connected_call(app_store, 1, "op1", "+79005550002", name="<script>alert(1)</script>")
    csrf = log_in(client, "anna")
    page = client.get("/").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert client.post(f"/calls/{attempt}/disposition", data={"code": "sale"}).status_code == 403
    bad = client.post(f"/calls/{attempt}/disposition", data={"code": "nope"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400 and bad.json()["field"] == "code"
    done = client.post(
        f"/calls/{attempt}/disposition",
        data={"code": "sale", "note": "Monday"},
        headers={"X-CSRF-Token": csrf},
    )
    assert done.status_code == 200 and done.json()["lead_status"] == "done"
    with Session(app_store) as session:
        row, lead_row = session.get(CallAttempt, attempt), session.get(Lead, lead)
        assert row is not None and lead_row is not None
        assert (row.disposition, row.note, lead_row.status) == ("sale", "Monday", "done")
    assert 'id="waiting"' in client.get("/").text  # the pop is gone once disposed


def test_passwords_and_session_tokens_are_never_logged(
    client: TestClient, app_store: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    csrf = log_in(client, "anna")
    token = client.cookies.get("dialer_session")
    assert token
    client.post("/state", data={"state": "ready"}, headers={"X-CSRF-Token": csrf})
    form = client.get("/login")
    client.post("/login", data={"name": "anna", "password": "wrong-" + PASSWORD, "csrf": csrf_of(form.text)})
    assert "login" in caplog.text
    for secret in (PASSWORD, token, csrf):
        assert secret not in caplog.text


def test_a_russian_speaking_operator_gets_the_russian_screen(client: TestClient, app_store: Engine) -> None:
    from dialer.services import accounts

    accounts.add_user(app_store, "olga", "operator", PASSWORD, operator="op2", language="ru")
    log_in(client, "olga")
    page = client.get("/").text
    assert ">Готов<" in page and ">Пауза<" in page and 'data-state="logged_out">не в очереди<' in page
    assert 'lang="ru"' in page


def test_wrong_survey_answers_come_back_per_field_and_nothing_is_stored(
    client: TestClient, app_store: Engine
) -> None:
    from dialer.services import survey

    survey.add_question(app_store, "spring", "age", "Your age?", "number", [], True)
    attempt, _ = connected_call(app_store, 1, "op1", "+79005550003")
    csrf = log_in(client, "anna")
    assert 'name="q_age"' in client.get("/").text
    bad = client.post(
        f"/calls/{attempt}/disposition", data={"code": "sale", "q_age": "old"}, headers={"X-CSRF-Token": csrf}
    )
    assert bad.status_code == 400 and bad.json()["problems"] == {"age": "a number is expected"}
    with Session(app_store) as session:
        row = session.get(CallAttempt, attempt)
        assert row is not None and row.disposition is None
    good = client.post(
        f"/calls/{attempt}/disposition", data={"code": "sale", "q_age": "33"}, headers={"X-CSRF-Token": csrf}
    )
    assert good.status_code == 200
