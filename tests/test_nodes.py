"""Heartbeats of dialer nodes, and taking over a node that went silent (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns.models import CallAttempt
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.services.operators import ready
from dialer.store.claims import claim_due_leads
from dialer.store.nodes import beat, leave, nodes, take_over_silent
from dialer.store.recorder import begin_attempts
from tests.engine_helpers import (
    ScriptedTelephony,
    attempts,
    leads,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

pytestmark = pytest.mark.every_store

LEASE_S = 60.0


def _node_in_calls(store: Engine, cid: int, node: str, now: datetime, calls: int, held: int) -> list[str]:
    """``node`` claims ``calls + held`` leads, starts calls to the first ``calls``; the attempt ids."""
    claimed = claim_due_leads(store, cid, node, now, calls + held)
    placements = begin_attempts(store, claimed[:calls], node, lambda: now.timestamp())
    return [p.attempt_id for p in placements]


def test_a_silent_node_is_taken_over_once_and_a_beating_one_is_left_alone(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0] * 8))
    now = datetime.now(UTC)
    long_ago = now - timedelta(seconds=LEASE_S + 5)
    beat(store, "dead", long_ago, starting=True)
    beat(store, "alive", now - timedelta(seconds=LEASE_S - 5), starting=True)
    dead_calls = _node_in_calls(store, cid, "dead", long_ago, calls=2, held=1)
    alive_calls = _node_in_calls(store, cid, "alive", now, calls=1, held=1)
    with Session(store) as session:
        answered = session.get(CallAttempt, dead_calls[0])
        assert answered is not None
        answered.answered_at = long_ago + timedelta(seconds=5)
        session.add(answered)
        session.commit()

    assert take_over_silent(store, "me", now, LEASE_S) == ["dead"]
    assert take_over_silent(store, "me", now, LEASE_S) == []  # nothing left to win
    assert take_over_silent(store, "other", now, LEASE_S) == []

    by_id = {r.id: r for r in attempts(store, cid)}
    # Answered and never connected: counted as abandoned, never understated.
    assert by_id[dead_calls[0]].outcome == "abandoned"
    assert by_id[dead_calls[1]].outcome == "failed"
    assert by_id[alive_calls[0]].ended_at is None
    holders = [lead.claimed_by for lead in leads(store, cid)]
    assert "dead" not in holders and holders.count("alive") == 2
    assert sum(lead.attempts for lead in leads(store, cid)) == 2  # each taken-over call counted once
    assert [n.name for n in nodes(store)] == ["alive"]


def test_a_node_never_takes_itself_over_and_leaves_on_a_clean_stop(store: Engine) -> None:
    now = datetime.now(UTC)
    beat(store, "me", now - timedelta(hours=1), starting=True)
    assert take_over_silent(store, "me", now, LEASE_S) == []
    beat(store, "me", now)
    [me] = nodes(store)
    assert me.heartbeat_at == now and me.silent_for(now) == 0.0
    assert me.started_at == now - timedelta(hours=1)
    leave(store, "me")
    assert nodes(store) == []


async def test_the_engine_dials_the_leads_a_crashed_node_held(store: Engine) -> None:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0, 1, 2, 3]))
    [name] = make_operators(store, "spring", 1)
    ready(store, name)
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    beat(store, "crashed", long_ago, starting=True)
    [lost] = _node_in_calls(store, cid, "crashed", long_ago, calls=1, held=3)
    settings = EngineSettings(
        node_id="survivor",
        tick_s=0.02,
        operator_poll_s=0.02,
        shutdown_deadline_s=5.0,
        heartbeat_s=1.0,
        node_lease_s=3.0,
        takeover_check_s=0.1,
    )
    telephony = ScriptedTelephony()
    await asyncio.wait_for(DialEngine(store, telephony, settings).run(until_done=True), 10)

    rows = {r.id: r for r in attempts(store, cid)}
    assert rows[lost].node == "crashed" and rows[lost].outcome == "failed"
    survivor = [r for r in rows.values() if r.node == "survivor"]
    assert sorted(r.outcome or "" for r in survivor) == ["connected"] * 3
    assert all(lead.claimed_by is None for lead in leads(store, cid))
    assert nodes(store) == []  # the survivor left cleanly and the crashed node was taken over


def test_status_names_running_engines_and_flags_a_silent_one(store: Engine) -> None:
    from dialer.cli.engine_commands import engines_line
    from dialer.services.status import collect_status

    now = datetime.now(UTC)
    assert engines_line(collect_status(store).nodes, now) == "engines: none running"
    beat(store, "node-a", now - timedelta(seconds=3), starting=True)
    beat(store, "node-b", now - timedelta(seconds=600), starting=True)
    line = engines_line(collect_status(store).nodes, now)
    assert line.startswith("engines: node-b (silent 600 s: another engine will take it over)")
    assert "node-a (alive 3 s ago)" in line
