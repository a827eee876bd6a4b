"""What the service schedules, read from the store: one job per drop folder, per do-not-call
folder and per export folder."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from dialer.core.clock import aware
from dialer.service.folder_jobs import refresh_dnc, write_exports
from dialer.service.scheduler import ScheduledJob
from dialer.service.tasks import DNC, TaskView, list_tasks
from lists.dropfolder import poll
from lists.sources import SourceView, list_sources


def source_job_id(source_id: int) -> str:
    return f"list-source-{source_id}"


def task_job_id(task: TaskView) -> str:
    return f"{'dnc-refresh' if task.kind == DNC else 'export'}-{task.id}"


def drop_folder_jobs(store: Engine, settle_s: float = 1.0) -> list[ScheduledJob]:
    def job(source: SourceView) -> ScheduledJob:
        return ScheduledJob(
            source_job_id(source.id),
            aware(source.created_at),
            float(source.every_s),
            lambda: poll(store, source, settle_s).summary(),
        )

    return [job(s) for s in list_sources(store)]


def folder_task_jobs(store: Engine, settle_s: float = 1.0) -> list[ScheduledJob]:
    def job(task: TaskView) -> ScheduledJob:
        def run() -> str:
            return refresh_dnc(store, task, settle_s) if task.kind == DNC else write_exports(store, task)

        return ScheduledJob(task_job_id(task), aware(task.created_at), float(task.every_s), run)

    return [job(t) for t in list_tasks(store)]


def scheduled_jobs(store: Engine, settle_s: float = 1.0) -> list[ScheduledJob]:
    """Every job the service runs, read from the store."""
    return drop_folder_jobs(store, settle_s) + folder_task_jobs(store, settle_s)
