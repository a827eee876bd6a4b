"""The data model: every table the product stores.

Portable on purpose: only types SQLAlchemy maps on both SQLite and PostgreSQL
(JSON, not JSONB; no SQLite pragmas or ROWID tricks). All datetimes are timezone-aware UTC.
Schema changes go through Alembic (``campaigns/migrations``), never ``create_all``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from campaigns.settings import DEFAULTS


def utcnow() -> datetime:
    """Aware UTC now: the one clock format the store uses."""
    return datetime.now(UTC)


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    mode: str = Field(default=DEFAULTS.mode.value, max_length=32)  # a dialer.core.modes.PacingMode
    ratio: float = DEFAULTS.ratio
    queue: str = Field(default="", max_length=80)
    dial_template: str = Field(default="", max_length=200)
    caller_id: str = Field(default="", max_length=80)
    region: str = Field(default=DEFAULTS.region, max_length=2)
    calling_window: str = Field(default=DEFAULTS.calling_window, max_length=64)
    ring_timeout_s: int = DEFAULTS.ring_timeout_s
    max_channels: int = DEFAULTS.max_channels
    originate_rate: float = DEFAULTS.originate_rate
    max_attempts: int = DEFAULTS.max_attempts
    retry_rules: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    connect_limit_s: float = DEFAULTS.connect_limit_s
    abandon_cap: float = DEFAULTS.abandon_cap
    abandon_window: str = Field(default=DEFAULTS.abandon_window, max_length=16)
    amd: bool = False
    safe_harbour_sound: str | None = Field(default=None, max_length=255)
    machine_message: str | None = Field(default=None, max_length=255)
    uk_abandon_rule: bool = False
    # N/PERIOD contact-frequency limits per number (campaigns.contact_limits); "" = none.
    contact_limits: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class LeadList(SQLModel, table=True):
    __tablename__ = "lead_list"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str = Field(max_length=255)
    columns: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rows_read: int = 0
    rows_imported: int = 0
    imported_at: datetime = Field(default_factory=utcnow)


class Lead(SQLModel, table=True):
    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone", name="uq_lead_campaign_phone"),
        Index("ix_lead_due", "campaign_id", "status", "next_call_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    list_id: int | None = Field(default=None, foreign_key="lead_list.id", index=True)
    phone: str = Field(max_length=20)  # E.164 with the leading +
    time_zones: str = Field(default="", max_length=2000)  # candidate IANA zones, comma-separated
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="new", max_length=16)  # campaigns.retry.LeadStatus values
    attempts: int = 0
    next_call_at: datetime | None = None
    last_outcome: str | None = Field(default=None, max_length=32)
    consent: bool | None = None
    claimed_by: str | None = Field(default=None, max_length=64)  # dialer node holding the lead
    claimed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class CallAttempt(SQLModel, table=True):
    __tablename__ = "call_attempt"
    __table_args__ = (
        Index("ix_attempt_campaign_started", "campaign_id", "started_at"),
        Index("ix_attempt_phone", "phone"),  # a number's conversations, for contact limits
    )

    id: str = Field(primary_key=True, max_length=40)  # also the AMI ChannelId
    campaign_id: int = Field(foreign_key="campaign.id")
    lead_id: int = Field(foreign_key="lead.id", index=True)
    phone: str = Field(max_length=20)
    node: str = Field(default="", max_length=64)
    started_at: datetime = Field(default_factory=utcnow)  # written before the Originate is sent
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=32, index=True)
    hangup_cause: int | None = None
    operator: str | None = Field(default=None, max_length=100)
    disposition: str | None = Field(default=None, max_length=64)
    abandoned: bool = False
    safe_harbour: bool = False
    amd_status: str | None = Field(default=None, max_length=16)


class Operator(SQLModel, table=True):
    __tablename__ = "operator"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    interface: str = Field(max_length=200)  # PJSIP/101, Local/op101@sim-operators/n
    desired_state: str = Field(default="logged_out", max_length=16)  # set by the CLI/console
    state: str = Field(default="logged_out", max_length=16)  # observed by the engine
    state_changed_at: datetime = Field(default_factory=utcnow)


class OperatorCampaign(SQLModel, table=True):
    __tablename__ = "operator_campaign"

    operator_id: int = Field(foreign_key="operator.id", primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)


class DispositionCode(SQLModel, table=True):
    __tablename__ = "disposition_code"
    __table_args__ = (UniqueConstraint("campaign_id", "code", name="uq_disposition_campaign_code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")  # None: every campaign
    code: str = Field(max_length=32)
    label: str = Field(max_length=200)
    final: bool = True  # a final disposition closes the lead


class DncEntry(SQLModel, table=True):
    __tablename__ = "dnc_entry"
    __table_args__ = (Index("ix_dnc_phone", "phone", "campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=20)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")  # None: global list
    source: str = Field(default="", max_length=255)
    added_at: datetime = Field(default_factory=utcnow)


class Callback(SQLModel, table=True):
    __tablename__ = "callback"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    operator_id: int | None = Field(default=None, foreign_key="operator.id")  # None: any operator
    due_at: datetime
    note: str = Field(default="", max_length=1000)
    done: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class PacingState(SQLModel, table=True):
    """A running engine's last pacing decision for one campaign, for ``dialer status`` elsewhere."""

    __tablename__ = "pacing_state"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    node: str = Field(primary_key=True, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
    explain: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DialerNode(SQLModel, table=True):
    """A running dial engine's heartbeat; a node silent for too long is taken over by another."""

    __tablename__ = "dialer_node"

    name: str = Field(primary_key=True, max_length=64)
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow, index=True)


class CampaignOwner(SQLModel, table=True):
    """Which dialer node dials a campaign: one pacer per campaign, whatever the number of nodes."""

    __tablename__ = "campaign_owner"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    node: str = Field(max_length=64, index=True)
    since: datetime = Field(default_factory=utcnow)
