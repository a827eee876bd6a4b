"""Disposition codes per campaign, and an operator's disposition of a call.

A disposition is stored on the attempt (code, note, when). Its code decides the lead's fate: a
final code closes the lead, ``retry_in_s`` schedules it again, ``dnc`` puts the number on the
global do-not-call list in the same transaction. Submitting the same code again is accepted and
changes nothing, so a browser may safely resend a disposition it is not sure arrived.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, Campaign, DispositionCode, Lead, Operator, utcnow
from campaigns.retry import parse_duration
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.core import reasons
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import _
from dialer.services.callbacks import PERSONAL, schedule_callback
from dialer.services.survey import campaign_questions, check_answers, store_answers
from dialer.store.lead_fate import apply_code

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_NOTE = 2000


@dataclass(frozen=True)
class CodeView:
    code: str
    label: str
    label_ru: str
    key: int  # number key on the operator's screen
    final: bool
    retry_in_s: int | None
    dnc: bool
    callback: bool

    def label_for(self, language: str) -> str:
        return self.label_ru if language == "ru" and self.label_ru else self.label


def _views(rows: list[DispositionCode]) -> list[CodeView]:
    ordered = sorted(rows, key=lambda r: (r.position, r.code))
    return [
        CodeView(r.code, r.label, r.label_ru, key, r.final, r.retry_in_s, r.dnc, r.callback)
        for key, r in enumerate(ordered, start=1)
    ]


def campaign_codes(session: Session, campaign_id: int) -> list[CodeView]:
    rows = session.exec(
        select(DispositionCode).where(
            (col(DispositionCode.campaign_id) == campaign_id) | col(DispositionCode.campaign_id).is_(None)
        )
    ).all()
    return _views(list(rows))


def list_codes(store: Engine, campaign: str) -> list[CodeView]:
    with Session(store) as session:
        found = find_campaign(session, campaign)
        assert found.id is not None
        return campaign_codes(session, found.id)


def add_code(
    store: Engine,
    campaign: str,
    code: str,
    label: str,
    *,
    label_ru: str = "",
    final: bool = False,
    retry_in: str | None = None,
    dnc: bool = False,
    callback: bool = False,
) -> CodeView:
    """Add a code (or replace the one with the same name) at the end of the campaign's keys."""
    if not _CODE.match(code):
        raise InvalidInput(
            _("code {code}: lower-case letters, digits, '_' or '-', at most 32").format(code=repr(code[:40]))
        )
    if not label.strip() or len(label) > 200 or len(label_ru) > 200:
        raise InvalidInput(_("a label of 1 to 200 characters is required"))
    if final and retry_in:
        raise InvalidInput(_("a code is either --final or --retry-in, not both"))
    retry_s = None
    if retry_in:
        try:
            retry_s = int(parse_duration(retry_in).total_seconds())
        except ValueError as exc:
            raise InvalidInput(f"--retry-in: {exc}") from None
    with session_scope(store) as session:
        found = find_campaign(session, campaign)
        row = session.exec(
            select(DispositionCode).where(
                DispositionCode.campaign_id == found.id, DispositionCode.code == code
            )
        ).first()
        if row is None:
            last = session.exec(
                select(func.max(DispositionCode.position)).where(DispositionCode.campaign_id == found.id)
            ).one()
            row = DispositionCode(campaign_id=found.id, code=code, label=label, position=(last or 0) + 1)
        row.label, row.label_ru = label.strip(), label_ru.strip()
        row.final, row.retry_in_s, row.dnc, row.callback = retry_s is None, retry_s, dnc, callback
        session.add(row)
        session.flush()
        assert found.id is not None
        return next(c for c in campaign_codes(session, found.id) if c.code == code)


def remove_code(store: Engine, campaign: str, code: str) -> None:
    with session_scope(store) as session:
        found = find_campaign(session, campaign)
        row = session.exec(
            select(DispositionCode).where(
                DispositionCode.campaign_id == found.id, DispositionCode.code == code
            )
        ).first()
        if row is None:
            raise NotFound(
                _("campaign {campaign} has no disposition code {code}").format(
                    campaign=campaign, code=repr(code)
                )
            )
        if found.wrapup_limit_s and found.wrapup_code == code:
            raise InvalidInput(
                _("{code} is the campaign's wrap-up code: choose another --wrapup-code first").format(
                    code=repr(code)
                )
            )
        session.delete(row)


@dataclass(frozen=True)
class Disposed:
    attempt_id: str
    code: str
    lead_status: str


def dispose(
    store: Engine,
    operator: str,
    attempt_id: str,
    code: str,
    note: str = "",
    answers: Mapping[str, Sequence[str]] | None = None,
    callback: tuple[str, str] = ("", PERSONAL),
) -> Disposed:
    """Record ``operator``'s disposition of their call ``attempt_id`` (with the survey's answers,
    checked first: ``AnswersRejected``) and move the lead on, in one transaction.

    A callback code also takes ``callback`` = (the lead's local time, ``"me"`` or ``"anyone"``),
    refused with ``FieldProblem`` before anything is written."""
    if len(note) > MAX_NOTE:
        raise InvalidInput(reasons.NOTE_TOO_LONG.format(limit=MAX_NOTE))
    with session_scope(store) as session:
        attempt = session.get(CallAttempt, attempt_id)
        if attempt is None or attempt.operator != operator or attempt.connected_at is None:
            raise NotFound("no such call for this operator")
        chosen = next((c for c in campaign_codes(session, attempt.campaign_id) if c.code == code), None)
        if chosen is None:
            raise InvalidInput(reasons.UNKNOWN_CODE.format(code=repr(code)))
        lead = session.get(Lead, attempt.lead_id)
        assert lead is not None
        if attempt.disposition is not None:
            if attempt.disposition == code:
                return Disposed(attempt.id, code, lead.status)  # a resend of what is recorded
            raise InvalidInput(reasons.DISPOSED.format(code=repr(attempt.disposition)))
        values = check_answers(campaign_questions(session, attempt.campaign_id), answers or {})
        store_answers(session, attempt.id, values)
        attempt.disposition, attempt.note, attempt.disposed_at = code, note.strip() or None, utcnow()
        apply_code(
            session, lead, chosen.code, dnc=chosen.dnc, retry_in_s=chosen.retry_in_s, dialed=attempt.phone
        )
        # A callback code with no time given falls back on its own --retry-in, when it has one.
        if chosen.callback and (callback[0].strip() or chosen.retry_in_s is None):
            who = session.exec(select(Operator).where(Operator.name == operator)).one()
            schedule_callback(store, session, attempt, lead, who, *callback)
        session.add(attempt)
        return Disposed(attempt.id, code, lead.status)


def campaign_name(session: Session, campaign_id: int) -> str:
    campaign = session.get(Campaign, campaign_id)
    return campaign.name if campaign else ""
