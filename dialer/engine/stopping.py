"""What a clean stop leaves behind in the phone system: operators as they asked, nothing more.

While it runs, the engine pauses operators on its own account: ``direct`` while a call placed
for one operator is live, ``wrap-up`` while a held wrap-up awaits its disposition
(``dialer.engine.membership``). Those pauses mean nothing once the engine is gone, and a
restarted engine holds nobody, so a stop (SIGTERM, SIGINT, ``--until-done``) ends them: once
the live calls are over, each operator's desired state is read from the store again and
applied for the last time. A ready operator is unpaused; one paused as they asked stays
paused with the engine's own reason. If the store cannot be read, the states read last are
applied. With the link to the phone system down nothing can be sent, and nothing is.
"""

from __future__ import annotations

import logging

from dialer.engine.campaign_run import CampaignRuns
from dialer.engine.membership import Membership
from dialer.engine.writer import STORE_DOWN

log = logging.getLogger(__name__)


async def restore_wishes(membership: Membership, book: CampaignRuns, connected: bool) -> None:
    """End the engine's own pauses: every operator this node serves is left as the store says."""
    if not connected:
        log.warning("stopping without the phone system: operators stay as it last had them")
        return
    membership.let_go()
    queues = {cid: run.rules.queue for cid, run in book.runs.items()}
    try:
        assignments = await book.assignments(queues)
    except STORE_DOWN as exc:
        log.warning("stopping: operators' wishes unreadable (%s); applying the ones read last", exc)
        await membership.apply_again()
        return
    await membership.apply(assignments)
