"""What is left to dial, and when: the meaning of "done" for ``dialer run --until-done``.

Done means: no call in flight and no lead due now. A lead is due when its next
call time has come and nothing stops it at dial time. The engine, when it dials
nothing, first settles the due leads the dial-time checks refuse
(``dialer.engine.selection.settle_uncallable``): a lead whose calling window is closed is
rescheduled to the window's opening, so it waits exactly as a lead waits for its
retry time, and neither keeps the run going. Leads that wait are left for a later
run; the outlook says how many and when the first may be called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import DIALABLE, Lead
from dialer.core.i18n import _
from dialer.store.claims import due_count


@dataclass(frozen=True)
class Outlook:
    """Leads of some campaigns at one instant: due now, or waiting until ``next_at``."""

    due: int = 0
    waiting: int = 0  # for their retry time or their calling window
    next_at: datetime | None = None  # when the first waiting lead may be called

    @property
    def done(self) -> bool:
        return self.due == 0

    def describe(self) -> str:
        if self.due:
            return _("{count} leads are due now").format(count=self.due)
        if not self.waiting:
            return _("no lead is left to dial")
        waiting = _("{count} leads wait for their retry time or calling window").format(count=self.waiting)
        if self.next_at is None:
            return waiting
        return waiting + ", " + _("the first at {at} UTC").format(at=f"{self.next_at:%Y-%m-%d %H:%M}")


def outlook(store: Engine, campaign_ids: Sequence[int], now: datetime) -> Outlook:
    """The outlook for these campaigns at ``now`` (leads held by a node in a call are not counted)."""
    if not campaign_ids:
        return Outlook()
    due = due_count(store, campaign_ids, now)
    with Session(store) as session:
        waiting, next_at = session.exec(
            select(func.count(), func.min(Lead.next_call_at)).where(
                col(Lead.campaign_id).in_(list(campaign_ids)),
                col(Lead.status).in_(DIALABLE),
                col(Lead.next_call_at) > now,
            )
        ).one()
    return Outlook(due, int(waiting), next_at)
