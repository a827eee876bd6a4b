"""Reading a number's recent contacts from the store, for the contact-frequency limits.

A *contact* is an attempt with outcome ``connected`` to the same E.164 number in
any campaign at all: a person who was spoken to for one campaign was spoken to.
Its instant is ``connected_at`` (when the operator took the call), else
``started_at``. One query per batch, bound parameters only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns.models import CallAttempt

CONTACT_OUTCOME = "connected"


def recent_contacts(store: Engine, phones: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
    """The contact instants after ``since``, oldest first, of each of ``phones`` spoken to in any campaign."""
    if not phones:
        return {}
    instant = func.coalesce(col(CallAttempt.connected_at), col(CallAttempt.started_at))
    query = (
        select(CallAttempt.phone, instant)
        .where(
            col(CallAttempt.phone).in_(sorted(set(phones))),
            col(CallAttempt.outcome) == CONTACT_OUTCOME,
            instant > since,
        )
        .order_by(instant)
    )
    found: dict[str, list[datetime]] = {}
    with store.connect() as conn:
        for phone, at in conn.execute(query):
            found.setdefault(phone, []).append(at)  # aware UTC: the columns' type
    return found
