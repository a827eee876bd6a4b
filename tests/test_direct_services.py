"""Callbacks, preview reservations and manual dial in the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Callback, DirectCall, DncEntry, Lead, Operator, utcnow
from campaigns.store import session_scope
from dialer.core.errors import InvalidInput, NotFound
from dialer.services import callbacks, direct_calls, dispositions
from dialer.services.callbacks import FieldProblem
from dialer.store.direct import due_work
from tests.console_helpers import console_campaign, operator_account
from tests.engine_helpers import open_zone

pytestmark = pytest.mark.every_store


def _lead(store: Engine, campaign_id: int, phone: str, zone: str | None = None, **fields: Any) -> int:
    with session_scope(store) as session:
        lead = Lead(campaign_id=campaign_id, phone=phone, time_zones=zone or open_zone(), **fields)
        session.add(lead)
        session.flush()
        assert lead.id is not None
        return lead.id


def _call(store: Engine, campaign_id: int, lead_id: int, operator: str, ago_s: float = 0) -> str:
    at = utcnow() - timedelta(seconds=ago_s)
    with session_scope(store) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        row = CallAttempt(
            id=f"c{lead_id}-{int(ago_s)}",
            campaign_id=campaign_id,
            lead_id=lead_id,
            phone=lead.phone,
            started_at=at,
            connected_at=at,
            ended_at=at,
            outcome="connected",
            operator=operator,
        )
        session.add(row)
        return row.id


def _local(lead_zone: str, delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).astimezone(ZoneInfo(lead_zone)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def sales(store: Engine) -> int:
    cid = console_campaign(store, "sales", contact_limits="2/1d")
    operator_account(store, "anna", "op1", "sales")
    operator_account(store, "boris", "op2", "sales")
    dispositions.add_code(store, "sales", "later", "Call back", callback=True)
    return cid


def test_a_callback_is_stored_in_utc_from_the_leads_local_time(store: Engine, sales: int) -> None:
    lead_id = _lead(store, sales, "+79001110001")
    attempt = _call(store, sales, lead_id, "op1")
    due = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    local = due.astimezone(ZoneInfo(open_zone())).strftime("%Y-%m-%dT%H:%M")
    dispositions.dispose(store, "op1", attempt, "later", callback=(local, "anyone"))
    with Session(store) as session:
        row = session.exec(select(Callback)).one()
        assert row.due_at.replace(tzinfo=UTC) == due and row.operator_id is None and row.set_by == "op1"
        assert session.get(Lead, lead_id).status == "callback"  # type: ignore[union-attr]
    upcoming = callbacks.upcoming(store, "op1")
    assert [(u.lead_id, u.personal) for u in upcoming] == [(lead_id, False)]
    assert upcoming[0].due_local.utcoffset() == due.astimezone(ZoneInfo(open_zone())).utcoffset()
    assert callbacks.upcoming(store, "op2") == []  # not boris's


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("", "asks for a callback time"),
        ("tomorrow", "enter a date and time"),
        ("2020-01-01T10:00", "in the past"),
    ],
)
def test_bad_callback_times_are_refused_at_the_field_and_nothing_is_written(
    store: Engine, sales: int, when: str, message: str
) -> None:
    lead_id = _lead(store, sales, "+79001110002")
    attempt = _call(store, sales, lead_id, "op1")
    with pytest.raises(FieldProblem, match=message) as caught:
        dispositions.dispose(store, "op1", attempt, "later", callback=(when, "me"))
    assert caught.value.field == "callback_at"
    with Session(store) as session:
        assert session.exec(select(Callback)).all() == []
        assert session.get(CallAttempt, attempt).disposition is None  # type: ignore[union-attr]


def test_a_callback_outside_the_window_is_refused(store: Engine, sales: int) -> None:
    lead_id = _lead(store, sales, "+79001110003")
    attempt = _call(store, sales, lead_id, "op1")
    night = datetime.now(ZoneInfo(open_zone())).replace(hour=23, minute=30) + timedelta(days=1)
    with pytest.raises(FieldProblem, match="outside the calling window"):
        dispositions.dispose(
            store, "op1", attempt, "later", callback=(night.strftime("%Y-%m-%dT%H:%M"), "me")
        )


def test_a_callback_against_the_contact_limits_is_refused(store: Engine, sales: int) -> None:
    lead_id = _lead(store, sales, "+79001110004")
    _call(store, sales, lead_id, "op1", ago_s=600)
    attempt = _call(store, sales, lead_id, "op1")  # two conversations today: "2/1d" allows no third
    with pytest.raises(FieldProblem, match="contact limits"):
        dispositions.dispose(
            store, "op1", attempt, "later", callback=(_local(open_zone(), timedelta(hours=1)), "me")
        )
    # After the day has passed it is allowed.
    dispositions.dispose(
        store, "op1", attempt, "later", callback=(_local(open_zone(), timedelta(days=1, hours=1)), "me")
    )


def test_preview_reserves_a_lead_for_one_operator_and_skip_gives_it_back(store: Engine) -> None:
    cid = console_campaign(store, "pv", mode="preview")
    operator_account(store, "anna", "op1", "pv")
    operator_account(store, "boris", "op2", "pv")
    first, second = _lead(store, cid, "+79001110011"), _lead(store, cid, "+79001110012")
    mine = direct_calls.next_lead(store, "op1")
    assert mine is not None and mine.lead_id == first
    assert direct_calls.next_lead(store, "op1") == mine  # asking again keeps the same lead
    theirs = direct_calls.next_lead(store, "op2")
    assert theirs is not None and theirs.lead_id == second
    with pytest.raises(NotFound):
        direct_calls.call_reserved(store, "op2", first)  # another operator's lead: as if none
    direct_calls.skip_reserved(store, "op1", first)
    with Session(store) as session:
        lead = session.get(Lead, first)
        assert lead is not None and lead.claimed_by is None and lead.next_call_at is not None
    assert direct_calls.next_lead(store, "op1") is None  # the skipped lead is not due again yet


def test_an_expired_reservation_returns_the_lead_unless_call_was_pressed(store: Engine) -> None:
    cid = console_campaign(store, "pv", mode="preview")
    operator_account(store, "anna", "op1", "pv")
    callbacks.change_settings(store, "pv", preview_hold="30s")
    first, second = _lead(store, cid, "+79001110021"), _lead(store, cid, "+79001110022")
    assert direct_calls.next_lead(store, "op1") is not None
    assert direct_calls.release_expired(store, utcnow() + timedelta(seconds=10)) == 0
    assert direct_calls.release_expired(store, utcnow() + timedelta(seconds=31)) == 1
    with Session(store) as session:
        assert session.get(Lead, first).claimed_by is None  # type: ignore[union-attr]
    again = direct_calls.next_lead(store, "op1")
    assert again is not None and again.lead_id == first
    with session_scope(store) as session:  # Call pressed at the last moment of the reservation
        session.get(Lead, first).claimed_at = utcnow() - timedelta(seconds=29)  # type: ignore[union-attr]
    direct_calls.call_reserved(store, "op1", first)
    direct_calls.call_reserved(store, "op1", first)  # pressed twice: one request
    assert direct_calls.release_expired(store, utcnow() + timedelta(seconds=10)) == 0
    with Session(store) as session:
        assert len(session.exec(select(DirectCall)).all()) == 1
    # Never placed (the operator did not become ready): dropped, and the lead is given back.
    assert direct_calls.release_expired(store, utcnow() + timedelta(seconds=31)) == 1
    with Session(store) as session:
        assert "not ready" in str(session.exec(select(DirectCall)).one().refused)
    assert second


@pytest.mark.parametrize("press", ["call", "skip"])
def test_a_reservation_that_ran_out_is_refused_at_its_button_and_given_back(
    store: Engine, press: str
) -> None:
    """Past its hold but not yet given back by the periodic release: Call places nothing, Skip
    sets no delay; both are refused with the reason and the lead is free for the next operator."""
    cid = console_campaign(store, "pv", mode="preview")
    operator_account(store, "anna", "op1", "pv")
    callbacks.change_settings(store, "pv", preview_hold="30s")
    first = _lead(store, cid, "+79001110031")
    assert direct_calls.next_lead(store, "op1") is not None
    with session_scope(store) as session:
        session.get(Lead, first).claimed_at = utcnow() - timedelta(seconds=31)  # type: ignore[union-attr]
    act = direct_calls.call_reserved if press == "call" else direct_calls.skip_reserved
    with pytest.raises(FieldProblem, match="the reservation ran out: take the next lead") as caught:
        act(store, "op1", first)
    assert caught.value.field == "preview"
    with Session(store) as session:
        assert session.exec(select(DirectCall)).all() == []
        lead = session.get(Lead, first)
        assert lead is not None and lead.claimed_by is None and lead.next_call_at is None
    with pytest.raises(FieldProblem, match="ran out"):  # pressed again: the same answer
        act(store, "op1", first)
    again = direct_calls.next_lead(store, "op1")
    assert again is not None and again.lead_id == first


@pytest.mark.parametrize("press", ["call", "skip"])
def test_call_or_skip_just_after_the_periodic_release_is_told_the_reservation_ran_out(
    store: Engine, press: str
) -> None:
    """The console's periodic release gave the reservation back a moment before the press: its
    operator is told it ran out, as when the press finds it first; nobody else learns of it."""
    cid = console_campaign(store, "pv", mode="preview")
    operator_account(store, "anna", "op1", "pv")
    operator_account(store, "boris", "op2", "pv")
    callbacks.change_settings(store, "pv", preview_hold="30s")
    first = _lead(store, cid, "+79001110041")
    assert direct_calls.next_lead(store, "op1") is not None
    assert direct_calls.release_expired(store, utcnow() + timedelta(seconds=31)) == 1
    act = direct_calls.call_reserved if press == "call" else direct_calls.skip_reserved
    for _ in range(2):  # pressed twice: the same answer
        with pytest.raises(FieldProblem, match="the reservation ran out: take the next lead") as caught:
            act(store, "op1", first)
        assert caught.value.field == "preview"
    with pytest.raises(NotFound):  # never boris's: as if it did not exist
        act(store, "op2", first)
    with Session(store) as session:
        assert session.exec(select(DirectCall)).all() == []
        lead = session.get(Lead, first)
        assert lead is not None and lead.claimed_by is None and lead.next_call_at is None
    again = direct_calls.next_lead(store, "op2")  # back in the pool: boris takes it
    assert again is not None and again.lead_id == first
    with pytest.raises(NotFound):  # now boris's reservation
        act(store, "op1", first)
    direct_calls.skip_reserved(store, "op2", first)
    with pytest.raises(NotFound):  # skipped by boris since: anna's reservation is long gone
        act(store, "op1", first)


def test_manual_dial_is_checked_like_the_engines_calls(store: Engine) -> None:
    cid = console_campaign(store, "sales", region="RU", contact_limits="1/1d", window="00:00-24:00")
    operator_account(store, "anna", "op1", "sales")
    with pytest.raises(FieldProblem, match="not a") as caught:
        direct_calls.manual_dial(store, "op1", "12ab")
    assert caught.value.field == "phone"
    with session_scope(store) as session:
        session.add(DncEntry(phone="+79161234567"))
    with pytest.raises(FieldProblem, match="do-not-call"):
        direct_calls.manual_dial(store, "op1", "8 916 123-45-67")
    spoken = _lead(store, cid, "+79161234568")
    _call(store, cid, spoken, "op1", ago_s=60)
    with session_scope(store) as session:
        session.get(Lead, spoken).status = "done"  # type: ignore[union-attr]
    with pytest.raises(FieldProblem, match="contact limits"):
        direct_calls.manual_dial(store, "op1", "+7 916 123-45-68")
    request = direct_calls.manual_dial(store, "op1", "+7 916 123-45-69")
    with Session(store) as session:
        row = session.get(DirectCall, request)
        assert row is not None and row.kind == "manual"
        assert session.get(Lead, row.lead_id).phone == "+79161234569"  # type: ignore[union-attr]
    assert len(_leads(store)) == 2  # the refused numbers left no lead behind


def _leads(store: Engine) -> list[Lead]:
    with Session(store) as session:
        return list(session.exec(select(Lead)).all())


def test_manual_dial_outside_the_window_is_refused(store: Engine) -> None:
    hour = datetime.now(ZoneInfo("Europe/Moscow")).hour
    closed_now = "13:00-20:00" if hour < 12 else "08:00-10:00"  # a window the number's zone is outside of
    console_campaign(store, "sales", region="RU", window=closed_now)
    operator_account(store, "anna", "op1", "sales")
    with pytest.raises(FieldProblem, match="window") as caught:
        direct_calls.manual_dial(store, "op1", "+7 495 123-45-67")
    assert caught.value.field == "phone"
    assert _leads(store) == []


def test_callback_settings_are_validated(store: Engine, sales: int) -> None:
    assert callbacks.show_settings(store, "sales").callback_release_s == 900
    assert callbacks.change_settings(store, "sales", release_after="2h").callback_release_s == 7200
    with pytest.raises(InvalidInput, match="release-after"):
        callbacks.change_settings(store, "sales", release_after="10s")
    with pytest.raises(InvalidInput, match="preview-hold"):
        callbacks.change_settings(store, "sales", preview_hold="2d")
    with pytest.raises(InvalidInput, match="release-after"):
        callbacks.change_settings(store, "sales", release_after="soon")


def test_a_due_callback_is_taken_once_with_its_attempt_row(store: Engine, sales: int) -> None:
    from dialer.store.direct import due_work, take

    lead_id = _lead(store, sales, "+79001110031", status="callback")
    with session_scope(store) as session:
        session.add(Callback(campaign_id=sales, lead_id=lead_id, due_at=utcnow() - timedelta(seconds=5)))
    work = due_work(store, [sales], utcnow())
    assert [(w.kind, w.lead.lead_id, w.personal) for w in work] == [("callback", lead_id, None)]
    first = take(store, work[0], "node-a", lambda: 1_800_000_000.0)
    assert first is not None
    assert take(store, work[0], "node-b", lambda: 1_800_000_000.0) is None  # one winner, nothing half-written
    with Session(store) as session:
        assert [a.id for a in session.exec(select(CallAttempt)).all()] == [first.attempt_id]
        callback = session.exec(select(Callback)).one()
        assert callback.done and callback.attempt_id == first.attempt_id
        lead = session.get(Lead, lead_id)
        assert lead is not None and (lead.claimed_by, lead.status) == ("node-a", "in_call")
    assert due_work(store, [sales], utcnow()) == []


def test_a_request_cannot_take_a_lead_reserved_for_another_operator(store: Engine) -> None:
    from dialer.store.direct import due_work, take

    cid = console_campaign(store, "pv", mode="preview")
    operator_account(store, "anna", "op1", "pv")
    operator_account(store, "boris", "op2", "pv")
    lead_id = _lead(store, cid, "+79001110041")
    assert direct_calls.next_lead(store, "op1") is not None
    with session_scope(store) as session:  # a request of boris's for anna's reserved lead
        op2 = session.exec(select(Operator).where(Operator.name == "op2")).one()
        session.add(DirectCall(campaign_id=cid, lead_id=lead_id, operator_id=op2.id or 0, kind="preview"))
    work = due_work(store, [cid], utcnow())
    assert take(store, work[0], "node-a", lambda: 1_800_000_000.0) is None
    with Session(store) as session:
        assert session.exec(select(CallAttempt)).all() == []
        assert session.get(Lead, lead_id).claimed_by == "preview:op1"  # type: ignore[union-attr]


def test_a_node_whose_fence_moved_on_takes_no_call_for_one_operator(store: Engine, sales: int) -> None:
    """Callbacks, preview and manual calls are fenced like the pacers' calls: a node that lost the
    campaign to another writes nothing, and the owner under the current fence takes the call."""
    from sqlalchemy import insert

    from campaigns.tables import OWNER_TABLE
    from dialer.store.direct import due_work, take

    lead_id = _lead(store, sales, "+79001110051", status="callback")
    with session_scope(store) as session:
        session.add(Callback(campaign_id=sales, lead_id=lead_id, due_at=utcnow() - timedelta(seconds=5)))
    with store.begin() as conn:
        conn.execute(insert(OWNER_TABLE).values(campaign_id=sales, node="node-b", since=utcnow(), fence=2))
    work = due_work(store, [sales], utcnow())
    assert take(store, work[0], "node-a", lambda: 1_800_000_000.0, fence=1) is None
    with Session(store) as session:
        assert session.exec(select(CallAttempt)).all() == []
        assert session.get(Lead, lead_id).claimed_by is None  # type: ignore[union-attr]
    taken = take(store, work[0], "node-b", lambda: 1_800_000_000.0, fence=2)
    assert taken is not None and taken.lead.lead_id == lead_id


def test_skip_after_call_calls_the_request_off_so_the_engine_places_nothing(store: Engine) -> None:
    cid = console_campaign(store, "pv", mode="preview")
    operator_account(store, "anna", "op1", "pv")
    first = _lead(store, cid, "+79001110041")
    assert direct_calls.next_lead(store, "op1") is not None
    direct_calls.call_reserved(store, "op1", first)  # Call, then Skip before the engine placed it
    direct_calls.skip_reserved(store, "op1", first)
    assert due_work(store, [cid], utcnow()) == []  # the engine finds no request to place
    with Session(store) as session:
        assert session.exec(select(DirectCall)).one().refused == "skipped by the operator"
        lead = session.get(Lead, first)
        assert lead is not None and lead.claimed_by is None and lead.next_call_at is not None
    with pytest.raises(NotFound):  # pressed again: the lead is no longer theirs
        direct_calls.skip_reserved(store, "op1", first)
