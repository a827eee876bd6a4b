"""What the operator console shows: an operator's state and the call Asterisk connected to them.

The console calls these functions and renders their values; it holds no rules of its own. An
operator sees only calls connected to them and the leads of those calls: anything else is
``NotFound``, which the console answers with 404, as if it did not exist.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select as sql_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.lead_numbers import number_zones
from campaigns.models import CallAttempt, Campaign, CampaignScript, Lead, LeadList, Operator, utcnow
from campaigns.store import session_scope
from dialer.core.clock import aware
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import gettext
from dialer.policy.script import ScriptPart, fill
from dialer.services.accounts import Role, UserView
from dialer.services.dispositions import CodeView, campaign_codes
from dialer.services.survey import QuestionView, campaign_questions
from dialer.store import console_events
from dialer.store.feed_cursor import FeedCursor

POP_WINDOW = timedelta(hours=14)  # an undisposed call older than a shift no longer pops
MAX_SCRIPT = 20000


@dataclass(frozen=True)
class StateView:
    operator: str
    desired: str
    desired_at: datetime | None
    pause_reason: str | None
    observed: str
    observed_at: datetime


@dataclass(frozen=True)
class HistoryRow:
    started_at: datetime
    outcome: str | None
    disposition: str | None
    note: str | None
    operator: str | None


@dataclass(frozen=True)
class CallCard:
    """The screen pop: one connected call with its lead, campaign, history, script and codes."""

    attempt_id: str
    live: bool
    connected_at: datetime | None
    disposition: str | None
    lead_id: int
    phone: str
    columns: list[tuple[str, str]]
    local_times: list[tuple[str, datetime]]
    campaign: str
    history: list[HistoryRow]
    script: list[ScriptPart]
    codes: list[CodeView] = field(default_factory=list)
    questions: list[QuestionView] = field(default_factory=list)
    wrapup_until: datetime | None = None  # held out of the queue until the disposition, at most till then


def _operator(session: Session, name: str) -> Operator:
    operator = session.exec(select(Operator).where(Operator.name == name)).first()
    if operator is None:
        raise NotFound(f"no operator named {name!r}")
    return operator


def operator_state(store: Engine, operator: str) -> StateView:
    with Session(store) as session:
        op = _operator(session, operator)
        return StateView(
            op.name,
            op.desired_state,
            aware(op.desired_at) if op.desired_at else None,
            op.pause_reason,
            op.state,
            aware(op.state_changed_at),
        )


def _awaiting(operator: str) -> tuple[Any, ...]:
    return (
        CallAttempt.operator == operator,
        col(CallAttempt.connected_at).is_not(None),
        col(CallAttempt.disposition).is_(None),
        col(CallAttempt.started_at) > utcnow() - POP_WINDOW,
    )


def current_attempt(store: Engine, operator: str) -> str | None:
    """The newest call connected to ``operator`` that still awaits their disposition."""
    with Session(store) as session:
        return session.exec(
            select(CallAttempt.id)
            .where(*_awaiting(operator))
            .order_by(col(CallAttempt.connected_at).desc())
            .limit(1)
        ).first()


def _visible_attempt(session: Session, user: UserView, attempt_id: str) -> CallAttempt:
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.connected_at is None:
        raise NotFound("no such call")
    if user.role is Role.OPERATOR and attempt.operator != user.operator:
        raise NotFound("no such call")
    return attempt


def call_card(store: Engine, user: UserView, attempt_id: str) -> CallCard:
    with Session(store) as session:
        attempt = _visible_attempt(session, user, attempt_id)
        lead = session.get(Lead, attempt.lead_id)
        campaign = session.get(Campaign, attempt.campaign_id)
        assert lead is not None and campaign is not None
        lead_list = session.get(LeadList, lead.list_id) if lead.list_id is not None else None
        return _card(session, attempt, lead, campaign, list(lead_list.columns) if lead_list else [])


def current_card(store: Engine, operator: str) -> CallCard | None:
    """The pop: ``operator``'s newest connected call awaiting their disposition, with its lead.

    One query for the call, its lead, campaign and list, one for the lead's earlier attempts; the
    campaign's script, codes and questions come from a short cache. Only ``operator``'s own calls.
    """
    with Session(store) as session:
        found = session.exec(
            select(CallAttempt, Lead, Campaign, LeadList.columns)
            .join(Lead, col(Lead.id) == CallAttempt.lead_id)
            .join(Campaign, col(Campaign.id) == CallAttempt.campaign_id)
            .outerjoin(LeadList, col(LeadList.id) == Lead.list_id)
            .where(*_awaiting(operator))
            .order_by(col(CallAttempt.connected_at).desc())
            .limit(1)
        ).first()
        if found is None:
            return None
        attempt, lead, campaign, order = found
        return _card(session, attempt, lead, campaign, list(order or []))


def _card(
    session: Session, attempt: CallAttempt, lead: Lead, campaign: Campaign, order: list[str]
) -> CallCard:
    assert lead.id is not None and campaign.id is not None
    columns = _columns(lead, order)
    script, codes, questions = _campaign_parts(session, campaign.id)
    # The number the operator is speaking on: a lead may have alternates, each with its zones.
    zones = number_zones(lead.phone, lead.time_zones, lead.numbers, attempt.phone)
    values = {name: value for name, value in columns} | {"phone": attempt.phone, "campaign": campaign.name}
    return CallCard(
        attempt_id=attempt.id,
        live=attempt.ended_at is None,
        connected_at=aware(attempt.connected_at) if attempt.connected_at else None,
        disposition=attempt.disposition,
        lead_id=lead.id,
        phone=attempt.phone,
        columns=columns,
        # To the minute, as shown: an unchanged call gives an equal card, and is not drawn again.
        local_times=local_times(zones, utcnow().replace(second=0, microsecond=0)),
        campaign=campaign.name,
        history=_history(session, lead.id, exclude=attempt.id),
        script=fill(script, values) if script else [],
        codes=codes,
        questions=questions,
        wrapup_until=_wrapup_until(attempt, campaign),
    )


_PARTS_TTL_S = 1.0  # how stale a campaign's script, codes and questions may be on a screen
_parts: dict[tuple[str, int], tuple[float, tuple[str, list[CodeView], list[QuestionView]]]] = {}


def _campaign_parts(session: Session, campaign_id: int) -> tuple[str, list[CodeView], list[QuestionView]]:
    """The campaign's script, codes and questions: the same for every pop, so read once a second."""
    now = time.monotonic()
    key = (str(session.get_bind().engine.url), campaign_id)
    cached = _parts.get(key)
    if cached is not None and now - cached[0] < _PARTS_TTL_S:
        return cached[1]
    script = session.get(CampaignScript, campaign_id)
    parts = (
        script.body if script else "",
        campaign_codes(session, campaign_id),
        campaign_questions(session, campaign_id),
    )
    _parts[key] = (now, parts)
    return parts


def _wrapup_until(attempt: CallAttempt, campaign: Campaign) -> datetime | None:
    if attempt.ended_at is None or attempt.disposition is not None or campaign.wrapup_limit_s <= 0:
        return None
    return aware(attempt.ended_at) + timedelta(seconds=campaign.wrapup_limit_s)


def lead_card(store: Engine, user: UserView, lead_id: int) -> CallCard:
    """A lead an operator may see: one of their own calls was with it."""
    with Session(store) as session:
        query = select(CallAttempt.id).where(
            CallAttempt.lead_id == lead_id, col(CallAttempt.connected_at).is_not(None)
        )
        if user.role is Role.OPERATOR:
            query = query.where(CallAttempt.operator == user.operator)
        attempt_id = session.exec(query.order_by(col(CallAttempt.started_at).desc()).limit(1)).first()
    if attempt_id is None:
        raise NotFound("no such lead")
    return call_card(store, user, attempt_id)


def _columns(lead: Lead, order: list[str]) -> list[tuple[str, str]]:
    names = order + [k for k in lead.data if k not in order]
    return [(name, "" if lead.data.get(name) is None else str(lead.data.get(name))) for name in names]


def _history(session: Session, lead_id: int, exclude: str) -> list[HistoryRow]:
    a = CallAttempt
    rows = session.execute(
        sql_select(col(a.started_at), col(a.outcome), col(a.disposition), col(a.note), col(a.operator))
        .where(col(a.lead_id) == lead_id, col(a.id) != exclude)
        .order_by(col(a.started_at).desc())
        .limit(50)
    ).all()
    return [HistoryRow(aware(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def local_times(time_zones: str, now: datetime) -> list[tuple[str, datetime]]:
    """The lead's local time in each of its candidate zones."""
    times = []
    for name in [z.strip() for z in time_zones.split(",") if z.strip()][:5]:
        try:
            times.append((name, now.astimezone(ZoneInfo(name))))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return times


def set_script(store: Engine, campaign: str, body: str) -> None:
    """Store the campaign's call script (plain text with ``{column}`` placeholders)."""
    if len(body) > MAX_SCRIPT:
        raise InvalidInput(gettext("the script is longer than {count} characters").format(count=MAX_SCRIPT))
    with session_scope(store) as session:
        found = session.exec(select(Campaign).where(Campaign.name == campaign)).first()
        if found is None or found.id is None:
            raise NotFound(gettext("unknown campaign {name}").format(name=repr(campaign)))
        row = session.get(CampaignScript, found.id) or CampaignScript(campaign_id=found.id)
        row.body, row.updated_at = body, utcnow()
        session.add(row)


def get_script(store: Engine, campaign: str) -> str:
    with Session(store) as session:
        found = session.exec(select(Campaign).where(Campaign.name == campaign)).first()
        if found is None or found.id is None:
            raise NotFound(gettext("unknown campaign {name}").format(name=repr(campaign)))
        row = session.get(CampaignScript, found.id)
        return row.body if row else ""


listen_for_events = console_events.listen
# The kinds of event that tell of a call (what an operator's call panel shows), and of a queue state.
# A connection also follows a placed preview or callback, which the direct panel shows.
CALL_EVENTS = frozenset({console_events.CONNECTED, console_events.ENDED, console_events.DISPOSED})
CONNECT_EVENTS = frozenset({console_events.CONNECTED})
STATE_EVENTS = frozenset({console_events.STATE})


def operators_touched(store: Engine, after: int) -> tuple[int, set[str]]:
    """The newest event id, and the operators named by the events after ``after``."""
    cursor, kinds = event_kinds(store, after)
    return cursor, set(kinds)


FeedGate = FeedCursor  # one per watching thread: ``FeedGate(store)``


def new_event_kinds(store: Engine, gate: FeedGate, after: int) -> tuple[int, dict[str, set[str]]]:
    """``event_kinds`` of the events ``gate`` has not delivered, read only when its cheap look
    finds some: new ones past ``after``, or ones committed late below it (``FeedCursor``)."""
    if gate.cursor != after:
        gate.start_at(after)
    if not gate.changed():
        return after, {}
    events, ids = gate.peek()
    kinds = _kinds_of(store, events) if events else {}
    gate.move_on(ids)
    return gate.cursor, kinds


def event_kinds(store: Engine, after: int) -> tuple[int, dict[str, set[str]]]:
    """The newest event id, and for each operator named after ``after``, the kinds of its events."""
    with store.connect() as conn:
        events = console_events.events_after(conn, after)
    if not events:
        return after, {}
    return events[-1][0], _kinds_of(store, events)


def _kinds_of(store: Engine, events: Sequence[tuple[int, str, str, str | None]]) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for _, kind, subject, _ in events:
        if kind != console_events.STATE:
            kinds.setdefault(subject, set()).add(kind)
    interfaces = {subject for _, kind, subject, _ in events if kind == console_events.STATE}
    for name in _names_of(store, interfaces) if interfaces else ():
        kinds.setdefault(name, set()).add(console_events.STATE)
    return kinds


def _names_of(store: Engine, interfaces: Sequence[str] | set[str]) -> set[str]:
    with Session(store) as session:
        rows = session.exec(select(Operator.name).where(col(Operator.interface).in_(list(interfaces)))).all()
        return set(rows)
