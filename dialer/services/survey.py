"""Survey questions per campaign, the operator's answers per attempt, and their export.

Kinds: free ``text``, ``single`` choice, ``multi``ple choice and ``number``; each may be required.
Answers are checked all together before anything is stored, and stored in the transaction that
records the disposition, so a call never has half its answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import CallAttempt, SurveyAnswer, SurveyQuestion
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.core import reasons
from dialer.core.errors import InvalidInput
from dialer.core.i18n import N_, _
from dialer.services.attempts_export import operator_names, operator_of
from lists.export_columns import ANSWERS, text_column
from lists.export_format import ExportFormat
from lists.export_writer import Table, write_csv

KINDS = ("text", "single", "multi", "number")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_NUMBER = re.compile(r"^-?\d{1,12}([.,]\d{1,6})?$")
MAX_ANSWER = 2000


@dataclass(frozen=True)
class QuestionView:
    id: int
    key: str
    text: str
    kind: str
    choices: tuple[str, ...]
    required: bool


class AnswersRejected(InvalidInput):
    """Some answers are missing or wrong: ``problems`` maps each question key to its message."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)


def _view(q: SurveyQuestion) -> QuestionView:
    assert q.id is not None
    return QuestionView(q.id, q.key, q.text, q.kind, tuple(q.choices), q.required)


def campaign_questions(session: Session, campaign_id: int) -> list[QuestionView]:
    rows = session.exec(
        select(SurveyQuestion)
        .where(SurveyQuestion.campaign_id == campaign_id)
        .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))
    ).all()
    return [_view(q) for q in rows]


def add_question(
    store: Engine, campaign: str, key: str, text: str, kind: str, choices: Sequence[str], required: bool
) -> QuestionView:
    if not _KEY.match(key):
        raise InvalidInput(
            _("question key {key}: a lower-case letter, then letters, digits or '_'").format(
                key=repr(key[:40])
            )
        )
    if kind not in KINDS:
        raise InvalidInput(
            _("--kind {kind}: use one of {kinds}").format(kind=repr(kind[:20]), kinds=", ".join(KINDS))
        )
    if not text.strip() or len(text) > 1000:
        raise InvalidInput(_("the question needs a text of 1 to 1000 characters"))
    options = [c.strip() for c in choices if c.strip()]
    if kind in ("single", "multi") and len(options) < 2:
        raise InvalidInput(_("a {kind} choice question needs at least two --choice values").format(kind=kind))
    if kind not in ("single", "multi") and options:
        raise InvalidInput(_("--choice applies only to single and multi questions"))
    with session_scope(store) as session:
        found = find_campaign(session, campaign)
        if session.exec(
            select(SurveyQuestion).where(SurveyQuestion.campaign_id == found.id, SurveyQuestion.key == key)
        ).first():
            raise InvalidInput(
                _("campaign {campaign} already has a question {key}").format(campaign=campaign, key=repr(key))
            )
        last = session.exec(
            select(func.max(SurveyQuestion.position)).where(SurveyQuestion.campaign_id == found.id)
        ).one()
        assert found.id is not None
        row = SurveyQuestion(
            campaign_id=found.id,
            key=key,
            text=text.strip(),
            kind=kind,
            choices=options,
            required=required,
            position=(last or 0) + 1,
        )
        session.add(row)
        session.flush()
        return _view(row)


def list_questions(store: Engine, campaign: str) -> list[QuestionView]:
    with Session(store) as session:
        found = find_campaign(session, campaign)
        assert found.id is not None
        return campaign_questions(session, found.id)


def check_answers(questions: Sequence[QuestionView], given: Mapping[str, Sequence[str]]) -> dict[int, str]:
    """The answers to store by question id, or ``AnswersRejected`` naming every problem."""
    problems: dict[str, str] = {}
    values: dict[int, str] = {}
    for q in questions:
        raw = [v.strip() for v in given.get(q.key, ()) if v.strip()]
        if not raw:
            if q.required:
                problems[q.key] = N_("an answer is required")
            continue
        if q.kind == "number":
            if len(raw) != 1 or not _NUMBER.match(raw[0]):
                problems[q.key] = N_("a number is expected")
                continue
            values[q.id] = raw[0].replace(",", ".")
        elif q.kind in ("single", "multi"):
            if any(v not in q.choices for v in raw) or (q.kind == "single" and len(raw) > 1):
                problems[q.key] = N_("choose from the list")
                continue
            values[q.id] = "; ".join(c for c in q.choices if c in raw)
        else:
            values[q.id] = raw[0]
        if len(values[q.id]) > MAX_ANSWER:
            problems[q.key] = reasons.AT_MOST.format(limit=MAX_ANSWER)
    if problems:
        raise AnswersRejected(problems)
    return values


def store_answers(session: Session, attempt_id: str, values: Mapping[int, str]) -> None:
    for question_id, value in values.items():
        row = session.get(SurveyAnswer, (attempt_id, question_id)) or SurveyAnswer(
            attempt_id=attempt_id, question_id=question_id
        )
        row.value = value
        session.add(row)


def export_answers(store: Engine, campaign: str, out: TextIO, fmt: ExportFormat | None = None) -> int:
    """Write the answers to ``out`` as CSV; the number of rows written."""
    return write_csv(answers_table(store, campaign), out, fmt)


def answers_table(store: Engine, campaign: str) -> Table:
    """One row per connected attempt, a column per question (named by its key)."""
    with Session(store) as session:
        found = find_campaign(session, campaign)
        assert found.id is not None
        questions = campaign_questions(session, found.id)
        attempts = session.exec(
            select(CallAttempt)
            .where(CallAttempt.campaign_id == found.id, col(CallAttempt.connected_at).is_not(None))
            .order_by(col(CallAttempt.started_at), col(CallAttempt.id))
        ).all()
        answers = session.exec(
            select(SurveyAnswer).where(col(SurveyAnswer.attempt_id).in_([a.id for a in attempts]))
        ).all()
        names = operator_names(session.connection())
    by_attempt: dict[str, dict[int, str]] = {}
    for answer in answers:
        by_attempt.setdefault(answer.attempt_id, {})[answer.question_id] = answer.value
    rows = (
        [
            a.id,
            a.lead_id,
            a.phone,
            operator_of(a.operator or "", names)[0],
            a.disposition or "",
            *[by_attempt.get(a.id, {}).get(q.id, "") for q in questions],
        ]
        for a in attempts
    )
    return Table("answers", [*ANSWERS, *(text_column(q.key) for q in questions)], rows)
