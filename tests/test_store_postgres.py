"""The store on a real PostgreSQL (and the same checks on SQLite): schema, JSON, time, concurrent claims.

The migration and time zone tests run on PostgreSQL only; the others run on both
stores, as the product must behave the same on either.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Date, cast, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from campaigns.models import Campaign, Lead, LeadList
from campaigns.service import CampaignSpec, create_campaign
from campaigns.store import MIGRATIONS, open_store, session_scope
from dialer.store import claims
from dialer.store.claims import claim_due_leads, due_count
from lists.export import export_leads
from lists.importer import ImportRequest, import_leads
from tests.engine_helpers import make_campaign, make_leads
from tests.postgres_fixtures import PostgresCluster

pytestmark = pytest.mark.every_store

NASTY = {
    "ФИО": "Пётр «Петров»",
    "quote": 'say "hi"; \\ back',
    "nul": "a\x00b",
    "emoji": "☎️ 📞",
    "nested": {"tags": ["vip", None, 3, 2.5, True], "empty": {}},
    "long": "x" * 5000,
}


@pytest.fixture
def pg_store(postgres_db_url: str) -> Iterator[Engine]:
    engine = open_store(postgres_db_url)
    yield engine
    engine.dispose()


def _head() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def test_migrations_bring_an_empty_postgresql_database_to_the_models(
    postgres_cluster: PostgresCluster,
) -> None:
    engine = open_store(postgres_cluster.create_database("dialer_migrations"))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == _head()
            assert set(inspect(conn).get_table_names()) == {*SQLModel.metadata.tables, "alembic_version"}
            # Nothing a model declares is missing from, or different in, the migrated schema.
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()
        postgres_cluster.drop_database("dialer_migrations")


def test_json_columns_round_trip_through_the_models(store: Engine) -> None:
    with session_scope(store) as session:
        campaign = Campaign(name="json", retry_rules={"busy": 600, "no_answer": 3600})
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        session.add(LeadList(campaign_id=campaign.id, name="l", columns=["ФИО", "quote", "nested"]))
        session.add(Lead(campaign_id=campaign.id, phone="+79161234567", data=NASTY))
    with Session(store) as session:
        stored = session.exec(select(Campaign).where(Campaign.name == "json")).one()
        assert stored.retry_rules == {"busy": 600, "no_answer": 3600}
        assert session.exec(select(LeadList.columns)).one() == ["ФИО", "quote", "nested"]
        assert session.exec(select(Lead.data)).one() == NASTY


def test_imported_extra_columns_round_trip_through_the_bulk_insert_and_export(
    store: Engine, tmp_path: Path
) -> None:
    create_campaign(store, CampaignSpec.build("bulk"))
    path = tmp_path / "leads.csv"
    path.write_text(
        'Телефон;ФИО;note\n8 916 123-45-67;Пётр «Петров»;"a;b""c"\n+7 916 123 45 68;;☎️\n',
        encoding="utf-8",
    )
    summary = import_leads(store, ImportRequest(path, "bulk"))
    assert summary.imported == 2
    with Session(store) as session:
        data = {lead.phone: lead.data for lead in session.exec(select(Lead))}
        assert data == {
            "+79161234567": {"ФИО": "Пётр «Петров»", "note": 'a;b"c'},
            "+79161234568": {"ФИО": "", "note": "☎️"},
        }
    out = tmp_path / "out.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        assert export_leads(store, "bulk", handle) == 2
    assert "Пётр «Петров»" in out.read_text(encoding="utf-8")


def _as_utc(value: datetime) -> datetime:
    # SQLite returns what it stored without a zone; the store only writes UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def test_aware_utc_datetimes_round_trip(store: Engine) -> None:
    moment = datetime(2025, 3, 30, 0, 59, 59, 123456, tzinfo=UTC)
    cid = make_campaign(store, "tz")
    (lead_id,) = make_leads(store, cid, ["+79161234567"], next_call_at=moment, claimed_at=moment)
    with Session(store) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.next_call_at is not None and lead.claimed_at is not None
        assert _as_utc(lead.next_call_at) == moment
        assert _as_utc(lead.claimed_at).utcoffset() == timedelta(0)
        assert _as_utc(lead.created_at).utcoffset() == timedelta(0)


def test_postgresql_keeps_the_instant_of_any_zone_and_counts_days_in_utc(pg_store: Engine) -> None:
    # PostgreSQL only: SQLite keeps no zone, which is why the store writes UTC only.
    moscow = datetime(2025, 6, 2, 2, 30, tzinfo=ZoneInfo("Europe/Moscow"))  # 1 June, 23:30 UTC
    cid = make_campaign(pg_store, "tz")
    (lead_id,) = make_leads(pg_store, cid, ["+79161234567"], next_call_at=moscow)
    with Session(pg_store) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.next_call_at is not None
        assert lead.next_call_at == moscow
        assert lead.next_call_at.utcoffset() == timedelta(0)
        # The test cluster's own zone is Vladivostok, where it is already 2 June: SQL must see UTC days.
        day = session.exec(select(cast(col(Lead.next_call_at), Date)).where(Lead.id == lead_id)).one()
        assert day == date(2025, 6, 1)


def test_two_nodes_claiming_at_once_never_take_the_same_lead(store: Engine, db_url: str) -> None:
    cid = make_campaign(store, "race")
    lead_ids = make_leads(store, cid, [f"+7916{i:07d}" for i in range(300)])
    now = datetime.now(UTC) + timedelta(minutes=1)
    nodes = {name: open_store(db_url) for name in ("node-a", "node-b")}  # two pools: two dialer nodes
    start = threading.Barrier(len(nodes))

    def claim_all(node: str) -> list[int]:
        engine = nodes[node]
        taken: list[int] = []
        start.wait()
        while due_count(engine, [cid], now) > 0:
            taken.extend(lead.lead_id for lead in claim_due_leads(engine, cid, node, now, limit=7))
        return taken

    try:
        with ThreadPoolExecutor(len(nodes)) as pool:
            futures = {node: pool.submit(claim_all, node) for node in nodes}
            claimed = {node: future.result(timeout=120) for node, future in futures.items()}
    finally:
        for engine in nodes.values():
            engine.dispose()
    a, b = (set(claimed[node]) for node in nodes)
    assert len(a) == len(claimed["node-a"]) and len(b) == len(claimed["node-b"])
    assert not a & b
    assert a | b == set(lead_ids)
    with Session(store) as session:
        holders = dict(session.exec(select(Lead.id, Lead.claimed_by)).all())
    assert all(holders[i] == "node-a" for i in a) and all(holders[i] == "node-b" for i in b)


def test_two_nodes_claiming_retries_at_once_each_take_the_due_ones_once(
    store: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every third retry not due yet; the due ones are marked a few at a time (a small window,
    # so that marks, walks and reads of the marked ones interleave between the two nodes).
    monkeypatch.setattr(claims, "PROMOTE_WINDOW", 16)
    now = datetime.now(UTC)
    cid = make_campaign(store, "retries")
    later, due = now + timedelta(hours=1), {}
    lead_ids = make_leads(store, cid, [f"+7916{i:07d}" for i in range(300)], status="scheduled")
    with store.begin() as conn:
        for place, lead_id in enumerate(lead_ids):
            at = later if place % 3 == 0 else now - timedelta(seconds=place)
            due[lead_id] = at <= now
            conn.execute(text("UPDATE lead SET next_call_at = :at WHERE id = :id"), {"at": at, "id": lead_id})
    nodes = {name: open_store(db_url) for name in ("node-a", "node-b")}
    start = threading.Barrier(len(nodes))

    def claim_all(node: str) -> list[int]:
        taken: list[int] = []
        start.wait()
        while due_count(nodes[node], [cid], now) > 0:
            taken.extend(lead.lead_id for lead in claim_due_leads(nodes[node], cid, node, now, limit=7))
        return taken

    try:
        with ThreadPoolExecutor(len(nodes)) as pool:
            futures = {node: pool.submit(claim_all, node) for node in nodes}
            claimed = {node: future.result(timeout=120) for node, future in futures.items()}
    finally:
        for engine in nodes.values():
            engine.dispose()
    a, b = set(claimed["node-a"]), set(claimed["node-b"])
    assert len(a) == len(claimed["node-a"]) and len(b) == len(claimed["node-b"]) and not a & b
    assert a | b == {lead_id for lead_id, is_due in due.items() if is_due}  # none of those not due
