"""Lead edits from the console, each change audited: who, when, which field, old and new value.

An operator may edit only the lead of their own current or last call; a supervisor or an admin
any lead. Only the lead's own columns can be edited (what its list brought), not its phone
number, status or schedule, which the dialing rules own. Every value is checked before anything
is written (``FieldsRejected`` names each bad field); the lead and its audit rows are then
written in one transaction, so an edit is whole or absent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Lead, LeadEdit, utcnow
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.core import reasons
from dialer.core.clock import aware
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import N_
from dialer.services.accounts import Role, UserView
from lists.export_columns import Column, Kind, text_column
from lists.export_writer import Table

MAX_VALUE = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tabs and line breaks aside, no control characters
AUDIT_TABLE = (
    Column("at", Kind.TIME),
    Column("lead_id", Kind.INT),
    *(text_column(name) for name in ("phone", "user", "attempt_id", "field", "old_value", "new_value")),
)


class FieldsRejected(InvalidInput):
    """Some values were refused; ``problems`` maps each bad field to why. Nothing was written."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str


def check_value(value: str) -> str | None:
    """Why ``value`` cannot be stored in a lead field, or None."""
    if len(value) > MAX_VALUE:
        return reasons.AT_MOST.format(limit=MAX_VALUE)
    if _CONTROL.search(value):
        return N_("control characters are not allowed")
    return None


def _editable_attempt(session: Session, user: UserView, lead_id: int) -> str | None:
    """The call the edit is made on; NotFound when ``user`` may not edit the lead."""
    if user.role is not Role.OPERATOR:
        if session.get(Lead, lead_id) is None:
            raise NotFound("no such lead")
        return None
    latest = session.exec(
        select(CallAttempt.id, CallAttempt.lead_id)
        .where(CallAttempt.operator == user.operator, col(CallAttempt.connected_at).is_not(None))
        .order_by(col(CallAttempt.connected_at).desc())
        .limit(1)
    ).first()
    if latest is None or latest[1] != lead_id:
        raise NotFound("no such lead")  # only the lead of the operator's own current or last call
    return str(latest[0])


def edit_lead(store: Engine, user: UserView, lead_id: int, values: Mapping[str, str]) -> list[Change]:
    """Set the given columns of the lead; returns what changed (unchanged values write nothing)."""
    with session_scope(store) as session:
        attempt_id = _editable_attempt(session, user, lead_id)
        lead = session.get(Lead, lead_id)
        assert lead is not None
        problems = {name: N_("not a field of this lead") for name in values if name not in lead.data}
        problems |= {
            name: why for name, value in values.items() if name in lead.data and (why := check_value(value))
        }
        if problems:
            raise FieldsRejected(problems)
        changes = [
            Change(name, _text(lead.data.get(name)), value.strip())
            for name, value in values.items()
            if _text(lead.data.get(name)) != value.strip()
        ]
        if not changes:
            return []
        lead.data = {**lead.data, **{c.field: c.new for c in changes}}
        session.add(lead)
        now = utcnow()
        for c in changes:
            session.add(
                LeadEdit(
                    lead_id=lead_id,
                    attempt_id=attempt_id,
                    user_name=user.name,
                    at=now,
                    field=c.field,
                    old_value=c.old,
                    new_value=c.new,
                )
            )
        return changes


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    lead_id: int
    phone: str
    user: str
    attempt_id: str | None
    field: str
    old: str | None
    new: str | None


def lead_audit(store: Engine, campaign: str, lead_id: int | None = None) -> list[AuditRow]:
    """The campaign's lead edits (or one lead's), oldest first."""
    with Session(store) as session:
        found = find_campaign(session, campaign)
        query = (
            select(LeadEdit, Lead.phone)
            .join(Lead, col(Lead.id) == col(LeadEdit.lead_id))
            .where(Lead.campaign_id == found.id)
            .order_by(col(LeadEdit.at), col(LeadEdit.id))
        )
        if lead_id is not None:
            query = query.where(LeadEdit.lead_id == lead_id)
        rows = session.exec(query).all()
    return [
        AuditRow(aware(e.at), e.lead_id, phone, e.user_name, e.attempt_id, e.field, e.old_value, e.new_value)
        for e, phone in rows
    ]


def audit_table(store: Engine, campaign: str) -> Table:
    """The campaign's lead edits as an export table (oldest first), for every export format."""
    rows = lead_audit(store, campaign)
    return Table(
        "lead_edits",
        AUDIT_TABLE,
        ([r.at, r.lead_id, r.phone, r.user, r.attempt_id or "", r.field, r.old, r.new] for r in rows),
    )
