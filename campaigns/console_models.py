"""The operator console's tables: accounts, logins, pause codes, scripts, events, surveys.

Declared apart from ``campaigns.models`` to keep each module small; ``campaigns.models``
imports them, so they are part of the same metadata and ``from campaigns.models import X``
works for them too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from campaigns.clock import utcnow


class UserAccount(SQLModel, table=True):
    """A person who logs in to the console; an operator's account names its queue member."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    password_hash: str = Field(max_length=255)  # argon2
    role: str = Field(max_length=16)  # operator | supervisor | admin
    operator_id: int | None = Field(default=None, foreign_key="operator.id")
    language: str = Field(default="ru", max_length=8)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class WebSession(SQLModel, table=True):
    """A console login. Only a hash of the cookie's token is stored."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class LoginFailure(SQLModel, table=True):
    """A failed console login, counted to throttle guessing."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_name_at", "name", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow)


class PauseCode(SQLModel, table=True):
    __tablename__ = "pause_code"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    label: str = Field(max_length=200)


class CampaignScript(SQLModel, table=True):
    """The words an operator reads, with {column} placeholders filled from the lead."""

    __tablename__ = "campaign_script"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    body: str = Field(default="", max_length=20000)
    updated_at: datetime = Field(default_factory=utcnow)


class ConsoleEvent(SQLModel, table=True):
    """Something the consoles must look at: an operator connected or freed, a queue state changed.

    The id only grows: a console remembers the last one it saw and reads what came after.
    """

    __tablename__ = "console_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=16)  # connected | ended | state
    subject: str = Field(default="", max_length=200)  # operator name, or interface for state
    attempt_id: str | None = Field(default=None, max_length=40)


class SurveyQuestion(SQLModel, table=True):
    """A question the operator asks on a campaign's calls (market research, surveys)."""

    __tablename__ = "survey_question"
    __table_args__ = (UniqueConstraint("campaign_id", "key", name="uq_survey_campaign_key"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    key: str = Field(max_length=32)  # the export's column
    text: str = Field(max_length=1000)
    kind: str = Field(max_length=16)  # text | single | multi | number
    choices: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    required: bool = False
    position: int = 0


class SurveyAnswer(SQLModel, table=True):
    __tablename__ = "survey_answer"

    attempt_id: str = Field(foreign_key="call_attempt.id", primary_key=True, max_length=40)
    question_id: int = Field(foreign_key="survey_question.id", primary_key=True)
    value: str = Field(default="", max_length=2000)  # multi: choices joined by "; "


class ConsoleSetting(SQLModel, table=True):
    """A campaign's settings for calls that go to one operator (``dialer callbacks settings``)."""

    __tablename__ = "console_setting"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    callback_release_s: int = 900  # a personal callback this late goes to anyone
    preview_hold_s: int = 60  # how long a previewed lead stays reserved for its operator


class DirectCall(SQLModel, table=True):
    """An operator's request for a call to one lead that connects to that operator only.

    Written by the console (preview Call, manual dial); the engine that owns the campaign
    places it when the operator is ready and fills ``attempt_id`` (or ``refused``).
    """

    __tablename__ = "direct_call"
    __table_args__ = (Index("ix_direct_call_open", "campaign_id", "attempt_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    lead_id: int = Field(foreign_key="lead.id")
    operator_id: int = Field(foreign_key="operator.id")
    kind: str = Field(max_length=16)  # preview | manual
    requested_at: datetime = Field(default_factory=utcnow)
    attempt_id: str | None = Field(default=None, max_length=40)
    refused: str | None = Field(default=None, max_length=200)  # why the engine did not place it


class LeadEdit(SQLModel, table=True):
    """One change of one lead field from the console: who, when, the old and the new value."""

    __tablename__ = "lead_edit"

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    attempt_id: str | None = Field(default=None, max_length=40)
    user_name: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow)
    field: str = Field(max_length=100)
    old_value: str | None = Field(default=None, max_length=2000)
    new_value: str | None = Field(default=None, max_length=2000)
