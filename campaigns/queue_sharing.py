"""One queue, one campaign, unless the manager asks for sharing.

An Asterisk queue hands a waiting call to any free member. Two campaigns on one queue
therefore pool their operators: an operator of either campaign takes calls of both.
That is rarely what a manager means, so a second campaign on a queue is refused
unless ``--share-queue`` says it is meant. Archived campaigns hold no queue.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from campaigns.lifecycle import CampaignState
from campaigns.models import Campaign
from dialer.core.errors import InvalidInput


def effective_queue(name: str, queue: str) -> str:
    """The queue a campaign's answered calls join: its own, else one named after it."""
    return queue or name


def check_queue_free(session: Session, name: str, queue: str, share: bool) -> list[str]:
    """The other campaigns on this campaign's queue; ``InvalidInput`` if any and not ``share``."""
    target = effective_queue(name, queue)
    rows = session.exec(
        select(Campaign.name, Campaign.queue)
        .where(col(Campaign.name) != name, col(Campaign.state) != CampaignState.ARCHIVED.value)
        .order_by(col(Campaign.name))
    ).all()
    others = [other for other, other_queue in rows if effective_queue(other, other_queue) == target]
    if others and not share:
        raise InvalidInput(
            f"queue {target!r} is already used by campaign {', '.join(others)}: their operators would "
            "take each other's calls; pass --share-queue to share it on purpose (see docs/cli.md)"
        )
    return others


def queue_partners(session: Session, campaign: Campaign) -> list[str]:
    """The other non-archived campaigns whose calls join the same queue."""
    return check_queue_free(session, campaign.name, campaign.queue, share=True)
