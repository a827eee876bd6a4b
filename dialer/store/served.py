"""The campaigns an engine serves, and the cheap check that tells it one of them changed.

An engine serves the campaigns it was named, or else every campaign that is not
archived. Stopped ones are read too: the engine must see a campaign stop (to let it
go once its calls end) and see it resumed. Each campaign carries a ``version`` that
every edit and state change raises, so comparing ``{id: version}`` once a tick is
enough to apply a manager's change at the next tick without re-reading every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.lifecycle import CampaignState
from campaigns.models import Campaign


def _served(query: Any, names: Sequence[str]) -> Any:
    if names:
        return query.where(col(Campaign.name).in_(list(names)))
    return query.where(col(Campaign.state) != CampaignState.ARCHIVED.value)


def served_campaigns(store: Engine, names: Sequence[str] = ()) -> list[Campaign]:
    """The rows of the campaigns served: the named ones, else every one not archived."""
    with Session(store) as session:
        return list(session.exec(_served(select(Campaign), names)).all())


def served_versions(store: Engine, names: Sequence[str] = ()) -> dict[int, int]:
    """Campaign id -> version, for the same campaigns: one small read per tick."""
    with Session(store) as session:
        rows = session.exec(_served(select(col(Campaign.id), col(Campaign.version)), names)).all()
    return {int(cid): int(version) for cid, version in rows}
