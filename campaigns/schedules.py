"""Campaign schedules in the store: add, list and remove rules; read them for the engine.

The rules themselves (parsing, overlap, open or closed at an instant) are ``campaigns.schedule``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CampaignSchedule, ScheduleEvent
from campaigns.schedule import ScheduleRule, build_rule, check_new_rule
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.core.errors import NotFound


@dataclass(frozen=True)
class StoredRule:
    id: int
    rule: ScheduleRule


def _to_rule(row: CampaignSchedule) -> ScheduleRule:
    return build_rule(row.days, row.hours, row.zone, row.first_day, row.last_day)


def add_rule(engine: Engine, campaign: str, rule: ScheduleRule) -> StoredRule:
    """Store a rule; one that overlaps another rule of the campaign is refused."""
    with session_scope(engine) as session:
        row = find_campaign(session, campaign)
        existing = session.exec(select(CampaignSchedule).where(CampaignSchedule.campaign_id == row.id)).all()
        check_new_rule([_to_rule(r) for r in existing], rule)
        assert row.id is not None
        stored = CampaignSchedule(
            campaign_id=row.id,
            days=rule.days_text,
            hours=rule.hours_text,
            zone=rule.zone,
            first_day=rule.first_day,
            last_day=rule.last_day,
        )
        session.add(stored)
        session.flush()
        assert stored.id is not None
        return StoredRule(stored.id, rule)


def list_rules(engine: Engine, campaign: str) -> list[StoredRule]:
    with Session(engine) as session:
        row = find_campaign(session, campaign)
        rows = session.exec(
            select(CampaignSchedule)
            .where(CampaignSchedule.campaign_id == row.id)
            .order_by(col(CampaignSchedule.id))
        ).all()
        return [StoredRule(r.id or 0, _to_rule(r)) for r in rows]


def remove_rules(engine: Engine, campaign: str, rule_id: int | None) -> int:
    """Remove one rule by id, or every rule (``None``); returns how many went."""
    with session_scope(engine) as session:
        row = find_campaign(session, campaign)
        query = select(CampaignSchedule).where(CampaignSchedule.campaign_id == row.id)
        if rule_id is not None:
            query = query.where(CampaignSchedule.id == rule_id)
        rows = session.exec(query).all()
        if rule_id is not None and not rows:
            raise NotFound(f"campaign {campaign} has no schedule rule {rule_id}")
        for found in rows:
            session.delete(found)
        return len(rows)


def rules_by_campaign(engine: Engine, campaign_ids: Sequence[int]) -> dict[int, list[ScheduleRule]]:
    """Every rule of these campaigns; a campaign missing from the answer has none."""
    found: dict[int, list[ScheduleRule]] = {}
    with Session(engine) as session:
        rows = session.exec(
            select(CampaignSchedule).where(col(CampaignSchedule.campaign_id).in_(list(campaign_ids)))
        ).all()
    for row in rows:
        found.setdefault(row.campaign_id, []).append(_to_rule(row))
    return found


def record_event(engine: Engine, campaign_id: int, kind: str, at: datetime, node: str) -> None:
    with session_scope(engine) as session:
        session.add(ScheduleEvent(campaign_id=campaign_id, kind=kind, at=at, node=node))


def last_events(engine: Engine, campaign_ids: Sequence[int]) -> dict[int, ScheduleEvent]:
    """The latest opening or closing of each campaign, for ``dialer status``."""
    latest: dict[int, ScheduleEvent] = {}
    with Session(engine) as session:
        rows = session.exec(
            select(ScheduleEvent)
            .where(col(ScheduleEvent.campaign_id).in_(list(campaign_ids)))
            .order_by(col(ScheduleEvent.at), col(ScheduleEvent.id))
        ).all()
    for row in rows:
        latest[row.campaign_id] = row
    return latest
