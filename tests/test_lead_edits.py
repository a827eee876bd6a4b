"""Lead edits from the console: who may edit which lead, bad values refused whole, every change audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from campaigns.models import Lead, LeadEdit
from cli import app as cli_app
from dialer.core.errors import NotFound
from dialer.services import accounts
from dialer.services.lead_edits import FieldsRejected, edit_lead, lead_audit
from dialer.web.app import create_app
from tests.console_helpers import PASSWORD, connected_call, console_campaign, csrf_of, operator_account


@pytest.fixture
def calls(store: Engine) -> dict[str, int]:
    cid = console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    operator_account(store, "boris", "op2", "spring")
    accounts.add_user(store, "sveta", "supervisor", PASSWORD, language="en")
    _, old = connected_call(store, cid, "op1", "+79001110001", name="Old Lead", city="Omsk")
    _, last = connected_call(store, cid, "op1", "+79001110002", name="Ivan", city="Tver")
    _, other = connected_call(store, cid, "op2", "+79001110003", name="Boris's", city="Pskov")
    return {"old": old, "last": last, "other": other}


def _user(store: Engine, name: str) -> accounts.UserView:
    return next(u for u in accounts.list_users(store) if u.name == name)


def _data(store: Engine, lead_id: int) -> dict[str, object]:
    with Session(store) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return dict(lead.data)


@pytest.mark.every_store
def test_an_operator_edits_the_lead_of_their_last_call_and_each_change_is_audited(
    store: Engine, calls: dict[str, int]
) -> None:
    anna = _user(store, "anna")
    changes = edit_lead(store, anna, calls["last"], {"city": "Тверь", "name": "Ivan"})
    assert [(c.field, c.old, c.new) for c in changes] == [("city", "Tver", "Тверь")]  # unchanged: no row
    assert _data(store, calls["last"]) == {"name": "Ivan", "city": "Тверь"}
    (row,) = lead_audit(store, "spring")
    assert (row.lead_id, row.user, row.field, row.old, row.new) == (
        calls["last"],
        "anna",
        "city",
        "Tver",
        "Тверь",
    )
    assert row.attempt_id == f"call{calls['last']}"


@pytest.mark.every_store
def test_an_operator_cannot_edit_an_older_lead_or_another_operators(
    store: Engine, calls: dict[str, int]
) -> None:
    anna = _user(store, "anna")
    for lead_id in (calls["old"], calls["other"], 99999):
        with pytest.raises(NotFound):
            edit_lead(store, anna, lead_id, {"city": "X"})
    sveta = _user(store, "sveta")  # a supervisor may correct any lead
    assert [c.field for c in edit_lead(store, sveta, calls["other"], {"city": "Псков"})] == ["city"]


@pytest.mark.every_store
def test_a_bad_value_refuses_the_whole_edit(store: Engine, calls: dict[str, int]) -> None:
    anna = _user(store, "anna")
    with pytest.raises(FieldsRejected) as info:
        edit_lead(store, anna, calls["last"], {"city": "Omsk", "name": "x" * 501, "phone2": "1"})
    assert set(info.value.problems) == {"name", "phone2"}
    with pytest.raises(FieldsRejected) as info:
        edit_lead(store, anna, calls["last"], {"name": "Ivan\x00Drop"})
    assert info.value.problems == {"name": "control characters are not allowed"}
    assert _data(store, calls["last"]) == {"name": "Ivan", "city": "Tver"}  # nothing half-written
    with Session(store) as session:
        assert session.exec(select(LeadEdit)).all() == []


@pytest.fixture
def client(store: Engine, calls: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(store), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _log_in(client: TestClient, name: str) -> str:
    form = client.get("/login")
    data = {"name": name, "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return csrf_of(client.get("/").text)


def test_the_console_edits_a_lead_and_names_the_bad_field(
    client: TestClient, store: Engine, calls: dict[str, int]
) -> None:
    csrf = _log_in(client, "anna")
    url = f"/leads/{calls['last']}/edit"
    assert client.post(url, data={"f_city": "Тверь"}).status_code == 403  # no CSRF token
    bad = client.post(url, data={"f_city": "Тверь", "f_name": "a\x01"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400 and set(bad.json()["problems"]) == {"name"}
    assert _data(store, calls["last"])["city"] == "Tver"
    good = client.post(url, data={"f_city": "Тверь"}, headers={"X-CSRF-Token": csrf})
    assert good.json() == {"ok": True, "changed": ["city"]}
    other = client.post(f"/leads/{calls['other']}/edit", data={"f_city": "Y"}, headers={"X-CSRF-Token": csrf})
    assert other.status_code == 404


@pytest.mark.every_store
def test_export_lead_edits_writes_the_audit(store: Engine, calls: dict[str, int], db_url: str) -> None:
    edit_lead(store, _user(store, "anna"), calls["last"], {"city": "=cmd()"})
    result = CliRunner().invoke(
        cli_app, ["--db", db_url, "export", "lead-edits", "--campaign", "spring", "-o", "-"]
    )
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (row["user"], row["field"], row["old_value"], row["new_value"]) == (
        "anna",
        "city",
        "Tver",
        "=cmd()",  # plain CSV is byte-faithful; --excel and .xlsx keep it text
    )
    missing = CliRunner().invoke(
        cli_app, ["--db", db_url, "export", "lead-edits", "--campaign", "nope", "-o", "-"]
    )
    assert missing.exit_code == 2
