"""The service's job scheduler: APScheduler 3 driven by jobs kept in the product's store.

What is scheduled comes from the store (today: the drop folders of ``dialer lists source``), read
again every ``sync_s`` seconds, so a job added or removed while ``serve`` runs is picked up and
every job survives a restart. APScheduler only keeps time: its job store is in memory, and
whether a run has happened lives in the store's ``job_run`` table (``dialer.service.runs``).

- Fire once across nodes: every node schedules every job; a run is keyed by (job, scheduled
  instant) and only the node that inserts that key runs it.
- Missed while no node was up: when a node starts (or first sees a job), a job whose latest
  scheduled instant has no run yet is run once, right away. Several missed instants are
  coalesced into that one run; the runs before it are not made up.
- Late inside a running node (workers busy): ``coalesce=True`` and no misfire limit, so a late
  run still happens, once.

Jobs are plain functions: APScheduler's asyncio executor runs them on worker threads, so an
import never blocks the dial engine's event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from dialer.core.errors import UserError
from dialer.service import runs

log = logging.getLogger(__name__)

_SYNC_JOB = "sync-jobs"


@dataclass(frozen=True)
class ScheduledJob:
    """A job run every ``every_s`` seconds from ``anchor``; ``run()`` returns a line for the log."""

    id: str
    anchor: datetime
    every_s: float
    run: Callable[[], str] = field(compare=False)


JobSource = Callable[[], list[ScheduledJob]]


class JobScheduler:
    def __init__(self, store: Engine, node: str, jobs: JobSource, sync_s: float = 10.0) -> None:
        self._store = store
        self._node = node
        self._jobs = jobs
        self._sync_s = sync_s
        self._known: dict[str, ScheduledJob] = {}
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.runs_done = 0  # runs this node claimed and finished
        self.runs_failed = 0

    def start(self) -> None:
        """Start on the running event loop; catches up on runs missed while no node was up."""
        self._scheduler.start()
        self._scheduler.add_job(
            self.sync, IntervalTrigger(seconds=self._sync_s), id=_SYNC_JOB, next_run_time=datetime.now(UTC)
        )

    def shutdown(self) -> None:
        """Stop scheduling; a run in progress finishes on its worker thread."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def next_runs(self) -> dict[str, datetime]:
        return {
            job.id: job.next_run_time
            for job in self._scheduler.get_jobs()
            if job.next_run_time is not None and job.id in self._known
        }

    def sync(self) -> None:
        """Bring APScheduler's jobs in line with the store's (runs on a worker thread)."""
        wanted = {job.id: job for job in self._jobs()}
        for job_id in set(self._known) - set(wanted):
            self._scheduler.remove_job(job_id)
            del self._known[job_id]
            log.info("job %s removed", job_id)
        for job in wanted.values():
            if self._known.get(job.id) == job:
                continue
            if job.id in self._known:
                self._scheduler.remove_job(job.id)
            self._known[job.id] = job
            trigger = IntervalTrigger(seconds=job.every_s, start_date=job.anchor, timezone=UTC)
            self._scheduler.add_job(self._fire, trigger, id=job.id, args=[job.id])
            log.info("job %s every %.0f s", job.id, job.every_s)
            slot = runs.due_slot(job.anchor, job.every_s, datetime.now(UTC))
            if slot >= job.anchor.replace(microsecond=0) and not runs.was_run(self._store, job.id, slot):
                log.info("job %s missed its run at %s: running it now", job.id, slot.isoformat())
                self._scheduler.add_job(self._fire, DateTrigger(datetime.now(UTC)), args=[job.id, slot])

    def _fire(self, job_id: str, slot: datetime | None = None) -> None:
        job = self._known.get(job_id)
        if job is None:
            return
        fire_at = slot or runs.due_slot(job.anchor, job.every_s, datetime.now(UTC))
        if not runs.claim(self._store, job_id, fire_at, self._node):
            log.debug("job %s at %s: another node runs it", job_id, fire_at.isoformat())
            return
        try:
            result = job.run()
        except Exception as exc:
            self.runs_failed += 1
            if isinstance(exc, UserError):  # a folder gone or read-only: one line, no traceback
                log.error("job %s at %s failed: %s", job_id, fire_at.isoformat(), exc)
            else:
                log.exception("job %s at %s failed", job_id, fire_at.isoformat())
            runs.finish(self._store, job_id, fire_at, f"failed: {exc}")
            return
        self.runs_done += 1
        log.info("job %s at %s: %s", job_id, fire_at.isoformat(), result)
        runs.finish(self._store, job_id, fire_at, result)
