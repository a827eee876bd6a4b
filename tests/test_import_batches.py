"""Imports written in small committed batches (lists.staging), on SQLite and PostgreSQL: the leads
are in the store before the import ends, yet none is dialable until the whole list is; a failed or
killed import leaves nothing dialable and is cleaned up; duplicates across batches are found by the
store, with the row of their first occurrence.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from campaigns.models import Lead, LeadList
from campaigns.service import CampaignSpec, create_campaign
from campaigns.tables import LEAD_TABLE, LIST_TABLE
from dialer.store.claims import claim_due_leads, due_count
from lists import importer, staging
from lists.importer import ImportRequest, import_leads

pytestmark = pytest.mark.every_store


def write_leads(path: Path, count: int, start: int = 0, repeat_first_at: int | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "phone"])
        for i in range(count):
            n = 0 if repeat_first_at is not None and i == repeat_first_at else start + i
            out.writerow([f"lead {i}", f"+7916{n:07d}"])
    return path


def leads(store: Engine, list_id: int | None = None) -> int:
    query = select(func.count()).select_from(Lead)
    if list_id is not None:
        query = query.where(Lead.list_id == list_id)  # type: ignore[arg-type]
    with store.connect() as conn:
        return int(conn.execute(query).scalar_one())


def lists(store: Engine) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(LeadList)).scalar_one())


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "_CHUNK_ROWS", 500)
    monkeypatch.setattr(importer, "COMMIT_ROWS", 200)


@pytest.fixture
def campaign_id(store: Engine) -> int:
    campaign = create_campaign(store, CampaignSpec.build("spring"))
    assert campaign.id is not None
    return campaign.id


@pytest.mark.usefixtures("small_batches")
def test_batches_are_stored_before_the_end_but_dialed_only_once_whole(
    store: Engine, campaign_id: int, tmp_path: Path
) -> None:
    seen: list[tuple[int, int, int]] = []  # (leads stored, claimable, claimed) after each chunk

    def progress(done: int, total: int) -> None:
        now = datetime.now(UTC)
        claimed = claim_due_leads(store, campaign_id, "node-a", now, 50)
        seen.append((leads(store), due_count(store, [campaign_id], now), len(claimed)))

    summary = import_leads(store, ImportRequest(write_leads(tmp_path / "a.csv", 2000), "spring"), progress)
    assert summary.imported == 2000
    assert len(seen) == 4
    assert [stored for stored, _, _ in seen] == [500, 1000, 1500, 2000], "batches were not committed"
    assert all(due == 0 and claimed == 0 for _, due, claimed in seen), "a list was dialable half-imported"
    assert len(claim_due_leads(store, campaign_id, "node-a", datetime.now(UTC), 50)) == 50


@pytest.mark.usefixtures("small_batches")
def test_duplicates_across_batches_name_their_first_row(
    store: Engine, campaign_id: int, tmp_path: Path
) -> None:
    path = write_leads(tmp_path / "a.csv", 1200, repeat_first_at=1100)
    summary = import_leads(store, ImportRequest(path, "spring"))
    assert (summary.imported, summary.duplicates) == (1199, 1)
    with summary.rejects_path.open(encoding="utf-8") as handle:  # type: ignore[union-attr]
        rows = list(csv.DictReader(handle))
    assert [(r["row"], r["reason"]) for r in rows] == [("1101", "duplicate of row 1")]

    again = import_leads(store, ImportRequest(write_leads(tmp_path / "b.csv", 1300), "spring"))
    assert (again.imported, again.duplicates) == (101, 1199)
    assert leads(store) == 1300


@pytest.mark.usefixtures("small_batches")
def test_a_failed_import_removes_what_it_stored(store: Engine, campaign_id: int, tmp_path: Path) -> None:
    calls = 0

    def fail_midway(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            assert leads(store) == 1000
            raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError):
        import_leads(store, ImportRequest(write_leads(tmp_path / "a.csv", 2000), "spring"), fail_midway)
    assert (leads(store), lists(store)) == (0, 0)


_KILLED_IMPORT = """
import sys, time
from campaigns.store import open_store
from lists import importer
importer._CHUNK_ROWS, importer.COMMIT_ROWS = 500, 200
store = open_store(sys.argv[1])
importer.import_leads(store, importer.ImportRequest(importer.Path(sys.argv[2]), "spring"),
                      lambda done, total: time.sleep(0.3))
"""


def test_an_import_killed_midway_leaves_nothing_dialable_and_is_cleaned(
    store: Engine, campaign_id: int, db_url: str, tmp_path: Path
) -> None:
    path = write_leads(tmp_path / "a.csv", 20_000)
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_IMPORT, db_url, str(path)], cwd=Path(__file__).parents[1]
    )
    try:
        deadline = time.monotonic() + 120
        while leads(store) < 1000:
            assert child.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    assert 0 < leads(store) < 20_000
    assert due_count(store, [campaign_id], datetime.now(UTC)) == 0, "a killed import left leads dialable"

    assert len(staging.clean_abandoned(store)) == 1
    assert (leads(store), lists(store)) == (0, 0)
    summary = import_leads(store, ImportRequest(path, "spring"))
    assert summary.imported == 20_000


def test_the_next_import_cleans_up_a_killed_one_first(
    store: Engine, campaign_id: int, tmp_path: Path
) -> None:
    stale = staging.open_batch(store, campaign_id, "old.csv", [])
    dead_owner = f"{staging.owner().rpartition(':')[0]}:999999"  # this host, a process that is gone
    with store.begin() as conn:
        conn.execute(LIST_TABLE.update().values(import_owner=dead_owner))
        conn.execute(
            LEAD_TABLE.insert().values(campaign_id=campaign_id, list_id=stale, phone="+79160000000", data={})
        )
    summary = import_leads(store, ImportRequest(write_leads(tmp_path / "a.csv", 10), "spring"))
    assert summary.imported == 10, "the dead import's lead was taken for a duplicate"
    assert (leads(store), lists(store)) == (10, 1)
