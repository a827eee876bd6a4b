"""What is left to dial, and when: the meaning of "done" for ``dialer run --until-done``.

Done means: no call in flight, no lead due now and no callback due now. A lead is due
when its next call time has come and nothing stops it at dial time. The engine, when it
dials nothing, first settles the due leads the dial-time checks refuse
(``dialer.engine.selection.settle_uncallable``): a lead whose calling window is closed is
rescheduled to the window's opening, so it waits exactly as a lead waits for its retry
time, and neither keeps the run going. A callback counts as a retry does: one due now
keeps the run going (a personal one until its operator is ready, or until it is released
to anyone), and one set for later waits like a retry. Leads and callbacks that wait are
left for a later run; the outlook says how many and when the first may be called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import DIALABLE, Callback, Lead
from dialer.core.i18n import _
from dialer.store.claims import due_count


@dataclass(frozen=True)
class Outlook:
    """Leads and callbacks of some campaigns at one instant: due now, or waiting until ``next_at``."""

    due: int = 0
    waiting: int = 0  # for their retry time or their calling window
    next_at: datetime | None = None  # when the first waiting lead or callback may be called
    callbacks_due: int = 0
    personal_due: int = 0  # of those, callbacks for one operator
    callbacks_waiting: int = 0

    @property
    def done(self) -> bool:
        return self.due == 0 and self.callbacks_due == 0

    def describe(self) -> str:
        if not self.done:
            return ", ".join(self._due_now())
        parts = []
        if self.waiting:
            parts.append(
                _("{count} leads wait for their retry time or calling window").format(count=self.waiting)
            )
        if self.callbacks_waiting:
            parts.append(_("{count} callbacks wait for their time").format(count=self.callbacks_waiting))
        if not parts:
            return _("no lead is left to dial")
        if self.next_at is not None:
            parts.append(_("the first at {at} UTC").format(at=f"{self.next_at:%Y-%m-%d %H:%M}"))
        return ", ".join(parts)

    def _due_now(self) -> list[str]:
        parts = [_("{count} leads are due now").format(count=self.due)] if self.due else []
        if self.callbacks_due:
            text = _("{count} callbacks are due now").format(count=self.callbacks_due)
            if self.personal_due:
                text += " " + _("({count} of them wait for their own operator)").format(
                    count=self.personal_due
                )
            parts.append(text)
        return parts


def outlook(store: Engine, campaign_ids: Sequence[int], now: datetime) -> Outlook:
    """The outlook for these campaigns at ``now`` (leads held by a node in a call are not counted)."""
    if not campaign_ids:
        return Outlook()
    ids = list(campaign_ids)
    due = due_count(store, ids, now)
    open_callbacks = (col(Callback.campaign_id).in_(ids), col(Callback.done).is_(False))
    with Session(store) as session:
        waiting, next_lead = session.exec(
            select(func.count(), func.min(Lead.next_call_at)).where(
                col(Lead.campaign_id).in_(ids), col(Lead.status).in_(DIALABLE), col(Lead.next_call_at) > now
            )
        ).one()
        callbacks_due, personal = session.exec(
            select(func.count(), func.count(col(Callback.operator_id))).where(
                *open_callbacks, col(Callback.due_at) <= now
            )
        ).one()
        later, next_callback = session.exec(
            select(func.count(), func.min(Callback.due_at)).where(*open_callbacks, col(Callback.due_at) > now)
        ).one()
    first = min((at for at in (next_lead, next_callback) if at is not None), default=None)
    return Outlook(due, int(waiting), first, int(callbacks_due), int(personal), int(later))
