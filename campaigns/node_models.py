"""Which node dials which campaign: the owner of a campaign one node dials, the shares of a
shared one. Declared apart from ``campaigns.models``, which imports them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from campaigns.clock import utcnow


class CampaignOwner(SQLModel, table=True):
    """Which dialer node dials a campaign: one pacer per campaign, whatever the number of nodes."""

    __tablename__ = "campaign_owner"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    node: str = Field(max_length=64, index=True)
    since: datetime = Field(default_factory=utcnow)
    # Bumped by every node that takes the campaign (PostgreSQL ownership, ``dialer.store.locks``);
    # a dialing cycle commits only under the fence its node took.
    fence: int = Field(default=0, sa_column_kwargs={"server_default": "0"}, sa_type=BigInteger)


class CampaignShare(SQLModel, table=True):
    """One node's share of a shared campaign: its fence, and its pacing figures of the last tick.

    Written by that node at every dialing tick, stamped with the server's ``now()``; the other
    nodes of the campaign read it while the node's share lock is held (``dialer.store.shares``).
    """

    __tablename__ = "campaign_share"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    node: str = Field(primary_key=True, max_length=64)
    fence: int = Field(default=0, sa_column_kwargs={"server_default": "0"}, sa_type=BigInteger)
    since: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    ringing: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    waiting: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    in_call: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    ready: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    wrapping: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Calls of the campaign the node may hold until its next exchange; all nodes' add up to at
    # most the campaign's max_channels (dialer.policy.shares).
    allowance: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Calls a second it may place until then; all nodes' add up to at most the campaign's rate.
    rate_allowance: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
