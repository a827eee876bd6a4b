"""Contact limits against the store (SQLite and PostgreSQL): contacts read, leads held back, schema."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Boolean, column, insert, table
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import CallAttempt, Campaign, Lead
from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import MIGRATIONS, make_store, open_store, session_scope
from campaigns.tables import CAMPAIGN_TABLE
from dialer.engine.selection import select_leads
from dialer.policy.campaign_rules import CampaignRules
from dialer.store.contacts import recent_contacts
from tests.engine_helpers import make_campaign, make_leads, phones_by_digit
from tests.postgres_fixtures import PostgresCluster

pytestmark = pytest.mark.every_store

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
A, B, C = "+79161230001", "+79161230002", "+79161230003"


def _attempt(
    store: Engine,
    campaign_id: int,
    phone: str,
    outcome: str | None,
    started_at: datetime,
    connected_at: datetime | None = None,
) -> str:
    with session_scope(store) as session:
        lead = session.exec(select(Lead).where(Lead.campaign_id == campaign_id, Lead.phone == phone)).first()
        if lead is None:
            lead = Lead(campaign_id=campaign_id, phone=phone)
            session.add(lead)
            session.flush()
        assert lead.id is not None
        attempt_id = f"a-{campaign_id}-{phone}-{started_at.timestamp():.0f}"
        session.add(
            CallAttempt(
                id=attempt_id,
                campaign_id=campaign_id,
                lead_id=lead.id,
                phone=phone,
                started_at=started_at,
                connected_at=connected_at,
                outcome=outcome,
            )
        )
    return attempt_id


def _rules(store: Engine, campaign_id: int) -> CampaignRules:
    with Session(store) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        return CampaignRules.from_campaign(campaign)


def test_recent_contacts_are_connected_calls_to_the_number_in_any_campaign(store: Engine) -> None:
    one, two = make_campaign(store, "one"), make_campaign(store, "two")
    _attempt(
        store, one, A, "connected", NOW - timedelta(hours=3), NOW - timedelta(hours=3) + timedelta(seconds=9)
    )
    _attempt(store, two, A, "connected", NOW - timedelta(days=2))  # no connected_at: its start counts
    _attempt(store, two, A, "busy", NOW - timedelta(hours=1))
    _attempt(store, two, A, "abandoned", NOW - timedelta(hours=2))
    _attempt(store, one, A, "connected", NOW - timedelta(days=40))  # before the period asked for
    _attempt(store, one, B, "connected", NOW - timedelta(hours=5))
    _attempt(store, one, C, "connected", NOW - timedelta(hours=5))  # a number not asked about

    found = recent_contacts(store, [A, B, "+79990000000"], NOW - timedelta(days=31))

    assert found == {
        A: [NOW - timedelta(days=2), NOW - timedelta(hours=3) + timedelta(seconds=9)],
        B: [NOW - timedelta(hours=5)],
    }
    assert all(at.tzinfo is not None for ats in found.values() for at in ats)
    assert recent_contacts(store, [], NOW) == {}


def test_a_number_spoken_to_elsewhere_today_is_held_back_until_a_day_has_passed(store: Engine) -> None:
    limited = make_campaign(store, "collect", contact_limits="1/1d")
    other = make_campaign(store, "sales")
    phones = phones_by_digit([0, 1])
    held, free = make_leads(store, limited, phones)
    now = time.time()
    contact = datetime.fromtimestamp(now, UTC) - timedelta(hours=2)
    _attempt(store, other, phones[0], "connected", contact - timedelta(seconds=20), contact)

    chosen = select_leads(store, _rules(store, limited), "node-a", now, wanted=5)

    assert [lead.lead_id for lead in chosen] == [free]
    with Session(store) as session:
        lead = session.get(Lead, held)
        assert lead is not None and lead.next_call_at is not None
        assert lead.next_call_at.replace(tzinfo=UTC) == contact + timedelta(days=1)
        assert lead.claimed_by is None and lead.status == "new" and lead.attempts == 0
        kept = session.get(Lead, free)
        assert kept is not None and kept.claimed_by == "node-a"


def test_a_campaign_without_limits_dials_a_number_spoken_to_today(store: Engine) -> None:
    plain = make_campaign(store, "plain")
    other = make_campaign(store, "sales")
    phones = phones_by_digit([0])
    [lead_id] = make_leads(store, plain, phones)
    now = time.time()
    _attempt(store, other, phones[0], "connected", datetime.fromtimestamp(now, UTC) - timedelta(hours=2))

    chosen = select_leads(store, _rules(store, plain), "node-a", now, wanted=5)

    assert [lead.lead_id for lead in chosen] == [lead_id]


def test_the_profile_is_stored_in_full_and_read_into_the_rules(store: Engine) -> None:
    campaign = create_campaign(store, CampaignSpec.build("collect", contact_limits="ru-230fz"))
    assert campaign.contact_limits == "1/1d,2/7d,8/31d"
    assert campaign.id is not None
    limits = _rules(store, campaign.id).contact_limits
    assert [(limit.count, limit.period.days) for limit in limits] == [(1, 1), (2, 7), (8, 31)]
    assert create_campaign(store, CampaignSpec.build("plain")).contact_limits == ""


@pytest.fixture
def empty_db_url(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if store_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    url = cluster.create_database("dialer_contact_limits")
    request.addfinalizer(lambda: cluster.drop_database("dialer_contact_limits"))
    return url


def test_campaigns_made_before_the_upgrade_have_no_limits(empty_db_url: str) -> None:
    engine = make_store(empty_db_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
        with engine.begin() as conn:
            # The columns revision 0003 knows: a campaign as an older release stored it.
            known = {c["name"] for c in sa_inspect(conn).get_columns("campaign")} - {"id", "active"}
            row = {k: v for k, v in Campaign(name="old").model_dump().items() if k in known}
            old_table = table(
                "campaign",
                *(column(name, CAMPAIGN_TABLE.c[name].type) for name in row),
                column("active", Boolean()),
            )
            conn.execute(insert(old_table).values(**row, active=True))
    finally:
        engine.dispose()

    upgraded = open_store(empty_db_url)
    try:
        with Session(upgraded) as session:
            old = session.exec(select(Campaign).where(Campaign.name == "old")).one()
            assert old.contact_limits == ""
            assert old.id is not None
        assert _rules(upgraded, old.id).contact_limits == ()
    finally:
        upgraded.dispose()
