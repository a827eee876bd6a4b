"""The console's event feed: the engine's journal writes it, and the hub wakes the right pages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from dialer.core.attempt import Attempt
from dialer.services.console import operators_touched
from dialer.services.operators import OperatorState, add_operator
from dialer.store.console_events import CONNECTED, write_events
from dialer.store.recorder import Journal
from dialer.web.events import EventHub
from tests.console_helpers import console_campaign

pytestmark = pytest.mark.every_store


def test_the_journal_announces_a_connection_once_and_names_the_operator(store: Engine) -> None:
    console_campaign(store)
    add_operator(store, "op1", "PJSIP/101", ["spring"])
    add_operator(store, "op2", "PJSIP/102", ["spring"])
    journal = Journal()
    connected = replace(Attempt.dial("a2", 1.0), connected_at=2.0)
    journal.note_progress(Attempt.dial("a1", 1.0), None)  # still ringing: nothing to announce
    journal.note_progress(connected, "op1")
    journal.note_member("PJSIP/102", OperatorState.READY)
    journal.flush(store)
    cursor, names = operators_touched(store, 0)
    assert names == {"op1", "op2"}  # op1 was connected, op2's queue state changed
    journal.note_progress(connected, "op1")
    journal.flush(store)
    assert operators_touched(store, cursor) == (cursor, set())  # a connection is announced once


async def test_the_hub_wakes_only_the_pages_of_the_operators_named(store: Engine) -> None:
    hub = EventHub(store, poll_s=0.05)
    await hub.start()
    try:
        anna, boris = hub.subscribe("op1"), hub.subscribe("op2")
        with store.begin() as conn:
            write_events(conn, [(CONNECTED, "op1", "a1")])
        await asyncio.wait_for(anna.wait(), 10)
        await asyncio.sleep(0.2)
        assert not boris.is_set()
    finally:
        await hub.stop()


async def test_on_postgresql_notify_wakes_the_hub_without_waiting_for_its_loop(pg_store: Engine) -> None:
    hub = EventHub(pg_store, poll_s=60.0)  # the wait loop alone would take a minute
    await hub.start()
    try:
        await asyncio.sleep(0.5)  # the listener is connected
        page = hub.subscribe("op1")
        with pg_store.begin() as conn:
            write_events(conn, [(CONNECTED, "op1", "a1")])
        await asyncio.wait_for(page.wait(), 10)
    finally:
        await hub.stop()


def test_a_connection_is_written_at_once_and_a_disposition_given_during_the_call_holds(store: Engine) -> None:
    from campaigns.retry import RetryPolicy
    from dialer.core.attempt import Outcome
    from dialer.services.dispositions import dispose
    from dialer.store.claims import claim_due_leads
    from dialer.store.recorder import begin_attempts, finish_attempt
    from tests.engine_helpers import attempts, leads, make_leads, phones_by_digit

    cid = console_campaign(store)
    make_leads(store, cid, phones_by_digit([0]))
    [placement] = begin_attempts(
        store, claim_due_leads(store, cid, "n", datetime.now(UTC), 1), "n", lambda: 1.0
    )
    connected = replace(Attempt.dial(placement.attempt_id, 1.0), connected_at=2.0, operator="Local/x")
    journal = Journal(store)
    journal.note_progress(connected, "op1")  # no flush: a journal with a store writes a connection now
    [row] = attempts(store, cid)
    assert row.connected_at is not None and row.operator == "op1"
    assert operators_touched(store, 0)[1] == {"op1"}

    dispose(store, "op1", placement.attempt_id, "callback")  # "call back later", while on the line
    ended = replace(connected, ended_at=9.0, outcome=Outcome.CONNECTED)
    finish_attempt(store, ended, RetryPolicy(), "op1")
    [lead] = leads(store, cid)
    assert lead.status == "scheduled" and lead.next_call_at is not None  # not closed as "connected"
    assert lead.attempts == 1 and lead.claimed_by is None


async def test_a_stopped_hub_holds_no_connection_of_the_store(store: Engine) -> None:
    # The feed is read without a pause, so the stop comes in the middle of a read: the connection
    # it holds must be back before the store can be closed, or it returns to a closed store.
    for _ in range(10):
        hub = EventHub(store, poll_s=0.0, release_s=0.0)  # its reservations released without a pause too
        await hub.start()
        await asyncio.sleep(0.05)
        await asyncio.wait_for(hub.stop(), 30)  # a stop that hangs fails here
        assert store.pool.checkedout() == 0  # type: ignore[attr-defined]
