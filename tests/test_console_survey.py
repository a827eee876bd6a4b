"""Survey questions: checked all together, stored with the disposition, exported per attempt."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, SurveyAnswer
from dialer.core.errors import InvalidInput
from dialer.services import dispositions, survey
from lists.export_format import ExportFormat
from tests.console_helpers import connected_call, console_campaign

pytestmark = pytest.mark.every_store


def _questions(store: Engine) -> None:
    survey.add_question(store, "spring", "brand", "Which brand do you use?", "single", ["Alfa", "Beta"], True)
    survey.add_question(store, "spring", "age", "Your age?", "number", [], False)
    survey.add_question(
        store, "spring", "media", "Where do you read news?", "multi", ["TV", "Web", "Radio"], False
    )
    survey.add_question(store, "spring", "why", "Why?", "text", [], False)


def test_questions_are_checked_when_added(store: Engine) -> None:
    console_campaign(store)
    with pytest.raises(InvalidInput):
        survey.add_question(store, "spring", "q", "Pick", "single", ["only one"], False)
    with pytest.raises(InvalidInput):
        survey.add_question(store, "spring", "q", "Pick", "colour", [], False)
    with pytest.raises(InvalidInput):
        survey.add_question(store, "spring", "Bad Key", "Pick", "text", [], False)
    assert survey.list_questions(store, "spring") == []


def test_every_wrong_answer_is_named_and_nothing_is_written(store: Engine) -> None:
    cid = console_campaign(store)
    _questions(store)
    attempt, _ = connected_call(store, cid, "op1", "+79006660001")
    with pytest.raises(survey.AnswersRejected) as refused:
        dispositions.dispose(store, "op1", attempt, "sale", "", {"age": ["forty"], "media": ["Cinema"]})
    assert refused.value.problems == {
        "brand": "an answer is required",
        "age": "a number is expected",
        "media": "choose from the list",
    }
    with Session(store) as session:
        row = session.get(CallAttempt, attempt)
        assert row is not None and row.disposition is None
        assert session.exec(select(SurveyAnswer)).all() == []


def test_answers_are_stored_with_the_disposition_and_exported(store: Engine) -> None:
    cid = console_campaign(store)
    _questions(store)
    first, _ = connected_call(store, cid, "op1", "+79006660002")
    second, _ = connected_call(store, cid, "op1", "+79006660003")
    answers = {"brand": ["Beta"], "age": ["41,5"], "media": ["Radio", "TV"], "why": ["=cheap"]}
    dispositions.dispose(store, "op1", first, "sale", "", answers)
    out = io.StringIO()
    assert survey.export_answers(store, "spring", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["attempt_id"] for r in rows] == [first, second]
    assert {k: rows[0][k] for k in ("disposition", "brand", "age", "media", "why")} == {
        "disposition": "sale",
        "brand": "Beta",
        "age": "41.5",
        "media": "TV; Radio",  # in the question's order
        "why": "=cheap",  # plain CSV is byte-faithful
    }
    assert rows[1]["brand"] == "" and rows[1]["disposition"] == ""
    excel = io.StringIO()
    survey.export_answers(store, "spring", excel, ExportFormat(excel=True))
    assert "'=cheap" in excel.getvalue()  # never a spreadsheet formula in the Excel flavour
