"""The data model: every table the product stores.

Portable on purpose: only types SQLAlchemy maps on both SQLite and PostgreSQL
(JSON, not JSONB; no SQLite pragmas or ROWID tricks). All datetimes are timezone-aware UTC.
Schema changes go through Alembic (``campaigns/migrations``), never ``create_all``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from campaigns.clock import utcnow as utcnow
from campaigns.console_models import CampaignScript as CampaignScript
from campaigns.console_models import ConsoleEvent as ConsoleEvent
from campaigns.console_models import ConsoleSetting as ConsoleSetting
from campaigns.console_models import DirectCall as DirectCall
from campaigns.console_models import LeadEdit as LeadEdit
from campaigns.console_models import LoginFailure as LoginFailure
from campaigns.console_models import PauseCode as PauseCode
from campaigns.console_models import SurveyAnswer as SurveyAnswer
from campaigns.console_models import SurveyQuestion as SurveyQuestion
from campaigns.console_models import UserAccount as UserAccount
from campaigns.console_models import WebSession as WebSession
from campaigns.node_models import CampaignOwner as CampaignOwner
from campaigns.node_models import CampaignShare as CampaignShare
from campaigns.retry import LeadStatus
from campaigns.settings import DEFAULTS
from dialer.core.errors import InvalidInput

# Leads a dialer node may claim (dialer.store.claims). The claim queries repeat the partial
# indexes' conditions term for term, with these values written into the SQL as literals:
# both SQLite and PostgreSQL use a partial index only when the query's WHERE implies its
# condition, and a bound value (a prepared, generic plan) proves nothing.
DIALABLE = (LeadStatus.NEW.value, LeadStatus.SCHEDULED.value)
_UNCLAIMED = f"status IN ({', '.join(repr(s) for s in DIALABLE)}) AND claimed_by IS NULL"
_RETRY = f"{_UNCLAIMED} AND next_call_at IS NOT NULL"
# A retry a claim has seen due keeps that instant in ready_for; a new next_call_at makes it
# waiting again without anyone clearing the mark (dialer.store.claims._promote).
_READY = f"{_RETRY} AND ready_for = next_call_at"
_WAITING = f"{_RETRY} AND (ready_for IS NULL OR ready_for <> next_call_at)"


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, the same on both stores."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


def check_fits(row: SQLModel, labels: dict[str, str] | None = None) -> None:
    """Refuse a text longer than its column, before the store sees it.

    SQLite stores it whole and PostgreSQL refuses it with a DataError: the same row must get the
    same answer on both, and that answer is one line naming the option and its limit.
    """
    table: Any = row.__table__  # type: ignore[attr-defined]
    for column in table.columns:
        length = getattr(column.type, "length", None)
        value = getattr(row, column.key, None)
        if length and isinstance(value, str) and len(value) > length:
            label = (labels or {}).get(column.key, column.key.replace("_", " "))
            raise InvalidInput(f"{label}: at most {length} characters (got {len(value)})")


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
    # The lead column whose value the operator's phone shows as the caller's name; "": a name-like one.
    callerid_name_column: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    # campaigns.lifecycle.CampaignState: active | paused | stopped | archived
    state: str = Field(default="active", max_length=16, sa_column_kwargs={"server_default": "active"})
    # Raised by every change of settings or state, so a running engine notices it cheaply each tick.
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Wrap-up held until the operator's disposition, at most this long (0: not held), after
    # which ``wrapup_code`` is recorded for them.
    wrapup_limit_s: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    wrapup_code: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    # Dialed by several nodes at once, each for its own operators (campaigns.node_models).
    shared: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
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
    # True while its leads are being written in batches: none of them may be dialed until the
    # importer clears it in one short final step (lists.staging). Owner and last sign of life
    # let a later import clean up after one that crashed.
    importing: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    import_owner: str | None = Field(default=None, max_length=100)
    import_seen_at: datetime | None = None


class Lead(SQLModel, table=True):
    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone", name="uq_lead_campaign_phone"),
        Index("ix_lead_due", "campaign_id", "status", "next_call_at"),
        # Claims read only leads that may be dialed and nobody holds, so these stay the size of
        # what is left to dial, however many leads the store keeps. Fresh leads are taken in
        # list order; retries (and leads put off to a later instant) in the order they fall due.
        Index("ix_lead_fresh", "campaign_id", "id", **_where(f"{_UNCLAIMED} AND next_call_at IS NULL")),
        # The same retries in list order: when many are due at once, a claim walks them by id,
        # skipping those not due yet, and stops after the few it wants.
        Index("ix_lead_retry_id", "campaign_id", "id", **_where(_RETRY)),
        # Retries not yet seen due, by due instant (status first: SQLite then prefers it to
        # ix_lead_due), and those seen due, in list order: a claim marks the newly due, then
        # takes the lowest marked ids, never reading the retries not due yet before them.
        Index("ix_lead_waiting", "campaign_id", "status", "next_call_at", **_where(_WAITING)),
        Index("ix_lead_ready", "campaign_id", "id", **_where(_READY)),
        # The leads a node holds, to give them back (a stop, a restart, a takeover).
        Index("ix_lead_claimed", "claimed_by", **_where("claimed_by IS NOT NULL")),
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
    ready_for: datetime | None = None  # the next_call_at a claim found due (ix_lead_ready)
    last_outcome: str | None = Field(default=None, max_length=32)
    consent: bool | None = None
    claimed_by: str | None = Field(default=None, max_length=64)  # dialer node holding the lead
    claimed_at: datetime | None = None
    released_from: str | None = Field(default=None, max_length=64)  # a preview claim that ran out (0020)
    import_row: int | None = None  # its 1-based data row in the list's file, for duplicate reasons
    created_at: datetime = Field(default_factory=utcnow)
    # Every number of a lead with several (campaigns.lead_numbers), else None; phone_turn: the next one.
    numbers: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    phone_turn: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


_AWAITING = "disposition IS NULL AND connected_at IS NOT NULL"


class CallAttempt(SQLModel, table=True):
    __tablename__ = "call_attempt"
    __table_args__ = (
        Index("ix_attempt_campaign_started", "campaign_id", "started_at"),
        Index("ix_attempt_phone", "phone"),  # a number's conversations, for contact limits
        # Calls in flight, by campaign (status) and by node (reconciling after a crash or a takeover).
        Index("ix_attempt_open", "campaign_id", **_where("ended_at IS NULL")),
        Index("ix_attempt_open_node", "node", **_where("ended_at IS NULL")),
        # An operator's connected calls still awaiting a disposition: the console's pop.
        Index("ix_attempt_awaiting", "operator", "connected_at", **_where(_AWAITING)),
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
    note: str | None = Field(default=None, max_length=2000)  # the operator's words on the call
    disposed_at: datetime | None = None
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
    desired_at: datetime | None = None  # when desired_state last changed (the console's timer)
    pause_reason: str | None = Field(default=None, max_length=32)  # a pause code
    node: str | None = Field(default=None, max_length=64)  # whose Asterisk the phone is on; None: any


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
    label_ru: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    retry_in_s: int | None = None  # not final: call the lead again after this many seconds
    dnc: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})  # number to DNC
    callback: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})  # asks for a time
    position: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # its number key


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
    attempt_id: str | None = Field(default=None, max_length=40)  # the call that kept it
    set_by: str | None = Field(default=None, max_length=100)  # the operator who asked for it


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


class NumberingRange(SQLModel, table=True):
    """One range of the Russian numbering plan (ABC/DEF registry): +7 ``code`` ``first``..``last``."""

    __tablename__ = "numbering_range"
    __table_args__ = (Index("ix_numbering_range_code_first", "code", "first"),)

    id: int | None = Field(default=None, primary_key=True)
    code: int  # the three-digit ABC or DEF code
    first: int  # the seven-digit subscriber number where the range starts, inclusive
    last: int  # ... and ends, inclusive
    capacity: int = 0
    operator: str = Field(default="", max_length=255)
    region: str = Field(default="", max_length=255)  # as the registry names it
    territory: str = Field(default="", max_length=500)  # the address registry's territory, newer files
    inn: str = Field(default="", max_length=20)  # the operator's tax number, newer files


class NumberingFile(SQLModel, table=True):
    """A registry file behind the loaded ranges: what ``dialer numbering status`` shows."""

    __tablename__ = "numbering_file"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    rows: int = 0
    skipped: int = 0  # lines that could not be read, reported at load time
    modified_at: datetime | None = None  # the file's own date
    loaded_at: datetime = Field(default_factory=utcnow)


class CampaignSchedule(SQLModel, table=True):
    """One opening-hours rule of a campaign (``campaigns.schedule``); no rule: always on schedule."""

    __tablename__ = "campaign_schedule"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    days: str = Field(max_length=40)  # mon-fri, sat,sun ...
    hours: str = Field(max_length=16)  # 09:00-18:00, end may be 24:00
    zone: str = Field(max_length=64)  # the call centre's IANA zone the hours are read in
    first_day: date | None = None
    last_day: date | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ScheduleEvent(SQLModel, table=True):
    """A campaign opening or closing on its schedule, as the node dialing it saw it."""

    __tablename__ = "schedule_event"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    kind: str = Field(max_length=8)  # open | close
    at: datetime = Field(default_factory=utcnow)
    node: str = Field(default="", max_length=64)


class ListSource(SQLModel, table=True):
    """A drop folder whose files are imported into a campaign every ``every_s`` seconds."""

    __tablename__ = "list_source"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    folder: str = Field(max_length=1000)
    pattern: str = Field(default="*.csv", max_length=100)
    every_s: int = 300
    created_at: datetime = Field(default_factory=utcnow)


class ScheduledTask(SQLModel, table=True):
    """A folder job of ``dialer serve``: a do-not-call refresh from it, or exports written to it."""

    __tablename__ = "scheduled_task"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # dnc | export
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)  # dnc: None = global
    folder: str = Field(max_length=1000)
    pattern: str = Field(default="*.csv", max_length=100)  # dnc: the files to take
    outputs: str = Field(default="", max_length=200)  # export: comma-separated (dialer.service.tasks)
    lang: str = Field(default="ru", max_length=8)  # export: the report's labels
    every_s: int = 3600
    created_at: datetime = Field(default_factory=utcnow)


class ImportedFile(SQLModel, table=True):
    """A file a drop folder imported, by content: the same file dropped again adds nothing."""

    __tablename__ = "imported_file"
    __table_args__ = (UniqueConstraint("source_id", "sha256", name="uq_imported_file_content"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="list_source.id", index=True)
    sha256: str = Field(max_length=64)
    name: str = Field(max_length=255)
    list_id: int | None = Field(default=None, foreign_key="lead_list.id")
    imported_at: datetime = Field(default_factory=utcnow)


class JobRun(SQLModel, table=True):
    """A scheduled job's run, claimed by the first node to insert it: each run happens once."""

    __tablename__ = "job_run"

    job_id: str = Field(primary_key=True, max_length=100)
    fire_at: datetime = Field(primary_key=True)  # the scheduled instant, the same on every node
    node: str = Field(max_length=64)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    result: str = Field(default="", max_length=1000)
