"""The supervisor's view of the team: each operator's state with its timer, and their live call.

For supervisors and admins only (the console answers an operator with 404). Two reads per
refresh, whatever the team's size: the operators with their campaigns, and the calls connected
within a shift that are still live or await their disposition.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Campaign, Operator, OperatorCampaign, utcnow
from dialer.core.clock import aware
from dialer.core.errors import NotFound
from dialer.services.accounts import Role, UserView
from dialer.services.console import POP_WINDOW


@dataclass(frozen=True)
class TeamCall:
    attempt_id: str
    phone: str
    campaign: str
    connected_at: datetime
    ended_at: datetime | None  # set: the call ended and awaits the operator's disposition


@dataclass(frozen=True)
class TeamRow:
    operator: str
    desired: str
    pause_reason: str | None
    observed: str
    since: datetime  # when Asterisk last reported a change of state
    campaigns: tuple[str, ...]
    call: TeamCall | None


def check_supervisor(user: UserView) -> None:
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise NotFound("no such page")


def team(store: Engine, user: UserView) -> list[TeamRow]:
    check_supervisor(user)
    with Session(store) as session:
        operators = session.exec(select(Operator).order_by(col(Operator.name))).all()
        links = session.exec(
            select(OperatorCampaign.operator_id, Campaign.name).join(
                Campaign, col(Campaign.id) == col(OperatorCampaign.campaign_id)
            )
        ).all()
        calls = session.exec(
            select(CallAttempt, Campaign.name)
            .join(Campaign, col(Campaign.id) == col(CallAttempt.campaign_id))
            .where(
                col(CallAttempt.connected_at).is_not(None),
                col(CallAttempt.disposition).is_(None),
                col(CallAttempt.started_at) > utcnow() - POP_WINDOW,
            )
            .order_by(col(CallAttempt.connected_at))
        ).all()
    campaigns: dict[int | None, list[str]] = defaultdict(list)
    for operator_id, name in links:
        campaigns[operator_id].append(name)
    current: dict[str, TeamCall] = {}
    for a, campaign in calls:  # the newest call of each operator wins
        if a.operator and a.connected_at:
            ended = aware(a.ended_at) if a.ended_at else None
            current[a.operator] = TeamCall(a.id, a.phone, campaign, aware(a.connected_at), ended)
    return [
        TeamRow(
            op.name,
            op.desired_state,
            op.pause_reason,
            op.state,
            aware(op.state_changed_at),
            tuple(sorted(campaigns[op.id])),
            current.get(op.name),
        )
        for op in operators
    ]
