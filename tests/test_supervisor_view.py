"""The supervisor's page: every operator with state, timer and live call, pushed over the same event
stream; an operator gets 404 for it. In process over HTTP, then in Chromium against a real console."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from campaigns.models import CallAttempt
from campaigns.store import session_scope
from dialer.core.errors import NotFound
from dialer.services import accounts
from dialer.services.operators import ready
from dialer.services.team import team
from dialer.store import console_events
from dialer.web.app import create_app
from tests.console_helpers import PASSWORD, connected_call, console_campaign, csrf_of, operator_account
from tests.console_process import console_process, logged_in_page
from tests.test_console_e2e import DOCS


@pytest.fixture
def staffed(store: Engine) -> dict[str, Any]:
    cid = console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    operator_account(store, "boris", "op2", "spring")
    accounts.add_user(store, "sveta", "supervisor", PASSWORD, language="en")
    attempt, _ = connected_call(store, cid, "op1", "+79001110001", name="Ivan")
    return {"campaign": cid, "attempt": attempt}


def _user(store: Engine, name: str) -> accounts.UserView:
    return next(u for u in accounts.list_users(store) if u.name == name)


@pytest.mark.every_store
def test_the_team_lists_every_operator_with_their_live_call(store: Engine, staffed: dict[str, Any]) -> None:
    rows = {r.operator: r for r in team(store, _user(store, "sveta"))}
    assert set(rows) == {"op1", "op2"}
    assert rows["op1"].call is not None and rows["op1"].call.phone == "+79001110001"
    assert rows["op1"].call.ended_at is None and rows["op2"].call is None
    assert rows["op1"].campaigns == ("spring",)
    with pytest.raises(NotFound):
        team(store, _user(store, "anna"))


@pytest.fixture
def client(store: Engine, staffed: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(store), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _log_in(client: TestClient, name: str) -> None:
    form = client.get("/login")
    data = {"name": name, "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_operators_get_404_and_supervisors_the_team(client: TestClient) -> None:
    assert client.get("/supervisor", follow_redirects=False).status_code == 303  # no session: log in
    _log_in(client, "anna")
    assert client.get("/supervisor").status_code == 404
    client.cookies.clear()
    _log_in(client, "sveta")
    page = client.get("/supervisor")
    assert page.status_code == 200 and 'id="team"' in page.text and "+79001110001" in page.text
    assert client.get("/").text == page.text  # a supervisor's home is the team


@pytest.mark.browser
def test_the_team_page_follows_the_operators_live(
    store: Engine, db_url: str, staffed: dict[str, Any], chromium: Any
) -> None:
    from playwright.sync_api import expect

    with console_process(db_url) as port:
        page = logged_in_page(chromium, port, "sveta")
        op1 = page.locator('tr[data-operator="op1"] .team-call')
        expect(op1).to_contain_text("+79001110001")
        expect(op1).to_contain_text("on the line")
        # The engine records the hang-up with its event: the row turns to wrap-up, pushed.
        ready(store, "op2")
        with session_scope(store) as session:
            row = session.get(CallAttempt, staffed["attempt"])
            assert row is not None and row.connected_at is not None
            row.ended_at = row.connected_at
            session.add(row)
            console_events.write_events(session.connection(), [(console_events.ENDED, "op1", row.id)])
        expect(op1).to_contain_text("wrap-up")
        expect(page.locator('tr[data-operator="op2"] td').nth(2)).to_contain_text("ready")
        page.screenshot(path=str(DOCS / "console-supervisor.png"))
