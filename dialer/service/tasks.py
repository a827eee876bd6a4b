"""The service's folder jobs in the store: ``dialer jobs add-dnc/add-export/list/remove``.

- ``dnc``: every ``every_s`` the files matching ``pattern`` in ``folder`` are put on the global
  do-not-call list (or one campaign's), then moved to ``done/`` (``failed/`` with the reason).
- ``export``: every ``every_s`` a campaign's ``outputs`` are written into ``folder`` under
  time-stamped names (``dialer.service.folder_jobs``).

Running them is ``dialer.service.folder_jobs``; ``dialer serve`` schedules them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import Campaign, ScheduledTask
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.core.errors import InvalidInput, NotFound
from dialer.reports.labels import check_lang
from lists.sources import check_folder, check_pattern, parse_every

DNC, EXPORT = "dnc", "export"
OUTPUTS = ("attempts", "leads", "answers", "report.html", "report.xlsx")


@dataclass(frozen=True)
class TaskView:
    id: int
    kind: str
    campaign: str | None  # dnc: None for the global list
    folder: Path
    pattern: str
    outputs: tuple[str, ...]
    lang: str
    every_s: int
    created_at: datetime


def parse_outputs(text: str) -> tuple[str, ...]:
    """``attempts,leads`` -> the outputs, in the order given; ``all`` or empty: every one."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names or names == ["all"]:
        return OUTPUTS
    unknown = [n for n in names if n not in OUTPUTS]
    if unknown:
        raise InvalidInput(f"--what {unknown[0][:40]!r}: choose from {', '.join(OUTPUTS)} or all")
    return tuple(dict.fromkeys(names))


def add_dnc_task(store: Engine, folder: Path, campaign: str | None, pattern: str, every: str) -> TaskView:
    why = "files are moved to done/ once read"
    resolved, checked, every_s = check_folder(folder, why), check_pattern(pattern), parse_every(every)
    return _add(
        store, ScheduledTask(kind=DNC, folder=str(resolved), pattern=checked, every_s=every_s), campaign
    )


def add_export_task(store: Engine, folder: Path, campaign: str, what: str, lang: str, every: str) -> TaskView:
    resolved = check_folder(folder, "the exports are written there")
    outputs, every_s = parse_outputs(what), parse_every(every)
    task = ScheduledTask(
        kind=EXPORT, folder=str(resolved), outputs=",".join(outputs), lang=check_lang(lang), every_s=every_s
    )
    return _add(store, task, campaign)


def _add(store: Engine, task: ScheduledTask, campaign: str | None) -> TaskView:
    with session_scope(store) as session:
        name = None
        if campaign is not None:
            row = find_campaign(session, campaign)
            task.campaign_id, name = row.id, row.name
        session.add(task)
        session.flush()
        return _view(task, name)


def list_tasks(store: Engine) -> list[TaskView]:
    with Session(store) as session:
        names = {c.id: c.name for c in session.exec(select(Campaign)).all()}
        tasks = session.exec(select(ScheduledTask).order_by(col(ScheduledTask.id))).all()
        return [_view(t, names.get(t.campaign_id) if t.campaign_id else None) for t in tasks]


def remove_task(store: Engine, task_id: int) -> None:
    with session_scope(store) as session:
        task = session.get(ScheduledTask, task_id)
        if task is None:
            raise NotFound(f"no scheduled job {task_id}")
        session.delete(task)


def _view(task: ScheduledTask, campaign: str | None) -> TaskView:
    assert task.id is not None
    outputs = tuple(o for o in task.outputs.split(",") if o)
    return TaskView(
        task.id,
        task.kind,
        campaign,
        Path(task.folder),
        task.pattern,
        outputs,
        task.lang,
        task.every_s,
        task.created_at,
    )
