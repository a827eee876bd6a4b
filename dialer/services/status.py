"""What ``dialer status`` shows: campaigns with leads left, calls in flight, operators, outcomes,
and, for paced campaigns (predictive, ratio), each engine's last pacing decision.

Read from the store only, so it works with or without a running engine and
shows every node's calls. Engines write their pacing explanation every few
seconds (``dialer.store.pace``); an old one means that engine has stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from campaigns.models import CallAttempt, Campaign, Lead, Operator
from campaigns.retry import LeadStatus
from campaigns.service import find_campaigns
from dialer.core.modes import PACED_MODES
from dialer.store.nodes import NodeHealth, nodes
from dialer.store.ownership import owners
from dialer.store.pace import PacingView, load_explains
from dialer.store.recorder import NO_WINDOW

LEFT = (LeadStatus.NEW.value, LeadStatus.SCHEDULED.value, LeadStatus.IN_CALL.value)


@dataclass(frozen=True)
class CampaignStatus:
    name: str
    mode: str
    leads: dict[str, int]  # by lead status
    leads_left: int
    no_window: int  # leads that can never be called in their window: fix their zone
    in_flight: int
    outcomes: dict[str, int]
    pacing: list[PacingView] = field(default_factory=list)  # paced modes only: one per engine node
    node: str | None = None  # the engine node dialing it, if any


@dataclass(frozen=True)
class StatusReport:
    campaigns: list[CampaignStatus]
    operators: dict[str, int] = field(default_factory=dict)  # observed state -> count
    nodes: list[NodeHealth] = field(default_factory=list)  # running engines, by heartbeat

    @property
    def in_flight(self) -> int:
        return sum(c.in_flight for c in self.campaigns)


def collect_status(store: Engine, names: Sequence[str] = ()) -> StatusReport:
    with Session(store) as session:
        if names:
            campaigns = find_campaigns(session, names)
        else:
            campaigns = list(session.exec(select(Campaign).order_by(col(Campaign.name))).all())
        paced = [c.id for c in campaigns if c.id is not None and c.mode in PACED_MODES]
        explains = load_explains(store, paced)
        dialing = owners(store)
        report = [
            _campaign_status(session, c, explains.get(c.id or 0, []), dialing.get(c.id or 0))
            for c in campaigns
        ]
        operators = dict(
            session.exec(select(Operator.state, func.count()).group_by(col(Operator.state))).all()
        )
    return StatusReport(report, {k: int(v) for k, v in operators.items()}, nodes(store))


def _campaign_status(
    session: Session, campaign: Campaign, pacing: list[PacingView], node: str | None
) -> CampaignStatus:
    cid = campaign.id
    leads = {
        status: int(n)
        for status, n in session.exec(
            select(Lead.status, func.count()).where(Lead.campaign_id == cid).group_by(col(Lead.status))
        ).all()
    }
    no_window = session.exec(
        select(func.count())
        .select_from(Lead)
        .where(Lead.campaign_id == cid, Lead.last_outcome == NO_WINDOW, col(Lead.status).in_(LEFT))
    ).one()
    in_flight = session.exec(
        select(func.count())
        .select_from(CallAttempt)
        .where(CallAttempt.campaign_id == cid, col(CallAttempt.ended_at).is_(None))
    ).one()
    outcomes = {
        str(outcome): int(n)
        for outcome, n in session.exec(
            select(CallAttempt.outcome, func.count())
            .where(CallAttempt.campaign_id == cid, col(CallAttempt.outcome).is_not(None))
            .group_by(col(CallAttempt.outcome))
        ).all()
    }
    return CampaignStatus(
        name=campaign.name,
        mode=campaign.mode,
        leads=leads,
        leads_left=sum(leads.get(s, 0) for s in LEFT),
        no_window=int(no_window),
        in_flight=int(in_flight),
        outcomes=outcomes,
        pacing=pacing,
        node=node,
    )
