"""An operator's screen in parts: a pop reads and sends only the call, only the operator's own, escaped."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from campaigns.models import CallAttempt, utcnow
from campaigns.store import session_scope
from dialer.services import accounts, console
from dialer.services.accounts import LoginSession
from dialer.services.operators import OperatorState, add_operator
from dialer.store.console_events import CONNECTED, ENDED, STATE, write_events
from dialer.store.recorder import Journal
from dialer.web.events import EventHub
from dialer.web.screen import CALL, DIRECT, DIRECT_IF_SHOWN, PARTS, Screen
from dialer.web.screen import STATE as STATE_PART
from dialer.web.views import Templates, render
from tests.console_helpers import PASSWORD, connected_call, console_campaign, operator_account

pytestmark = pytest.mark.every_store


def _logins(store: Engine) -> tuple[int, LoginSession, LoginSession]:
    cid = console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    operator_account(store, "boris", "op2", "spring")
    return cid, accounts.login(store, "anna", PASSWORD), accounts.login(store, "boris", PASSWORD)


def test_a_pop_sends_the_call_alone_and_an_unchanged_call_is_not_sent_again(store: Engine) -> None:
    cid, anna, _ = _logins(store)
    screen = Screen(Templates(), store, anna)
    first = screen.read(PARTS)
    assert set(first) == {CALL, STATE_PART, DIRECT, "attempt"} and first["attempt"] == ""
    assert screen.read(PARTS) == {}  # nothing changed: nothing to send
    attempt, _ = connected_call(store, cid, "op1", "+79005550001", name="Анна Каренина")
    pop = screen.read([CALL])
    assert set(pop) == {CALL, "attempt"} and pop["attempt"] == attempt
    assert "Анна Каренина" in pop[CALL] and "+79005550001" in pop[CALL]
    assert screen.read([CALL]) == {}
    with session_scope(store) as session:  # the call ends: the panel asks for a disposition
        row = session.get(CallAttempt, attempt)
        assert row is not None
        row.ended_at = utcnow()
    ended = screen.read([CALL])
    assert ended["attempt"] == attempt and "ended: choose a disposition" in ended[CALL]


def test_the_pop_holds_the_operators_own_call_its_history_and_escaped_values(store: Engine) -> None:
    cid, anna, boris = _logins(store)
    console.set_script(store, "spring", "Hello {name} {{111111*7}} {missing}")
    hostile = "<script>alert(1)</script>{{111111*7}}"
    attempt, lead = connected_call(store, cid, "op1", "+79005550002", name=hostile)
    with session_scope(store) as session:
        session.add(
            CallAttempt(
                id="earlier",
                campaign_id=cid,
                lead_id=lead,
                phone="+79005550002",
                started_at=utcnow() - timedelta(days=1),
                outcome="no-answer",
                note="<i>call after six</i>",
            )
        )
    card = console.current_card(store, "op1")
    assert card is not None and card.attempt_id == attempt and card.lead_id == lead
    assert [(row.outcome, row.note) for row in card.history] == [("no-answer", "<i>call after six</i>")]
    assert card == console.call_card(store, anna.user, attempt)  # the pop is the call's own card
    html = Screen(Templates(), store, anna).read([CALL])[CALL]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "777777" not in html and "{{111111*7}}" in html and "&lt;i&gt;call after six&lt;/i&gt;" in html
    assert console.current_card(store, "op2") is None
    assert "alert(1)" not in Screen(Templates(), store, boris).read(PARTS)[CALL]


async def test_the_hub_names_the_parts_an_event_may_change(store: Engine) -> None:
    _logins(store)
    add_operator(store, "op3", "PJSIP/103", ["spring"])
    hub = EventHub(store, poll_s=0.05)
    await hub.start()
    try:
        anna, boris = hub.subscribe("op1"), hub.subscribe("op3")
        with store.begin() as conn:
            write_events(conn, [(CONNECTED, "op1", "a1"), (STATE, "PJSIP/103", None)])
        await asyncio.wait_for(anna.wait(), 10)
        await asyncio.wait_for(boris.wait(), 10)
        assert anna.take() == {CALL, DIRECT_IF_SHOWN} and boris.take() == {STATE_PART}
        assert not anna.is_set() and anna.parts == set()
        hub.poke("op1")  # this process changed something of theirs: everything
        assert anna.is_set() and anna.take() == set(PARTS)
        with store.begin() as conn:
            write_events(conn, [(ENDED, "op1", "a1")])
        await asyncio.wait_for(anna.wait(), 10)
        assert anna.take() == {CALL}  # a hang-up changes the call panel only
    finally:
        await hub.stop()


def test_a_queue_state_names_the_operator_of_the_interface(store: Engine) -> None:
    console_campaign(store)
    add_operator(store, "op1", "PJSIP/101", ["spring"])
    journal = Journal()
    journal.note_member("PJSIP/101", OperatorState.READY)
    journal.flush(store)
    assert console.event_kinds(store, 0)[1] == {"op1": {STATE}}


def test_screens_in_two_languages_render_at_once_each_in_its_own() -> None:
    templates = Templates()

    def waiting(language: str) -> str:
        return render(templates, "_call.html", language, card=None)

    with ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(waiting, ["ru", "en"] * 50))
    assert len(set(pages[0::2])) == 1 and len(set(pages[1::2])) == 1 and pages[0] != pages[1]
    assert "When Asterisk connects a customer to you" in pages[1]
