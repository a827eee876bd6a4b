"""``dialer campaign schedule/unschedule/show`` on SQLite and PostgreSQL; bad input is one line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from campaigns import schedules
from campaigns.models import Campaign
from campaigns.schedule import is_open
from campaigns.store import session_scope
from cli import app

pytestmark = pytest.mark.every_store

runner = CliRunner()


def dialer(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def one_line_error(db_url: str, *args: str) -> str:
    code, out, err = dialer(db_url, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


@pytest.fixture
def campaign(store: Engine) -> int:
    with session_scope(store) as session:
        row = Campaign(name="spring")
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def test_several_rules_are_stored_listed_and_removed(db_url: str, store: Engine, campaign: int) -> None:
    code, out, err = dialer(
        db_url, "campaign", "schedule", "spring", "--days", "mon-fri", "--hours", "09:00-18:00",
        "--tz", "Europe/Moscow", "--from", "2026-12-01", "--until", "2027-03-31",
    )  # fmt: skip
    assert code == 0, err
    assert "mon-fri 09:00-18:00 Europe/Moscow from 2026-12-01 until 2027-03-31" in out
    code, out, err = dialer(
        db_url, "campaign", "schedule", "spring", "--days", "sat", "--hours", "10:00-14:00"
    )
    assert code == 0, err
    code, out, _ = dialer(db_url, "campaign", "show", "spring")
    assert code == 0
    assert "rule 1: mon-fri 09:00-18:00 Europe/Moscow" in out and "sat 10:00-14:00 UTC" in out
    assert "now: " in out

    rules = schedules.rules_by_campaign(store, [campaign])[campaign]
    assert len(rules) == 2
    assert is_open(rules, datetime(2026, 12, 5, 11, tzinfo=UTC))  # Saturday 11:00 UTC
    assert not is_open(rules, datetime(2026, 12, 6, 11, tzinfo=UTC))  # Sunday

    first = schedules.list_rules(store, "spring")[0].id
    code, out, _ = dialer(db_url, "campaign", "unschedule", "spring", "--rule", str(first))
    assert code == 0 and "removed 1" in out
    code, out, _ = dialer(db_url, "campaign", "unschedule", "spring", "--all")
    assert code == 0 and "removed 1" in out
    code, out, _ = dialer(db_url, "campaign", "show", "spring")
    assert "schedule: none" in out


@pytest.mark.parametrize(
    ("days", "hours", "fragment"),
    [
        ("mon-fry", "09:00-18:00", "unknown day 'fry'"),
        ("mon-fri", "18:00-09:00", "reversed hours"),
        ("mon-fri", "9h-18h", "bad hours"),
    ],
)
def test_bad_rules_are_refused_in_one_line(
    db_url: str, campaign: int, days: str, hours: str, fragment: str
) -> None:
    assert fragment in one_line_error(
        db_url, "campaign", "schedule", "spring", "--days", days, "--hours", hours
    )


def test_an_overlapping_rule_is_refused_and_nothing_is_stored(
    db_url: str, store: Engine, campaign: int
) -> None:
    code, _, err = dialer(
        db_url, "campaign", "schedule", "spring", "--days", "mon-fri", "--hours", "09:00-18:00"
    )
    assert code == 0, err
    line = one_line_error(db_url, "campaign", "schedule", "spring", "--days", "fri", "--hours", "17:00-20:00")
    assert "overlapping hours" in line
    assert len(schedules.list_rules(store, "spring")) == 1


def test_unknown_campaign_rule_or_date(db_url: str, campaign: int) -> None:
    assert "unknown campaign" in one_line_error(
        db_url, "campaign", "schedule", "autumn", "--days", "mon", "--hours", "09:00-10:00"
    )
    assert "YYYY-MM-DD" in one_line_error(
        db_url, "campaign", "schedule", "spring", "--days", "mon", "--hours", "09:00-10:00", "--from", "1/12"
    )
    assert "no schedule rule 7" in one_line_error(db_url, "campaign", "unschedule", "spring", "--rule", "7")
    assert "--rule N or --all" in one_line_error(db_url, "campaign", "unschedule", "spring")
