"""The console's preview, manual-dial and callback requests over HTTP (in process)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from campaigns.models import Callback, DirectCall, Lead
from campaigns.store import session_scope
from dialer.services import dispositions
from dialer.web.app import create_app
from tests.console_helpers import connected_call, console_campaign, operator_account
from tests.engine_helpers import open_zone
from tests.test_console_web import log_in


@pytest.fixture
def app_store(store: Engine) -> Engine:
    cid = console_campaign(store, "pv", mode="preview", window="00:00-24:00")
    operator_account(store, "anna", "op1", "pv")
    operator_account(store, "boris", "op2", "pv")
    dispositions.add_code(store, "pv", "later", "Call back", callback=True)
    with session_scope(store) as session:
        for phone in ("+79001230001", "+79001230002"):
            session.add(Lead(campaign_id=cid, phone=phone, time_zones=open_zone(), data={"name": "Ivan"}))
    return store


@pytest.fixture
def client(app_store: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(app_store), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _post(client: TestClient, url: str, csrf: str, **data: str) -> tuple[int, dict[str, object]]:
    response = client.post(url, data=data, headers={"X-CSRF-Token": csrf})
    return response.status_code, response.json() if response.headers["content-type"].startswith(
        "application/json"
    ) else {}


def test_preview_next_call_and_skip_over_http(client: TestClient, app_store: Engine) -> None:
    csrf = log_in(client, "anna")
    assert client.post("/preview/next").status_code == 403  # no CSRF token
    status, body = _post(client, "/preview/next", csrf)
    assert status == 200
    lead = int(str(body["lead"]))
    page = client.get("/").text
    assert 'id="preview-lead"' in page and "+79001230001" in page and "Ivan" in page
    assert _post(client, f"/preview/{lead}/call", csrf)[0] == 200
    with Session(app_store) as session:
        request = session.exec(select(DirectCall)).one()
        assert request.lead_id == lead and request.kind == "preview"
    assert 'id="preview-calling"' in client.get("/").text


def test_another_operators_reserved_lead_is_404(client: TestClient, app_store: Engine) -> None:
    anna_csrf = log_in(client, "anna")
    lead = int(str(_post(client, "/preview/next", anna_csrf)[1]["lead"]))
    boris_csrf = log_in(client, "boris")  # the same browser, now boris's session
    assert _post(client, f"/preview/{lead}/call", boris_csrf)[0] == 404
    assert _post(client, f"/preview/{lead}/skip", boris_csrf)[0] == 404
    assert _post(client, "/preview/x/skip", boris_csrf)[0] == 404
    assert "+79001230001" not in client.get("/").text
    with Session(app_store) as session:
        assert session.exec(select(DirectCall)).all() == []
        assert session.get(Lead, lead).claimed_by == "preview:op1"  # type: ignore[union-attr]


def test_manual_dial_refusals_come_back_for_the_phone_field(client: TestClient, app_store: Engine) -> None:
    csrf = log_in(client, "anna")
    status, body = _post(client, "/dial", csrf, phone="not a number")
    assert status == 400 and body["field"] == "phone"
    status, body = _post(client, "/dial", csrf, phone="+7 916 555-12-34")
    assert status == 200
    with Session(app_store) as session:
        assert session.exec(select(DirectCall)).one().kind == "manual"


def test_manual_dial_takes_a_city_and_refuses_an_unknown_one_at_its_field(
    client: TestClient, app_store: Engine
) -> None:
    csrf = log_in(client, "anna")
    assert 'name="place"' in client.get("/").text
    status, body = _post(client, "/dial", csrf, phone="+7 916 555-12-35", place="Нигдевск")
    assert status == 400 and body["field"] == "place"
    assert _post(client, "/dial", csrf, phone="+7 916 555-12-35", place="Новосибирск")[0] == 200
    with Session(app_store) as session:
        lead = session.exec(select(Lead).where(Lead.phone == "+79165551235")).one()
        assert lead.time_zones == "Asia/Novosibirsk" and lead.data["place"] == "Новосибирск"


def test_a_callback_time_is_refused_next_to_its_field(client: TestClient, app_store: Engine) -> None:
    cid = 1
    attempt, lead = connected_call(app_store, cid, "op1", "+79001239999")
    csrf = log_in(client, "anna")
    status, body = _post(
        client, f"/calls/{attempt}/disposition", csrf, code="later", callback_at="2020-01-01T10:00"
    )
    assert status == 400 and body["field"] == "callback_at" and "past" in str(body["error"])
    local = (datetime.now(UTC) + timedelta(hours=2)).astimezone(ZoneInfo("Europe/Moscow"))
    fields = {"code": "later", "callback_at": local.strftime("%Y-%m-%dT%H:%M"), "callback_for": "me"}
    assert _post(client, f"/calls/{attempt}/disposition", csrf, **fields)[0] == 200
    with Session(app_store) as session:
        assert session.exec(select(Callback)).one().lead_id == lead
    assert 'class="callback"' in client.get("/").text
    assert client.get(f"/leads/{lead}").status_code == 200
    log_in(client, "boris")
    assert 'class="callback"' not in client.get("/").text  # anna's callback is not on boris's screen
    assert client.get(f"/leads/{lead}").status_code == 404
