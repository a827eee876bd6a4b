"""Start-up reconciliation: end what this node left unfinished, release what it held.

After a crash the calls of the previous run are beyond reach: the AMI adapter
never re-sends an Originate, and their events went to a dead process. Each
unfinished attempt of this node is ended as the state machine would expire it
(answered and never connected counts as abandoned: the abandon rate must not be
understated by our own blind spot), and its lead follows the retry rules.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns.models import Campaign
from campaigns.retry import RetryPolicy
from dialer.core.attempt import expire
from dialer.core.errors import InvalidInput
from dialer.policy.campaign_rules import CampaignRules
from dialer.store.claims import release_claims
from dialer.store.recorder import attempt_from_row, finish_attempt, unfinished_attempts

log = logging.getLogger(__name__)


def reconcile_node(store: Engine, node: str, now: float) -> int:
    """End ``node``'s unfinished attempts at ``now`` and release its claims; the count ended."""
    rows = unfinished_attempts(store, node)
    policies: dict[int, RetryPolicy] = {}
    for row in rows:
        policy = policies.get(row.campaign_id)
        if policy is None:
            policy = policies[row.campaign_id] = _policy(store, row.campaign_id)
        attempt = expire(attempt_from_row(row), now)
        finish_attempt(store, attempt, policy, row.operator)
        log.warning(
            "attempt %s left unfinished by an earlier run: ended as %s",
            row.id,
            attempt.outcome.value if attempt.outcome else "failed",
        )
    released = release_claims(store, node)
    if rows or released:
        log.info("reconciled %d attempts and released %d leads of node %s", len(rows), released, node)
    return len(rows)


def _policy(store: Engine, campaign_id: int) -> RetryPolicy:
    with Session(store) as session:
        campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return RetryPolicy()
    try:
        return CampaignRules.from_campaign(campaign).retry
    except InvalidInput:
        return RetryPolicy()
