"""``dialer status``: states, next due lead, no stale pacing line, wide when piped, a live view that fits.

The store part runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from campaigns.models import CampaignOwner, DialerNode, Lead, PacingState
from campaigns.steering import change_state
from campaigns.store import session_scope
from cli import app
from dialer.cli.status_view import due_text, fitted
from dialer.services.status import collect_status
from tests.engine_helpers import make_campaign

pytestmark = pytest.mark.every_store

runner = CliRunner()


def dialer(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def engine_row(store: Engine, node: str, silent_s: float, campaign_id: int, explain_node: str) -> None:
    with session_scope(store) as session:
        session.add(DialerNode(name=node, heartbeat_at=datetime.now(UTC) - timedelta(seconds=silent_s)))
        session.flush()
        session.add(CampaignOwner(campaign_id=campaign_id, node=node))
        session.add(PacingState(campaign_id=campaign_id, node=explain_node, explain={"mode": "predictive"}))


def test_status_shows_state_and_next_due_and_hides_archived(store: Engine) -> None:
    spring = make_campaign(store, "spring")
    make_campaign(store, "autumn")
    make_campaign(store, "old")
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    with session_scope(store) as session:
        session.add(Lead(campaign_id=spring, phone="+79160000001", status="scheduled", next_call_at=later))
    change_state(store, "autumn", "pause")
    change_state(store, "old", "archive")
    report = {c.name: c for c in collect_status(store).campaigns}
    assert set(report) == {"spring", "autumn"}
    assert report["spring"].state == "active" and report["spring"].next_due == later
    assert report["autumn"].state == "paused" and report["autumn"].next_due is None
    [old] = collect_status(store, ["old"]).campaigns
    assert old.state == "archived"


def test_a_pacing_line_only_for_the_owner_while_its_heartbeat_is_fresh(store: Engine) -> None:
    live = make_campaign(store, "live", mode="predictive")
    orphan = make_campaign(store, "orphan", mode="predictive")
    other = make_campaign(store, "other", mode="predictive")
    engine_row(store, "n1", 1, live, "n1")
    engine_row(store, "n2", 600, orphan, "n2")  # silent beyond the lease: not running
    with session_scope(store) as session:  # an old explanation by a node that no longer owns it
        session.add(CampaignOwner(campaign_id=other, node="n1"))
        session.add(PacingState(campaign_id=other, node="n9", explain={"mode": "predictive"}))
    report = {c.name: c for c in collect_status(store).campaigns}
    assert [v.node for v in report["live"].pacing] == ["n1"] and report["live"].node == "n1"
    assert report["orphan"].pacing == [] and report["orphan"].node is None
    assert report["other"].pacing == [] and report["other"].node == "n1"


def test_piped_status_is_as_wide_as_its_content(store: Engine, db_url: str) -> None:
    name = "a-campaign-with-a-rather-long-name-that-a-manager-chose-" + "x" * 20
    make_campaign(store, name)
    code, out, err = dialer(db_url, "status")
    assert code == 0, err
    assert name in out and "…" not in out
    assert max(len(line) for line in out.splitlines()) > 80


def test_the_live_view_fits_the_terminal(store: Engine) -> None:
    for i in range(30):
        make_campaign(store, f"campaign-{i:02d}-" + "y" * 40)
    report = collect_status(store)
    buffer = io.StringIO()
    console = Console(file=buffer, width=70, height=15, force_terminal=True, color_system=None)
    console.print(fitted(report, datetime.now(UTC).timestamp(), 15, 70))
    lines = buffer.getvalue().splitlines()
    assert len(lines) <= 15
    assert all(console.measure(line).maximum <= 70 for line in lines)
    assert any("more campaigns" in line for line in lines)


def test_watch_redraws_and_stops_after_count(store: Engine, db_url: str) -> None:
    make_campaign(store, "spring")
    code, out, err = dialer(db_url, "status", "--watch", "--interval", "0.2", "--count", "2")
    assert code == 0, err
    assert "spring" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--watch", "--interval", "0"), "--interval 0"),
        (("--watch", "--count", "0"), "--count 0"),
        (("--campaign", "nope"), "unknown campaign 'nope'"),
    ],
)
def test_status_bad_input_is_one_line(
    store: Engine, db_url: str, args: tuple[str, ...], fragment: str
) -> None:
    code, out, err = dialer(db_url, "status", *args)
    assert code == 2 and "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


def test_due_text_says_now_today_or_the_date() -> None:
    now = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    assert due_text(None, now) == "-"
    assert due_text(now - timedelta(minutes=1), now) == "now"
    assert due_text(now + timedelta(hours=2), now) == "07:00 UTC"
    assert due_text(now + timedelta(days=1), now) == "2026-12-01 05:00 UTC"
