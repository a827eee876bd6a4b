"""The service's scheduler on SQLite and PostgreSQL: each scheduled run happens once across nodes,
a run missed while no node was up is made up once at start, jobs come from the store.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from campaigns.models import Campaign
from campaigns.store import session_scope
from dialer.service import runs
from dialer.service.jobs import drop_folder_jobs, source_job_id
from dialer.service.scheduler import JobScheduler, ScheduledJob
from lists.sources import add_source, remove_source

pytestmark = pytest.mark.every_store


class Counting:
    """A job that notes which node ran it and on which thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def job(self, job_id: str, anchor: datetime, every_s: float, node: str) -> ScheduledJob:
        def run() -> str:
            with self.lock:
                self.calls.append((node, threading.current_thread().name))
            return "ok"

        return ScheduledJob(job_id, anchor, every_s, run)


async def test_two_nodes_run_each_scheduled_instant_once(store: Engine) -> None:
    counting = Counting()
    anchor = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    nodes = [
        JobScheduler(store, node, lambda node=node: [counting.job("tick", anchor, 1.0, node)], sync_s=30)
        for node in ("node-a", "node-b")
    ]
    for scheduler in nodes:
        scheduler.start()
    await asyncio.sleep(4.2)
    for scheduler in nodes:
        scheduler.shutdown()
    await asyncio.sleep(0.3)

    done = runs.runs_of(store, "tick")
    slots = [r.fire_at.replace(tzinfo=UTC) for r in done]
    assert 3 <= len(done) <= 6
    assert slots == [slots[0] + timedelta(seconds=i) for i in range(len(slots))], "one run per instant"
    assert len(counting.calls) == len(done), "a scheduled instant ran on more than one node"
    assert {node for node, _ in counting.calls} <= {"node-a", "node-b"}
    assert all(thread != threading.main_thread().name for _, thread in counting.calls), (
        "ran on the event loop"
    )
    assert all(r.finished_at is not None and r.result == "ok" for r in done)


async def test_runs_missed_while_down_are_made_up_once_at_start(store: Engine) -> None:
    counting = Counting()
    now = datetime.now(UTC).replace(microsecond=0)
    anchor = now - timedelta(seconds=185)  # instants at -185, -125, -65 and -5 s
    assert runs.claim(store, "hourly", anchor + timedelta(seconds=60), "before")  # ran before the outage
    scheduler = JobScheduler(store, "node-a", lambda: [counting.job("hourly", anchor, 60.0, "node-a")])
    scheduler.start()
    await asyncio.sleep(1.5)
    scheduler.shutdown()

    assert len(counting.calls) == 1, "three missed instants are made up by one run"
    slots = [r.fire_at.replace(tzinfo=UTC) for r in runs.runs_of(store, "hourly")]
    assert slots == [anchor + timedelta(seconds=60), anchor + timedelta(seconds=180)]

    # A restart now finds the latest instant done: nothing runs again.
    again = JobScheduler(store, "node-b", lambda: [counting.job("hourly", anchor, 60.0, "node-b")])
    again.start()
    await asyncio.sleep(1.0)
    again.shutdown()
    assert len(counting.calls) == 1


async def test_drop_folder_jobs_come_from_the_store_and_survive_a_restart(
    store: Engine, tmp_path: Path
) -> None:
    with session_scope(store) as session:
        session.add(Campaign(name="spring"))
    folder = tmp_path / "in"
    folder.mkdir()
    source = add_source(store, "spring", folder, "*.csv", "1h")
    (folder / "a.csv").write_text("phone\n+79161234567\n+79161234568\n", encoding="utf-8")

    first = JobScheduler(store, "node-a", lambda: drop_folder_jobs(store, settle_s=0.1), sync_s=0.5)
    first.start()
    await asyncio.sleep(2.0)
    assert source_job_id(source.id) in first.next_runs()
    first.shutdown()
    assert (folder / "done" / "a.csv").exists(), "a new source is polled at once"

    # Restart: the job is read back from the store; its latest instant already ran, so it waits.
    (folder / "b.csv").write_text("phone\n+79161234569\n", encoding="utf-8")
    second = JobScheduler(store, "node-b", lambda: drop_folder_jobs(store, settle_s=0.1), sync_s=0.5)
    second.start()
    await asyncio.sleep(1.5)
    next_run = second.next_runs()[source_job_id(source.id)]
    assert next_run > datetime.now(UTC) + timedelta(minutes=50)
    assert (folder / "b.csv").exists()

    remove_source(store, source.id)
    await asyncio.sleep(1.2)
    assert source_job_id(source.id) not in second.next_runs(), "a removed source leaves the scheduler"
    second.shutdown()
