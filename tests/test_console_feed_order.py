"""The console's feed delivers every committed event once, also when ids commit out of order.

On PostgreSQL two writers (two engine nodes, or an engine and a console) take ids from one
sequence before they commit: id N may commit after N+1 has been read. These tests hold one
transaction open on a connection of its own while another commits, as two nodes would.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import Engine

from dialer.services import console
from dialer.store.console_events import CONNECTED, ENDED, write_events
from dialer.store.feed_cursor import FeedCursor
from dialer.web.events import EventHub, parts_of
from dialer.web.screen import CALL

pytestmark = pytest.mark.every_store


def _commit(store: Engine, *events: tuple[str, str, str | None]) -> None:
    with store.begin() as conn:
        write_events(conn, list(events))


def _follow(store: Engine, gate: FeedCursor) -> dict[str, set[str]]:
    return console.new_event_kinds(store, gate, gate.cursor)[1]


def test_an_event_committed_after_a_higher_id_was_read_is_still_delivered_once(pg_store: Engine) -> None:
    gate = console.FeedGate(pg_store)
    try:
        gate.start_at(gate.read())
        with pg_store.connect() as first:
            late = first.begin()
            write_events(first, [(CONNECTED, "op1", "a1")])  # takes id N and stays open
            _commit(pg_store, (CONNECTED, "op2", "a2"))  # N+1 commits first
            assert _follow(pg_store, gate) == {"op2": {CONNECTED}}
            assert _follow(pg_store, gate) == {}
            late.commit()  # now N
        assert _follow(pg_store, gate) == {"op1": {CONNECTED}}
        assert _follow(pg_store, gate) == {}  # nothing twice
        assert gate.gaps == {} and gate.floor == gate.cursor + 1  # back to the one cheap look
    finally:
        gate.close()


async def test_the_hub_wakes_the_operator_whose_connection_committed_late(pg_store: Engine) -> None:
    hub = EventHub(pg_store, poll_s=0.02)
    await hub.start()
    try:
        anna, boris = hub.subscribe("op1"), hub.subscribe("op2")
        with pg_store.connect() as first:
            late = first.begin()
            write_events(first, [(CONNECTED, "op1", "a1")])
            _commit(pg_store, (CONNECTED, "op2", "a2"))
            await asyncio.wait_for(boris.wait(), 10)
            await asyncio.sleep(0.2)  # the hub has looked past N+1 several times
            assert not anna.is_set()
            late.commit()
        await asyncio.wait_for(anna.wait(), 10)
        assert anna.take() == set(parts_of([CONNECTED])) and CALL in parts_of([CONNECTED])
    finally:
        await hub.stop()


def test_a_rolled_back_id_is_watched_for_the_hold_only_and_the_look_stays_cheap(
    store: Engine, statements: list[str]
) -> None:
    now = [0.0]
    gate = FeedCursor(store, hold_s=30.0, clock=lambda: now[0])
    try:
        gate.start_at(gate.read())
        with store.connect() as first:
            lost = first.begin()
            write_events(first, [(CONNECTED, "op1", "a1")])
            lost.rollback()
        _commit(store, (CONNECTED, "op2", "a2"))
        assert _follow(store, gate) == {"op2": {CONNECTED}}
        # PostgreSQL's sequence gave the rolled-back id away for good: it is awaited; SQLite gave it again.
        assert len(gate.gaps) == (1 if store.dialect.name == "postgresql" else 0)
        statements.clear()
        for _ in range(3):
            assert not gate.changed()
        assert statements == []  # the look goes through the driver alone, gaps or not
        now[0] = 29.0
        _commit(store, (ENDED, "op2", "a2"))
        assert _follow(store, gate) == {"op2": {ENDED}}
        now[0] = 31.0  # the hold is over
        assert not gate.changed()
        assert gate.gaps == {} and gate.floor == gate.cursor + 1
        _commit(store, (ENDED, "op1", "a1"))
        assert _follow(store, gate) == {"op1": {ENDED}}
    finally:
        gate.close()


def test_every_event_is_delivered_once_across_many_commits(store: Engine) -> None:
    gate = console.FeedGate(store)
    try:
        gate.start_at(gate.read())
        delivered: list[str] = []
        for n in range(12):
            _commit(store, *[(CONNECTED, f"op{n}-{k}", None) for k in range(n % 3 + 1)])
            if n % 4 == 0:
                continue  # some commits are read together
            delivered += sorted(_follow(store, gate))
        delivered += sorted(_follow(store, gate))
        expected = [f"op{n}-{k}" for n in range(12) for k in range(n % 3 + 1)]
        assert sorted(delivered) == sorted(expected) and len(set(delivered)) == len(delivered)
    finally:
        gate.close()


def test_an_event_committed_late_behind_many_is_delivered(pg_store: Engine) -> None:
    gate = FeedCursor(pg_store)
    try:
        gate.start_at(gate.read())
        with pg_store.connect() as first, pg_store.connect() as second:
            late, later = first.begin(), second.begin()
            write_events(first, [(CONNECTED, "op1", "a1")])
            write_events(second, [(CONNECTED, "op2", "a2")])
            for n in range(5):
                _commit(pg_store, (ENDED, f"op{n + 3}", None))
            assert {e[2] for e in gate.take()} == {f"op{n + 3}" for n in range(5)}
            later.commit()
            assert gate.changed() and [e[2] for e in gate.take()] == ["op2"]
            assert not gate.changed()
            late.commit()
        assert gate.changed() and [e[2] for e in gate.take()] == ["op1"]
        assert not gate.changed() and gate.gaps == {}
    finally:
        gate.close()


def test_an_event_in_flight_when_the_reader_starts_is_delivered(pg_store: Engine) -> None:
    """A console (re)started while a transaction holds id N open and N+1 is committed starts at N+1:
    N is awaited below the start and delivered when it commits."""
    gate = FeedCursor(pg_store)
    try:
        with pg_store.connect() as first:
            late = first.begin()
            write_events(first, [(CONNECTED, "op1", "a1")])  # takes id N and stays open
            _commit(pg_store, (CONNECTED, "op2", "a2"))  # N+1 commits: the start
            assert gate.start() == gate.read() and not gate.changed()
            late.commit()
        assert gate.changed() and [e[2] for e in gate.take()] == ["op1"]
        assert not gate.changed() and gate.gaps == {}
    finally:
        gate.close()


async def test_a_started_hub_wakes_the_operator_whose_connection_was_in_flight(pg_store: Engine) -> None:
    with pg_store.connect() as first:
        late = first.begin()
        write_events(first, [(CONNECTED, "op1", "a1")])
        _commit(pg_store, (CONNECTED, "op2", "a2"))
        hub = EventHub(pg_store, poll_s=0.02)
        await hub.start()
        try:
            anna = hub.subscribe("op1")
            await asyncio.sleep(0.2)  # the hub has looked several times
            assert not anna.is_set()
            late.commit()
            await asyncio.wait_for(anna.wait(), 10)
            assert CALL in anna.take()
        finally:
            await hub.stop()


def test_a_reader_starts_with_one_statement_and_on_sqlite_awaits_nothing(
    store: Engine, statements: list[str]
) -> None:
    """SQLite commits its ids in order: its start is the one read of the highest id it always was."""
    _commit(store, (CONNECTED, "op1", None), (ENDED, "op1", None))
    _commit(store, (CONNECTED, "op2", None))
    gate = FeedCursor(store)
    try:
        statements.clear()
        assert gate.start() == 3
        assert len(statements) == 1
        if store.dialect.name == "sqlite":
            assert "max(" in statements[0].lower() and "order by" not in statements[0].lower()
        assert gate.gaps == {} and gate.floor == 4  # nothing is missing below the start
        assert not gate.changed()
        statements.clear()
        gate.start_at(3)  # from an id read before: the window is read again on PostgreSQL only
        assert len(statements) == (1 if store.dialect.name == "postgresql" else 0)
        assert gate.gaps == {}
    finally:
        gate.close()
