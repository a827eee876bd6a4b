"""Steering a stored campaign: edits validated as create validates, states, shared queues, next due.

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import column, insert, table
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns import service
from campaigns.lifecycle import CampaignState
from campaigns.models import CallAttempt, Campaign, Lead
from campaigns.next_call import next_due
from campaigns.steering import change_state, edit_campaign
from campaigns.store import MIGRATIONS, make_store, open_store, session_scope
from campaigns.tables import CAMPAIGN_TABLE
from dialer.core.errors import InvalidInput, NotFound
from dialer.store.served import served_campaigns, served_versions
from tests.postgres_fixtures import PostgresCluster

pytestmark = pytest.mark.every_store


def create(store: Engine, name: str, **options: object) -> Campaign:
    return service.create_campaign(store, service.CampaignSpec.build(name, **options))  # type: ignore[arg-type]


def row(store: Engine, name: str) -> Campaign:
    return service.get_campaign(store, name)


def test_an_edit_changes_only_the_options_given_and_raises_the_version(store: Engine) -> None:
    create(store, "spring", max_channels=10, window="10:00-19:00", retry=["busy=10m"])
    edit = edit_campaign(store, "spring", {"max_channels": 25, "retry": ["no_answer=2h"]})
    after = row(store, "spring")
    assert after.max_channels == 25 and after.calling_window == "10:00-19:00"
    assert after.retry_rules == {"busy": 600, "no_answer": 7200}  # added to, not replaced
    assert after.version == 1
    assert edit.changes["max channels"] == (10, 25)
    assert set(edit.changes) == {"max channels", "retry"}


def test_an_edit_that_changes_nothing_keeps_the_version(store: Engine) -> None:
    create(store, "spring", max_channels=10)
    assert edit_campaign(store, "spring", {"max_channels": 10}).changes == {}
    assert row(store, "spring").version == 0


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"ring_timeout_s": 10}, "--ring-timeout"),
        ({"mode": "turbo"}, "--mode"),
        ({"ratio": 2.0}, "--ratio applies only to --mode ratio"),
        ({"window": "25:00-26:00"}, "--window"),
        ({"retry": ["busy=soon"]}, "--retry"),
        ({"dial_template": "PJSIP/{name}"}, "--dial-template"),
        ({"queue": "q 1"}, "--queue"),
        ({"abandon_window": "7d"}, "--abandon-window"),
        ({"safe_harbour_sound": "x.wav"}, "--safe-harbour-sound"),
        ({"contact_limits": "1/0d"}, "--contact-limits"),
    ],
)
def test_an_edit_is_validated_as_create_validates_and_stores_nothing_when_bad(
    store: Engine, changes: dict[str, object], fragment: str
) -> None:
    create(store, "spring", max_channels=10)
    with pytest.raises(InvalidInput, match=fragment.replace("-", r"\-")):
        edit_campaign(store, "spring", {"max_channels": 20, **changes})
    assert row(store, "spring").max_channels == 10
    assert row(store, "spring").version == 0


def test_leaving_ratio_mode_drops_the_ratio_and_entering_it_takes_one(store: Engine) -> None:
    create(store, "spring", mode="ratio", ratio=2.5)
    edit_campaign(store, "spring", {"mode": "progressive"})
    assert (row(store, "spring").mode, row(store, "spring").ratio) == ("progressive", 1.0)
    edit_campaign(store, "spring", {"mode": "ratio", "ratio": 3.0})
    assert (row(store, "spring").mode, row(store, "spring").ratio) == ("ratio", 3.0)


def test_nothing_to_change_and_unknown_campaign_are_refused(store: Engine) -> None:
    create(store, "spring")
    with pytest.raises(InvalidInput, match="nothing to change"):
        edit_campaign(store, "spring", {})
    with pytest.raises(NotFound):
        edit_campaign(store, "autumn", {"max_channels": 3})


def test_a_queue_another_campaign_uses_is_refused_unless_shared(store: Engine) -> None:
    create(store, "spring", queue="sales")
    with pytest.raises(InvalidInput, match="queue 'sales' is already used by campaign spring"):
        create(store, "autumn", queue="sales")
    service.create_campaign(store, service.CampaignSpec.build("autumn", queue="sales"), share_queue=True)
    # A campaign without a queue uses one named after it.
    create(store, "winter")
    with pytest.raises(InvalidInput, match="queue 'winter' is already used by campaign winter"):
        create(store, "summer", queue="winter")
    with pytest.raises(InvalidInput, match="already used by campaign autumn, spring"):
        edit_campaign(store, "winter", {"queue": "sales"})
    assert row(store, "winter").queue == ""
    edit_campaign(store, "winter", {"queue": "sales"}, share_queue=True)
    assert row(store, "winter").queue == "sales"


def test_an_archived_campaign_frees_its_queue(store: Engine) -> None:
    create(store, "spring", queue="sales")
    change_state(store, "spring", "archive")
    create(store, "autumn", queue="sales")


def test_states_move_as_the_lifecycle_allows(store: Engine) -> None:
    create(store, "spring")
    assert change_state(store, "spring", "pause").after is CampaignState.PAUSED
    with pytest.raises(InvalidInput, match="already paused"):
        change_state(store, "spring", "pause")
    assert change_state(store, "spring", "stop").after is CampaignState.STOPPED
    with pytest.raises(InvalidInput, match="is stopped: cannot pause"):
        change_state(store, "spring", "pause")
    assert change_state(store, "spring", "resume").after is CampaignState.ACTIVE
    assert row(store, "spring").state == "active"
    assert row(store, "spring").version == 3


def test_archive_is_refused_while_a_call_is_live_and_hides_the_campaign(store: Engine) -> None:
    campaign = create(store, "spring")
    create(store, "autumn")
    assert campaign.id is not None
    with session_scope(store) as session:
        lead = Lead(campaign_id=campaign.id, phone="+79161234567")
        session.add(lead)
        session.flush()
        assert lead.id is not None
        session.add(CallAttempt(id="a1", campaign_id=campaign.id, lead_id=lead.id, phone=lead.phone))
    with pytest.raises(InvalidInput, match="1 live calls"):
        change_state(store, "spring", "archive")
    with session_scope(store) as session:
        attempt = session.get(CallAttempt, "a1")
        assert attempt is not None
        attempt.ended_at = datetime.now(UTC)
    change_state(store, "spring", "archive")
    assert [c.name for c in service.list_campaigns(store)] == ["autumn"]
    assert [c.name for c in service.list_campaigns(store, archived=True)] == ["autumn", "spring"]
    assert [c.name for c in served_campaigns(store)] == ["autumn"]
    assert [c.name for c in served_campaigns(store, ["spring"])] == ["spring"]
    change_state(store, "spring", "resume")
    assert row(store, "spring").state == "active"


def test_served_versions_move_with_every_edit_and_state_change(store: Engine) -> None:
    spring = create(store, "spring")
    before = served_versions(store)
    edit_campaign(store, "spring", {"max_channels": 3})
    after_edit = served_versions(store)
    change_state(store, "spring", "pause")
    assert before != after_edit != served_versions(store)
    assert spring.id is not None and served_versions(store)[spring.id] == 2


def test_next_due_is_the_earliest_due_lead_of_each_campaign(store: Engine) -> None:
    spring, autumn = create(store, "spring"), create(store, "autumn")
    assert spring.id is not None and autumn.id is not None
    later = datetime(2030, 1, 1, 9, 30, tzinfo=UTC)
    with session_scope(store) as session:
        session.add(Lead(campaign_id=spring.id, phone="+79160000001", status="scheduled", next_call_at=later))
        session.add(
            Lead(
                campaign_id=spring.id,
                phone="+79160000002",
                status="scheduled",
                next_call_at=later + timedelta(hours=1),
            )
        )
        session.add(Lead(campaign_id=spring.id, phone="+79160000003", status="exhausted"))
        session.add(Lead(campaign_id=autumn.id, phone="+79160000004", status="done"))
    with Session(store) as session:
        due = next_due(session, [spring.id, autumn.id])
    assert due == {spring.id: later}
    with session_scope(store) as session:
        session.add(Lead(campaign_id=spring.id, phone="+79160000005"))  # new: due since imported
    with Session(store) as session:
        first = next_due(session, [spring.id])[spring.id]
    assert first <= datetime.now(UTC) and first.tzinfo is not None


def test_the_leads_export_carries_each_leads_next_call_time(store: Engine) -> None:
    import csv
    import io

    from lists.export import export_leads

    spring = create(store, "spring")
    assert spring.id is not None
    later = datetime(2030, 1, 1, 9, 30, tzinfo=UTC)
    with session_scope(store) as session:
        session.add(Lead(campaign_id=spring.id, phone="+79160000001", status="scheduled", next_call_at=later))
        session.add(Lead(campaign_id=spring.id, phone="+79160000002"))
    out = io.StringIO()
    assert export_leads(store, "spring", out) == 2
    rows = {r["phone"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["+79160000001"]["next_call_at"] == "2030-01-01T09:30:00+00:00"
    assert rows["+79160000002"]["next_call_at"] == ""


@pytest.fixture
def empty_db_url(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if store_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    url = cluster.create_database("dialer_campaign_state")
    request.addfinalizer(lambda: cluster.drop_database("dialer_campaign_state"))
    return url


def test_the_upgrade_keeps_inactive_campaigns_from_dialing(empty_db_url: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    before = ScriptDirectory.from_config(cfg).get_revision("0008").down_revision
    assert isinstance(before, str)
    engine = make_store(empty_db_url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, before)
        with engine.begin() as conn:
            for name, active in (("running", True), ("halted", False)):
                # A campaign as a release before 0008 stored it: an ``active`` flag, no state.
                known = {c["name"] for c in sa_inspect(conn).get_columns("campaign")} - {"id", "active"}
                row = {k: v for k, v in Campaign(name=name).model_dump().items() if k in known}
                old = table("campaign", *(column(k, CAMPAIGN_TABLE.c[k].type) for k in row), column("active"))
                conn.execute(insert(old).values(**row, active=active))
    finally:
        engine.dispose()
    upgraded = open_store(empty_db_url)
    try:
        states = {c.name: (c.state, c.version) for c in service.list_campaigns(upgraded, archived=True)}
    finally:
        upgraded.dispose()
    assert states == {"running": ("active", 0), "halted": ("stopped", 0)}
