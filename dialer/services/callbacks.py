"""Callbacks: a time promised to a customer, set with a disposition, shown to its operator.

The operator enters the time in the lead's local time (its first candidate zone); it is refused
(``CallbackRejected``, naming the form field) when it falls outside the calling window in any
of the lead's zones or against the campaign's contact limits, the same pure rules the engine
applies when it dials. A callback is personal (only this operator, when ready) or for anyone;
the engine places it (``dialer.engine.direct``) and a personal one still waiting
``callback_release_s`` after its time goes to anyone. Settings per campaign:
``dialer callbacks settings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Callback, Campaign, ConsoleSetting, Lead, Operator, utcnow
from campaigns.retry import LeadStatus, parse_duration
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.core.clock import aware
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import N_
from dialer.policy.campaign_rules import CampaignRules
from dialer.policy.direct import callback_time_problem, check_hold, check_release
from dialer.policy.gate import zones_of
from dialer.store.lead_checks import contacts_of

PERSONAL, ANYONE = "me", "anyone"


class FieldProblem(InvalidInput):
    """A form value refused, with the name of the field it belongs next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Settings:
    campaign: str
    callback_release_s: int
    preview_hold_s: int


@dataclass(frozen=True)
class UpcomingCallback:
    callback_id: int
    lead_id: int
    phone: str
    due_local: datetime  # in the lead's zone
    personal: bool


def lead_zone(lead: Lead) -> ZoneInfo:
    """The zone a lead's times are shown and entered in: its first candidate zone, else UTC."""
    for name in zones_of(lead.time_zones):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def settings_of(session: Session, campaign_id: int) -> ConsoleSetting:
    return session.get(ConsoleSetting, campaign_id) or ConsoleSetting(campaign_id=campaign_id)


def show_settings(store: Engine, campaign: str) -> Settings:
    with Session(store) as session:
        found = find_campaign(session, campaign)
        assert found.id is not None
        row = settings_of(session, found.id)
        return Settings(found.name, row.callback_release_s, row.preview_hold_s)


def change_settings(
    store: Engine, campaign: str, release_after: str | None = None, preview_hold: str | None = None
) -> Settings:
    """Set the delay after which a personal callback goes to anyone, and the preview reservation."""
    release = check_release(_seconds("--release-after", release_after)) if release_after else None
    hold = check_hold(_seconds("--preview-hold", preview_hold)) if preview_hold else None
    with session_scope(store) as session:
        found = find_campaign(session, campaign)
        assert found.id is not None
        row = settings_of(session, found.id)
        row.callback_release_s = release if release is not None else row.callback_release_s
        row.preview_hold_s = hold if hold is not None else row.preview_hold_s
        session.add(row)
        return Settings(found.name, row.callback_release_s, row.preview_hold_s)


def _seconds(option: str, text: str) -> int:
    try:
        return int(parse_duration(text).total_seconds())
    except ValueError as exc:
        raise InvalidInput(f"{option}: {exc}") from None


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """``YYYY-MM-DDTHH:MM`` (what a datetime-local field sends) in ``zone``, as aware UTC."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FieldProblem("callback_at", N_("enter a date and time, e.g. 2026-12-01T15:30")) from None
    if naive.tzinfo is not None:
        raise FieldProblem("callback_at", N_("enter the lead's local time without a zone"))
    return naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def schedule_callback(
    store: Engine, session: Session, attempt: CallAttempt, lead: Lead, operator: Operator, when: str, who: str
) -> Callback:
    """Check and add the callback ``attempt``'s operator promised; the lead waits for it."""
    if who not in (PERSONAL, ANYONE):
        raise FieldProblem("callback_for", N_("choose: only me, or anyone"))
    if not when.strip():
        raise FieldProblem("callback_at", N_("this code asks for a callback time"))
    zone = lead_zone(lead)
    at = parse_local(when, zone)
    campaign = session.get(Campaign, attempt.campaign_id)
    assert campaign is not None
    rules = CampaignRules.from_campaign(campaign)
    contacts = contacts_of(store, rules, lead.phone, at)
    if attempt.outcome is None and attempt.connected_at is not None:
        contacts = sorted([*contacts, aware(attempt.connected_at)])  # this call, not ended yet
    problem = callback_time_problem(
        at, utcnow(), zones_of(lead.time_zones), rules.window, rules.contact_limits, contacts, zone
    )
    if problem is not None:
        raise FieldProblem("callback_at", problem)
    row = Callback(
        campaign_id=attempt.campaign_id,
        lead_id=lead.id or 0,
        operator_id=operator.id if who == PERSONAL else None,
        due_at=at,
        set_by=operator.name,
    )
    session.add(row)
    lead.status, lead.next_call_at = LeadStatus.CALLBACK.value, at
    return row


def upcoming(store: Engine, operator: str, limit: int = 20) -> list[UpcomingCallback]:
    """The callbacks waiting for ``operator``: personal ones and those they set for anyone."""
    with Session(store) as session:
        op = session.exec(select(Operator).where(Operator.name == operator)).first()
        if op is None:
            raise NotFound(f"no operator named {operator!r}")
        rows = session.exec(
            select(Callback, Lead)
            .join(Lead, col(Lead.id) == Callback.lead_id)
            .where(
                col(Callback.done).is_(False),
                (col(Callback.operator_id) == op.id) | (col(Callback.set_by) == op.name),
            )
            .order_by(col(Callback.due_at))
            .limit(limit)
        ).all()
        return [
            UpcomingCallback(
                cb.id or 0,
                lead.id or 0,
                lead.phone,
                aware(cb.due_at).astimezone(lead_zone(lead)),
                cb.operator_id is not None,
            )
            for cb, lead in rows
        ]
