"""`dialer status` data and the attempts CSV, from a real engine run on SQLite; the pure helpers."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from campaigns.models import CallAttempt
from campaigns.store import session_scope
from dialer.core.errors import NotFound
from dialer.engine.loop import DialEngine, EngineSettings
from dialer.policy.originate import safe_value
from dialer.policy.ratelimit import TokenBucket
from dialer.services.attempts_export import COLUMNS, export_attempts
from dialer.services.operators import ready
from dialer.services.status import collect_status
from tests.engine_helpers import (
    ScriptedTelephony,
    attempts,
    make_campaign,
    make_leads,
    make_operators,
    phones_by_digit,
)

FAST = EngineSettings(node_id="n", tick_s=0.02, operator_poll_s=0.02)


async def _dialed_campaign(store: Engine) -> int:
    cid = make_campaign(store, "spring")
    make_leads(store, cid, phones_by_digit([0, 1, 5, 7]))
    make_leads(store, cid, phones_by_digit([2], start=40), zone="")  # never callable
    for name in make_operators(store, "spring", 2):
        ready(store, name)
    await DialEngine(store, ScriptedTelephony(), FAST).run(until_done=True)
    return cid


async def test_status_counts_leads_left_outcomes_and_operators(store: Engine) -> None:
    cid = await _dialed_campaign(store)
    make_campaign(store, "idle")
    with session_scope(store) as session:  # a call in flight on another node
        session.add(CallAttempt(id="x" * 32, campaign_id=cid, lead_id=1, phone="+1", node="other"))
    report = collect_status(store)
    spring = next(c for c in report.campaigns if c.name == "spring")
    assert spring.outcomes == {"connected": 2, "busy": 1, "congestion": 1}
    assert spring.leads == {"done": 2, "scheduled": 2, "new": 1}
    assert spring.leads_left == 3 and spring.no_window == 1 and spring.in_flight == 1
    assert report.in_flight == 1
    assert report.operators == {"ready": 2}
    assert [c.name for c in collect_status(store, ["idle"]).campaigns] == ["idle"]
    with pytest.raises(NotFound):
        collect_status(store, ["nope"])


async def test_export_writes_every_attempt_with_the_documented_columns(store: Engine) -> None:
    cid = await _dialed_campaign(store)
    out = io.StringIO()
    assert export_attempts(store, "spring", out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == COLUMNS
    stored = {a.id: a for a in attempts(store, cid)}
    for row in rows:
        attempt = stored[row["attempt_id"]]
        assert row["phone"] == attempt.phone and int(row["lead_id"]) == attempt.lead_id
        assert row["outcome"] == attempt.outcome
        assert datetime.fromisoformat(row["started_at"]).tzinfo is not None
        assert datetime.fromisoformat(row["started_at_utc"]).utcoffset() == timedelta(0)
        assert datetime.fromisoformat(row["started_at"]) == datetime.fromisoformat(row["started_at_utc"])
        if attempt.outcome == "connected":
            assert row["operator"].startswith("op") and row["connected_at"]
        else:
            assert row["operator"] == "" and row["connected_at"] == ""
    assert [r["started_at"] for r in rows] == sorted(r["started_at"] for r in rows)


def test_export_of_an_unknown_campaign_is_not_found(store: Engine) -> None:
    with pytest.raises(NotFound):
        export_attempts(store, "nope", io.StringIO())


@given(st.text())
def test_safe_value_never_carries_line_breaks_or_separators(text: str) -> None:
    value = safe_value(text)
    assert not any(c in value for c in "\r\n\0,|;$")
    assert value == value.strip() and len(value) <= 200


def test_safe_value_keeps_ordinary_names() -> None:
    assert safe_value("Мария Иванова") == "Мария Иванова"
    assert safe_value("Eve\r\n\r\nAction: Logoff") == "Eve Action: Logoff"


def test_token_bucket_limits_the_originate_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=2.0)
    assert bucket.available(100.0) == 2
    bucket.take(100.0, 2)
    assert bucket.available(100.0) == 0
    assert bucket.available(100.4) == 0
    assert bucket.available(100.5) == 1
    assert bucket.available(200.0) == 2  # never more than the burst
