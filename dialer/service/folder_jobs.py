"""Running the folder jobs of ``dialer.service.tasks``; each run returns one line for the log.

- Do-not-call refresh: each settled file matching the pattern goes through ``dnc import``'s code
  (``lists.dnc.import_file``), then moves to ``done/``; a file it refuses moves to ``failed/``
  with ``NAME.reason.txt``. Numbers are only ever added: a refresh never takes a number off a
  do-not-call list (``dialer dnc remove`` does, by hand). The same file dropped twice adds nothing.
- Exports: the campaign's attempts, leads, survey answers (when it has questions) and its report
  (HTML, XLSX) are written by the same entry points as ``dialer export ...`` and ``dialer report
  campaign``, each as ``CAMPAIGN-OUTPUT-YYYYMMDDTHHMMSSZ.EXT`` through ``lists.safe_write`` (a
  temporary file renamed into place, so a reader never sees half a file).

A folder that is gone or cannot be written fails the run with one line (``InvalidInput``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine

from dialer.core.errors import InvalidInput, UserError
from dialer.reports.data import build_report
from dialer.reports.html import write_html
from dialer.reports.xlsx import write_xlsx
from dialer.service.tasks import TaskView
from dialer.services.attempts_export import export_attempts
from dialer.services.survey import export_answers, list_questions
from lists.dnc import import_file
from lists.dropfolder import move_done, move_failed, settled_files
from lists.export import export_leads
from lists.safe_write import OutputRules, write_text
from lists.sources import check_folder

_CSV_EXPORTS: dict[str, Callable[[Engine, str, TextIO], int]] = {
    "attempts": export_attempts,
    "leads": export_leads,
    "answers": export_answers,
}


def refresh_dnc(store: Engine, task: TaskView, settle_s: float = 1.0) -> str:
    folder = check_folder(task.folder, "files are moved to done/ once read")
    ready, waiting = settled_files(folder, task.pattern, settle_s)
    added = already = failed = 0
    for path in ready:
        try:
            change = import_file(store, path, task.campaign)
        except UserError as exc:
            move_failed(path, str(exc))
            failed += 1
            continue
        move_done(path)
        added, already = added + change.added, already + change.already
    scope = f"campaign {task.campaign}" if task.campaign else "the global list"
    return (
        f"do-not-call ({scope}): {len(ready) - failed} files, {added} numbers added, "
        f"{already} already there; failed {failed}, waiting {len(waiting)}"
    )


def write_exports(store: Engine, task: TaskView, now: datetime | None = None) -> str:
    folder = check_folder(task.folder, "the exports are written there")
    campaign = task.campaign or ""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    rules = OutputRules(label=f"export to {folder}")
    done: list[str] = []
    for output in task.outputs:
        name, _, ext = output.partition(".")
        target = folder / f"{_file_part(campaign)}-{name}-{stamp}.{ext or 'csv'}"
        note = _write_one(store, campaign, output, target, task.lang, rules)
        done.append(f"{output}: {note}")
    return f"exports of {campaign} to {folder}: " + "; ".join(done)


def _write_one(store: Engine, campaign: str, output: str, target: Path, lang: str, rules: OutputRules) -> str:
    if output == "answers" and not list_questions(store, campaign):
        return "no survey questions, nothing written"
    if output in _CSV_EXPORTS:
        export = _CSV_EXPORTS[output]
        rows = write_text(target, lambda handle: export(store, campaign, handle), rules)
        return f"{rows} rows in {target.name}"
    try:
        report = build_report(store, campaign, None, None)
    except InvalidInput as exc:  # no attempt yet: nothing to report, the other exports still go out
        return str(exc)
    (write_html if output == "report.html" else write_xlsx)(report, target, lang, rules)
    return target.name


def _file_part(name: str) -> str:
    """A campaign name as part of a file name: letters, digits, ``-``, ``_`` and ``.`` only."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "campaign"
