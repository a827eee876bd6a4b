"""What the service schedules, read from the store: one job per drop folder (more kinds below)."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.engine import Engine

from dialer.service.scheduler import ScheduledJob
from lists.dropfolder import poll
from lists.sources import SourceView, list_sources


def source_job_id(source_id: int) -> str:
    return f"list-source-{source_id}"


def drop_folder_jobs(store: Engine, settle_s: float = 1.0) -> list[ScheduledJob]:
    def job(source: SourceView) -> ScheduledJob:
        anchor = source.created_at
        if anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=UTC)
        return ScheduledJob(
            source_job_id(source.id),
            anchor,
            float(source.every_s),
            lambda: poll(store, source, settle_s).summary(),
        )

    return [job(s) for s in list_sources(store)]


def scheduled_jobs(store: Engine, settle_s: float = 1.0) -> list[ScheduledJob]:
    """Every job the service runs, read from the store."""
    return drop_folder_jobs(store, settle_s)
