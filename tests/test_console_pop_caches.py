"""What a burst of pops no longer reads on every page: pause codes, expired reservations, the
direct panel. Each saving keeps the screen right: pause codes changed by another process reach
the screens within the cache's period (and are checked against the store at once), expired
preview reservations are still given back, and a connection re-reads the direct panel whenever
it shows something the connection may have taken away."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import Callback, Lead, WebSession, utcnow
from campaigns.store import session_scope
from dialer.core.errors import InvalidInput
from dialer.services import accounts, console, direct_calls, pause_codes
from dialer.store.console_events import CONNECTED, write_events
from dialer.web.events import EventHub, parts_of
from dialer.web.screen import CALL, DIRECT, DIRECT_IF_SHOWN, STATE, Screen
from dialer.web.views import Templates
from tests.console_helpers import PASSWORD, connected_call, console_campaign, operator_account

pytestmark = pytest.mark.every_store
DIALER = Path(sys.executable).with_name("dialer")


def _cli(db_url: str, *args: str) -> None:
    env = {**os.environ, "DIALER_DB": db_url}
    done = subprocess.run([str(DIALER), *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pause codes' cache clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(pause_codes, "_clock", lambda: now[0])
    pause_codes.forget_cached_codes()
    return now


def test_pause_codes_changed_by_another_process_reach_the_screen_within_the_cache_period(
    store: Engine, db_url: str, clock: list[float]
) -> None:
    console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    pause_codes.add_pause_code(store, "break", "Break")
    screen = Screen(Templates(), store, accounts.login(store, "anna", PASSWORD))
    assert "Break" in screen.read([STATE])[STATE]

    _cli(db_url, "pause-codes", "add", "lunch", "--label", "Обед")  # another process
    assert pause_codes.check_pause_code(store, "lunch") == "lunch"  # a pause is checked at once
    assert screen.read([STATE]) == {}  # within the period the screens show the cached codes
    clock[0] += pause_codes.PAUSE_CODES_TTL_S + 0.1
    shown = screen.read([STATE])[STATE]
    assert "Обед" in shown and 'value="lunch"' in shown and "Break" in shown

    _cli(db_url, "pause-codes", "remove", "lunch")
    with pytest.raises(InvalidInput):
        pause_codes.check_pause_code(store, "lunch")  # refused at once, whatever a screen shows
    clock[0] += pause_codes.PAUSE_CODES_TTL_S + 0.1
    shown = screen.read([STATE])[STATE]
    assert "lunch" not in shown and "Break" in shown


def test_a_change_made_in_this_process_is_shown_at_once(store: Engine, clock: list[float]) -> None:
    console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    screen = Screen(Templates(), store, accounts.login(store, "anna", PASSWORD))
    screen.read([STATE])
    pause_codes.add_pause_code(store, "training", "Training")
    assert "Training" in screen.read([STATE])[STATE]
    pause_codes.remove_pause_code(store, "training")
    assert "Training" not in screen.read([STATE])[STATE]


def _reserve(store: Engine, campaign_id: int, operator: str, phone: str) -> int:
    with session_scope(store) as session:
        lead = Lead(campaign_id=campaign_id, phone=phone, time_zones="Europe/Moscow")
        session.add(lead)
    held = direct_calls.next_lead(store, operator)
    assert held is not None and held.phone == phone
    return held.lead_id


def _expire(store: Engine, lead_id: int) -> None:
    with session_scope(store) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        lead.claimed_at = utcnow() - timedelta(hours=1)


def _holder(store: Engine, lead_id: int) -> str | None:
    with Session(store) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return lead.claimed_by


def test_reading_the_preview_gives_back_the_operators_own_expired_reservation(store: Engine) -> None:
    cid = console_campaign(store, "pv", mode="preview", window="00:00-24:00")
    operator_account(store, "anna", "op1", "pv")
    operator_account(store, "boris", "op2", "pv")
    mine = _reserve(store, cid, "op1", "+79001110031")
    theirs = _reserve(store, cid, "op2", "+79001110032")
    assert direct_calls.current(store, "op1") is not None
    _expire(store, theirs)
    assert direct_calls.current(store, "op1") is not None  # one's own read leaves others' to the hub
    assert _holder(store, theirs) == "preview:op2"
    _expire(store, mine)
    assert direct_calls.current(store, "op1") is None
    assert _holder(store, mine) is None
    assert direct_calls.current(store, "op2") is None  # and theirs, when they look
    assert _holder(store, theirs) is None


async def test_the_hub_gives_back_expired_reservations_of_operators_with_no_page(store: Engine) -> None:
    cid = console_campaign(store, "pv", mode="preview", window="00:00-24:00")
    operator_account(store, "anna", "op1", "pv")
    lead = _reserve(store, cid, "op1", "+79001110041")
    _expire(store, lead)
    hub = EventHub(store, poll_s=0.05, release_s=0.1)
    await hub.start()
    try:
        until = time.monotonic() + 20
        while _holder(store, lead) is not None and time.monotonic() < until:
            await asyncio.sleep(0.1)
        assert _holder(store, lead) is None
    finally:
        await hub.stop()


def test_a_connection_rereads_the_direct_panel_only_while_it_shows_something(
    store: Engine, statements: list[str]
) -> None:
    assert parts_of(["connected"]) == {CALL, DIRECT_IF_SHOWN}
    cid = console_campaign(store, "pv", mode="preview", window="00:00-24:00")
    operator_account(store, "anna", "op1", "pv")
    screen = Screen(Templates(), store, accounts.login(store, "anna", PASSWORD))
    screen.read([CALL, STATE, DIRECT])  # the first, full read: nothing reserved, no callbacks
    statements.clear()
    screen.read([DIRECT_IF_SHOWN])
    assert statements == []  # a connection cannot take away what the panel does not show

    lead = _reserve(store, cid, "op1", "+79001110051")
    assert "+79001110051" in screen.read([DIRECT])[DIRECT]
    with session_scope(store) as session:  # the preview call placed and connected: no longer held
        held = session.get(Lead, lead)
        assert held is not None
        held.claimed_by = held.claimed_at = None
    connected_call(store, cid, "op1", "+79001110052")
    sent = screen.read([CALL, DIRECT_IF_SHOWN])
    assert set(sent) == {CALL, "attempt", DIRECT} and "+79001110051" not in sent[DIRECT]

    with session_scope(store) as session:  # a callback shown is read again after a connection too
        due = utcnow() + timedelta(hours=1)
        callback = Callback(campaign_id=cid, lead_id=lead, due_at=due, set_by="op1")
        session.add(callback)
        session.flush()
        callback_id = callback.id
    assert 'class="callback"' in screen.read([DIRECT])[DIRECT]
    with session_scope(store) as session:  # the callback dialed and connected: done
        row = session.get(Callback, callback_id)
        assert row is not None
        row.done = True
    assert 'class="callback"' not in screen.read([DIRECT_IF_SHOWN])[DIRECT]


def test_an_open_stream_sees_a_logout_an_expiry_or_a_disabled_user_in_one_query(
    store: Engine, statements: list[str]
) -> None:
    console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    first = accounts.login(store, "anna", PASSWORD)
    statements.clear()
    assert accounts.session_alive(store, first.token)
    assert len(statements) == 1
    assert not accounts.session_alive(store, "") and not accounts.session_alive(store, "x" * 300)
    assert not accounts.session_alive(store, first.token + "x")
    accounts.logout(store, first.token)
    assert not accounts.session_alive(store, first.token)
    second = accounts.login(store, "anna", PASSWORD)
    with session_scope(store) as session:  # the only session left: the second
        row = session.exec(select(WebSession)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert not accounts.session_alive(store, second.token)
    third = accounts.login(store, "anna", PASSWORD)
    assert accounts.session_alive(store, third.token)
    accounts.set_disabled(store, "anna")
    assert not accounts.session_alive(store, third.token)


def test_the_feed_gate_sees_every_commit_and_reads_the_events_only_when_there_are_new_ones(
    store: Engine, statements: list[str]
) -> None:
    console_campaign(store)
    operator_account(store, "anna", "op1", "spring")
    gate = console.FeedGate(store)
    try:
        start = gate.read()
        statements.clear()
        assert console.new_event_kinds(store, gate, start) == (start, {})
        assert statements == []  # the gate's look goes through the driver alone
        for attempt in ("a1", "a2"):  # each commit is seen: the gate keeps no snapshot open
            with store.begin() as conn:
                write_events(conn, [(CONNECTED, "op1", attempt)])
            newest, kinds = console.new_event_kinds(store, gate, start)
            assert newest == gate.read() > start and kinds == {"op1": {CONNECTED}}
            start = newest
    finally:
        gate.close()
