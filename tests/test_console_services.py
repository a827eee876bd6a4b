"""The console's services on SQLite and PostgreSQL: accounts, sessions, dispositions, the pop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns import service
from campaigns.models import CallAttempt, DncEntry, Lead, utcnow
from dialer.core.errors import InvalidInput, NotFound
from dialer.services import accounts, console, dispositions
from dialer.services.operators import add_operator
from tests.console_helpers import connected_call

pytestmark = pytest.mark.every_store


def _campaign(store: Engine, name: str = "spring") -> int:
    campaign = service.create_campaign(store, service.CampaignSpec.build(name, queue="q1"))
    assert campaign.id is not None
    return campaign.id


def _connected_call(store: Engine, campaign_id: int, operator: str, phone: str, **data: str) -> str:
    return connected_call(store, campaign_id, operator, phone, **data)[0]


def test_passwords_are_hashed_and_logins_open_sessions(store: Engine) -> None:
    _campaign(store)
    add_operator(store, "op1", "PJSIP/101", ["spring"])
    user = accounts.add_user(store, "anna", "operator", "correct horse", operator="op1")
    assert user.operator == "op1"
    with Session(store) as session:
        stored = session.exec(select(accounts.UserAccount)).one()
    assert "correct horse" not in stored.password_hash and stored.password_hash.startswith("$argon2")
    opened = accounts.login(store, "anna", "correct horse")
    assert accounts.resolve_session(store, opened.token) == opened
    assert accounts.csrf_ok(opened, opened.csrf) and not accounts.csrf_ok(opened, "x")
    accounts.logout(store, opened.token)
    assert accounts.resolve_session(store, opened.token) is None


def test_wrong_passwords_are_throttled_per_name(store: Engine) -> None:
    accounts.add_user(store, "boss", "admin", "long enough")
    for _ in range(accounts.THROTTLE_FAILURES):
        with pytest.raises(accounts.LoginRefused):
            accounts.login(store, "boss", "wrong guess")
    with pytest.raises(accounts.LoginThrottled):
        accounts.login(store, "boss", "long enough")


def test_disabling_or_changing_the_password_ends_sessions(store: Engine) -> None:
    accounts.add_user(store, "boss", "admin", "long enough")
    first = accounts.login(store, "boss", "long enough")
    accounts.set_password(store, "boss", "another one")
    assert accounts.resolve_session(store, first.token) is None
    second = accounts.login(store, "boss", "another one")
    accounts.set_disabled(store, "boss")
    assert accounts.resolve_session(store, second.token) is None
    with pytest.raises(accounts.LoginRefused):
        accounts.login(store, "boss", "another one")


def test_bad_accounts_are_refused(store: Engine) -> None:
    with pytest.raises(InvalidInput):
        accounts.add_user(store, "x", "operator", "long enough")  # no --operator
    with pytest.raises(InvalidInput):
        accounts.add_user(store, "x", "boss", "long enough")
    with pytest.raises(InvalidInput):
        accounts.add_user(store, "x", "admin", "short")
    assert accounts.list_users(store) == []


def test_campaigns_start_with_number_keyed_default_codes(store: Engine) -> None:
    _campaign(store)
    codes = dispositions.list_codes(store, "spring")
    assert [c.key for c in codes] == list(range(1, len(codes) + 1))
    assert {"sale", "refused", "dnc", "callback"} <= {c.code for c in codes}
    assert next(c for c in codes if c.code == "refused").label_for("ru") == "Отказ"
    added = dispositions.add_code(store, "spring", "survey_done", "Survey done", retry_in="2h", dnc=False)
    assert added.key == len(codes) + 1 and added.retry_in_s == 7200 and not added.final
    with pytest.raises(InvalidInput):
        dispositions.add_code(store, "spring", "x", "X", final=True, retry_in="1h")


def test_a_final_disposition_closes_the_lead_and_lands_on_the_attempt(store: Engine) -> None:
    cid = _campaign(store)
    attempt = _connected_call(store, cid, "op1", "+79001234567", name="Иван")
    done = dispositions.dispose(store, "op1", attempt, "sale", "  wants delivery on Monday ")
    assert done.lead_status == "done"
    with Session(store) as session:
        row = session.get(CallAttempt, attempt)
        assert row is not None and (row.disposition, row.note) == ("sale", "wants delivery on Monday")
    assert dispositions.dispose(store, "op1", attempt, "sale").code == "sale"  # a resend is harmless
    with pytest.raises(InvalidInput):
        dispositions.dispose(store, "op1", attempt, "refused")


def test_dnc_and_retry_dispositions_move_the_lead(store: Engine) -> None:
    cid = _campaign(store)
    blocked = _connected_call(store, cid, "op1", "+79001111111")
    later = _connected_call(store, cid, "op1", "+79002222222")
    assert dispositions.dispose(store, "op1", blocked, "dnc").lead_status == "dnc"
    assert dispositions.dispose(store, "op1", later, "callback").lead_status == "scheduled"
    with Session(store) as session:
        assert session.exec(select(DncEntry.phone).where(DncEntry.campaign_id == None)).all() == [  # noqa: E711
            "+79001111111"
        ]
        lead = session.exec(select(Lead).where(Lead.phone == "+79002222222")).one()
        assert lead.next_call_at is not None
        due = (
            lead.next_call_at
            if lead.next_call_at.tzinfo
            else lead.next_call_at.replace(tzinfo=utcnow().tzinfo)
        )
        assert timedelta(hours=1.9) < due - utcnow() <= timedelta(hours=2)


def test_an_operator_sees_only_their_own_calls(store: Engine) -> None:
    cid = _campaign(store)
    add_operator(store, "op1", "PJSIP/101", ["spring"])
    add_operator(store, "op2", "PJSIP/102", ["spring"])
    anna = accounts.add_user(store, "anna", "operator", "long enough", operator="op1")
    boris = accounts.add_user(store, "boris", "operator", "long enough", operator="op2")
    attempt = _connected_call(store, cid, "op1", "+79003333333", name="Пётр", city="Омск")
    console.set_script(store, "spring", "Здравствуйте, {name}! <b>{city}</b> {{x}} {missing}")
    card = console.call_card(store, anna, attempt)
    assert card.columns == [("name", "Пётр"), ("city", "Омск")] and card.campaign == "spring"
    assert [p.text for p in card.script if p.filled] == ["Пётр", "Омск"]
    assert "".join(p.text for p in card.script).endswith("</b> {x} {missing}")
    assert console.current_attempt(store, "op1") == attempt and console.current_attempt(store, "op2") is None
    with pytest.raises(NotFound):
        console.call_card(store, boris, attempt)
    with pytest.raises(NotFound):
        console.lead_card(store, boris, card.lead_id)
    with pytest.raises(NotFound):
        dispositions.dispose(store, "op2", attempt, "sale")
