"""Each scheduled run happens once across every ``serve`` node sharing the store.

A run is keyed by its job and its scheduled instant (the same on every node, computed from the
job's anchor and interval, not from when a node woke up). The first node to insert the
``job_run`` row runs it; the others see the key taken and skip. This works the same on SQLite
and PostgreSQL and needs no lock held while the job runs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from campaigns.models import JobRun
from campaigns.store import session_scope

# A node woken a little early or late still names the same scheduled instant.
SLOT_TOLERANCE_S = 1.0


def due_slot(anchor: datetime, every_s: float, now: datetime) -> datetime:
    """The latest scheduled instant at or before ``now`` of a job run every ``every_s`` from ``anchor``."""
    elapsed = (now - anchor).total_seconds() + SLOT_TOLERANCE_S
    steps = max(0, math.floor(elapsed / every_s))
    return (anchor + timedelta(seconds=steps * every_s)).astimezone(UTC).replace(microsecond=0)


def claim(store: Engine, job_id: str, fire_at: datetime, node: str) -> bool:
    """Take the run (job, instant) for this node; False if another node already has."""
    try:
        with session_scope(store) as session:
            session.add(JobRun(job_id=job_id, fire_at=fire_at, node=node, started_at=datetime.now(UTC)))
    except IntegrityError:
        return False
    return True


def finish(store: Engine, job_id: str, fire_at: datetime, result: str) -> None:
    with session_scope(store) as session:
        run = session.get(JobRun, (job_id, fire_at))
        if run is not None:
            run.finished_at = datetime.now(UTC)
            run.result = result[:1000]
            session.add(run)


def was_run(store: Engine, job_id: str, fire_at: datetime) -> bool:
    with Session(store) as session:
        return session.get(JobRun, (job_id, fire_at)) is not None


def runs_of(store: Engine, job_id: str) -> list[JobRun]:
    with Session(store) as session:
        return list(
            session.exec(select(JobRun).where(JobRun.job_id == job_id).order_by(col(JobRun.fire_at))).all()
        )
