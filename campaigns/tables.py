"""SQLAlchemy Core handles on the tables, for the statements the ORM does not express well
(bulk inserts, conditional updates). One place, so the typing gap is bridged once."""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel

from campaigns.models import (
    CallAttempt,
    Campaign,
    CampaignOwner,
    CampaignShare,
    DialerNode,
    DncEntry,
    Lead,
    LeadList,
    Operator,
)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table a ``table=True`` model maps (SQLModel does not declare ``__table__``)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


ATTEMPT_TABLE = table_of(CallAttempt)
CAMPAIGN_TABLE = table_of(Campaign)
DNC_TABLE = table_of(DncEntry)
LEAD_TABLE = table_of(Lead)
LIST_TABLE = table_of(LeadList)
NODE_TABLE = table_of(DialerNode)
OPERATOR_TABLE = table_of(Operator)
OWNER_TABLE = table_of(CampaignOwner)
SHARE_TABLE = table_of(CampaignShare)
