"""What ``dialer status`` shows: campaigns with their state, leads left and when the next is due,
calls in flight, operators, outcomes, and, for paced campaigns (predictive, ratio), the last
pacing decision of the engine dialing each one.

Read from the store only, so it works with or without a running engine and
shows every node's calls. Engines write their pacing explanation every few
seconds (``dialer.store.pace``); only the explanation of a campaign's owner, while
that node's heartbeat is fresh, is shown, so a campaign nobody dials has no pacing line.
Archived campaigns are left out unless named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from campaigns.lifecycle import CampaignState
from campaigns.models import CallAttempt, Campaign, Lead, Operator
from campaigns.next_call import next_due
from campaigns.retry import LeadStatus
from campaigns.service import find_campaigns
from dialer.core.modes import EXPLAINED_MODES
from dialer.store.nodes import DEFAULT_LEASE_S, NodeHealth, nodes
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
    pacing: list[PacingView] = field(default_factory=list)  # modes a pacer dials: one per engine node
    node: str | None = None  # the engine node dialing it, if any
    state: str = CampaignState.ACTIVE.value
    next_due: datetime | None = None  # the earliest due time of its dialable leads


@dataclass(frozen=True)
class StatusReport:
    campaigns: list[CampaignStatus]
    operators: dict[str, int] = field(default_factory=dict)  # observed state -> count
    nodes: list[NodeHealth] = field(default_factory=list)  # running engines, by heartbeat

    @property
    def in_flight(self) -> int:
        return sum(c.in_flight for c in self.campaigns)


def collect_status(store: Engine, names: Sequence[str] = (), now: datetime | None = None) -> StatusReport:
    """The status of the named campaigns, else of every campaign not archived."""
    moment = now or datetime.now(UTC)
    with Session(store) as session:
        if names:
            campaigns = find_campaigns(session, names)
        else:
            query = select(Campaign).where(col(Campaign.state) != CampaignState.ARCHIVED.value)
            campaigns = list(session.exec(query.order_by(col(Campaign.name))).all())
        ids = [c.id for c in campaigns if c.id is not None]
        engines = nodes(store)
        dialing = _dialing(owners(store), engines, moment)
        paced = [c.id for c in campaigns if c.id is not None and c.mode in EXPLAINED_MODES]
        explains = load_explains(store, paced)
        due = next_due(session, ids)
        report = [
            _campaign_status(
                session,
                c,
                [v for v in explains.get(c.id or 0, []) if v.node == dialing.get(c.id or 0)],
                dialing.get(c.id or 0),
                due.get(c.id or 0),
            )
            for c in campaigns
        ]
        operators = dict(
            session.exec(select(Operator.state, func.count()).group_by(col(Operator.state))).all()
        )
    return StatusReport(report, {k: int(v) for k, v in operators.items()}, engines)


def _dialing(owned: dict[int, str], engines: Sequence[NodeHealth], now: datetime) -> dict[int, str]:
    """Campaign id -> the node dialing it: its owner, if that node's heartbeat is fresh."""
    alive = {n.name for n in engines if n.silent_for(now) <= DEFAULT_LEASE_S}
    return {cid: node for cid, node in owned.items() if node in alive}


def _campaign_status(
    session: Session, campaign: Campaign, pacing: list[PacingView], node: str | None, due: datetime | None
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
        state=campaign.state,
        next_due=due,
    )
