"""The engine's batched store writes: claims, attempt rows, progress and operator states."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import Lead, Operator
from campaigns.retry import RetryPolicy
from campaigns.store import session_scope
from dialer.core.attempt import Attempt, Outcome
from dialer.core.operators import OperatorState
from dialer.store.claims import claim_due_leads
from dialer.store.recorder import Journal, begin_attempts, finish_attempt
from tests.engine_helpers import attempts, leads, make_campaign, make_leads, make_operators, phones_by_digit


@contextmanager
def another_node_claims_first(store: Engine, lead_id: int, node: str) -> Iterator[None]:
    """Let ``node`` take ``lead_id`` on its own connection just before the next claiming UPDATE."""
    fired = False

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal fired
        if not fired and statement.lstrip().upper().startswith("UPDATE LEAD SET CLAIMED_BY"):
            fired = True
            with store.connect() as other, other.begin():
                other.execute(update(Lead).where(Lead.id == lead_id).values(claimed_by=node))  # type: ignore[arg-type]

    event.listen(store, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(store, "before_cursor_execute", before)
    assert fired


def test_a_lead_taken_by_another_node_mid_claim_is_left_to_it(store: Engine) -> None:
    cid = make_campaign(store)
    ids = make_leads(store, cid, phones_by_digit([0] * 5))
    with another_node_claims_first(store, ids[2], "node-b"):
        won = claim_due_leads(store, cid, "node-a", datetime.now(UTC), 5)
    assert [lead.lead_id for lead in won] == ids[:2] + ids[3:]
    holders = {lead.id: lead.claimed_by for lead in leads(store, cid)}
    assert holders[ids[2]] == "node-b"
    assert all(holders[i] == "node-a" for i in ids if i != ids[2])


def test_claimed_leads_carry_what_the_engine_dials_with(store: Engine) -> None:
    cid = make_campaign(store)
    [lead_id] = make_leads(store, cid, ["+79001234567"], data={"name": "Ann"}, attempts=2)
    [claimed] = claim_due_leads(store, cid, "node-a", datetime.now(UTC), 3)
    assert (claimed.lead_id, claimed.campaign_id, claimed.phone) == (lead_id, cid, "+79001234567")
    assert claimed.attempts == 2 and claimed.data == {"name": "Ann"} and claimed.zones


def test_one_cycle_of_attempts_is_committed_at_once_with_its_leads_in_the_call(store: Engine) -> None:
    cid = make_campaign(store)
    make_leads(store, cid, phones_by_digit([0] * 4))
    claimed = claim_due_leads(store, cid, "node-a", datetime.now(UTC), 4)
    ticks = iter([100.0, 100.5, 101.0, 101.5])
    placements = begin_attempts(store, claimed, "node-a", lambda: next(ticks))
    rows = {row.id: row for row in attempts(store, cid)}
    assert set(rows) == {p.attempt_id for p in placements} and len(rows) == 4
    for p in placements:
        row = rows[p.attempt_id]
        assert (row.lead_id, row.node, row.ended_at) == (p.lead.lead_id, "node-a", None)
        assert row.started_at.replace(tzinfo=UTC).timestamp() == p.started_at
    assert [p.started_at for p in placements] == [100.0, 100.5, 101.0, 101.5]
    assert {lead.status for lead in leads(store, cid)} == {"in_call"}


def test_a_lead_held_by_another_node_is_not_put_in_the_call(store: Engine) -> None:
    cid = make_campaign(store)
    make_leads(store, cid, phones_by_digit([0]))
    claimed = claim_due_leads(store, cid, "node-b", datetime.now(UTC), 1)
    begin_attempts(store, claimed, "node-a", lambda: 100.0)
    assert [lead.status for lead in leads(store, cid)] == ["new"]


def _answered(attempt_id: str) -> Attempt:
    return replace(Attempt.dial(attempt_id, 100.0), answered_at=101.0)


def test_progress_and_operator_states_wait_for_the_flush(store: Engine) -> None:
    cid = make_campaign(store)
    make_leads(store, cid, phones_by_digit([0]))
    [name] = make_operators(store, "spring", 1)
    [placement] = begin_attempts(
        store, claim_due_leads(store, cid, "n", datetime.now(UTC), 1), "n", lambda: 100.0
    )
    journal = Journal()
    journal.note_progress(_answered(placement.attempt_id), None)
    journal.note_member(f"Local/{name}@sim-operators/n", OperatorState.READY)
    [row] = attempts(store, cid)
    assert row.answered_at is None
    journal.flush(store)
    [row] = attempts(store, cid)
    assert row.answered_at is not None and row.answered_at.replace(tzinfo=UTC).timestamp() == 101.0
    with Session(store) as session:
        [operator] = session.exec(select(Operator).where(Operator.name == name)).all()
    assert operator.state == "ready"


def test_late_progress_never_overwrites_an_ended_attempt(store: Engine) -> None:
    cid = make_campaign(store)
    make_leads(store, cid, phones_by_digit([0]))
    [placement] = begin_attempts(
        store, claim_due_leads(store, cid, "n", datetime.now(UTC), 1), "n", lambda: 100.0
    )
    ended = replace(
        _answered(placement.attempt_id), connected_at=102.0, ended_at=110.0, outcome=Outcome.CONNECTED
    )
    assert finish_attempt(store, ended, RetryPolicy(), "op101") is not None
    journal = Journal()
    journal.note_progress(_answered(placement.attempt_id), None)
    journal.flush(store)
    [row] = attempts(store, cid)
    assert row.connected_at is not None and row.operator == "op101" and row.outcome == "connected"


def test_finishing_twice_records_once_and_keeps_a_do_not_call_lead_there(store: Engine) -> None:
    cid = make_campaign(store)
    make_leads(store, cid, phones_by_digit([5]))
    [placement] = begin_attempts(
        store, claim_due_leads(store, cid, "n", datetime.now(UTC), 1), "n", lambda: 100.0
    )
    with session_scope(store) as session:
        lead = session.get(Lead, placement.lead.lead_id)
        assert lead is not None
        lead.status = "dnc"
    busy = replace(Attempt.dial(placement.attempt_id, 100.0), ended_at=101.0, outcome=Outcome.BUSY)
    assert finish_attempt(store, busy, RetryPolicy(), None) is not None
    assert finish_attempt(store, busy, RetryPolicy(), None) is None
    [lead] = leads(store, cid)
    assert (lead.status, lead.attempts, lead.last_outcome, lead.claimed_by) == ("dnc", 1, "busy", None)
    [row] = attempts(store, cid)
    assert row.outcome == "busy" and row.ended_at is not None
