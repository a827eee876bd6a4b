"""Start-up reconciliation: end what this node left unfinished, release what it held.

After a crash, the calls of the previous run that the phone system no longer
carries are beyond reach (those it still carries are adopted first:
``dialer.engine.adoption``). Each other unfinished attempt of this node is ended
as the state machine would expire it (answered and never connected counts as
abandoned: the abandon rate must not be understated by our own blind spot), and
its lead follows the retry rules.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import select as core_select
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns.models import Campaign
from campaigns.retry import RetryPolicy
from campaigns.tables import ATTEMPT_TABLE, LEAD_TABLE
from dialer.core.attempt import expire
from dialer.core.errors import InvalidInput
from dialer.policy.campaign_rules import CampaignRules
from dialer.store.claims import release_claims
from dialer.store.recorder import attempt_from_row, finish_attempt, unfinished_attempts

log = logging.getLogger(__name__)


def reconcile_node(store: Engine, node: str, now: float, adopted: Collection[str] = ()) -> int:
    """End ``node``'s unfinished attempts at ``now`` and release its claims; the count ended.

    ``adopted``: attempts whose calls the phone system still carries and the engine
    follows (``dialer.engine.adoption``); they are left as they are, and their leads held.
    """
    rows = [row for row in unfinished_attempts(store, node) if row.id not in adopted]
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


def hand_over(store: Engine, attempt_ids: Collection[str], node: str) -> None:
    """Make ``node`` the holder of these attempts and their leads (calls it adopted from another)."""
    if not attempt_ids:
        return
    a, lead = ATTEMPT_TABLE.c, LEAD_TABLE.c
    with store.begin() as conn:
        conn.execute(update(ATTEMPT_TABLE).where(a.id.in_(list(attempt_ids))).values(node=node))
        leads = core_select(a.lead_id).where(a.id.in_(list(attempt_ids))).scalar_subquery()
        conn.execute(update(LEAD_TABLE).where(lead.id.in_(leads)).values(claimed_by=node))
