"""The service's folder jobs on SQLite and PostgreSQL: a do-not-call list refreshed from a folder,
exports written to a folder, their commands, one-line errors for unusable folders, and each
scheduled run happening once across two nodes.
"""

from __future__ import annotations

import asyncio
import csv
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import app
from dialer.core.errors import InvalidInput
from dialer.service import runs, tasks
from dialer.service.folder_jobs import refresh_dnc, write_exports
from dialer.service.jobs import scheduled_jobs, task_job_id
from dialer.service.scheduler import JobScheduler
from dialer.services import survey
from lists.dnc import check_number
from lists.export import export_leads
from tests.console_helpers import connected_call, console_campaign

pytestmark = pytest.mark.every_store


def folder(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


def on_list(store: Engine, number: str, campaign: str | None = None) -> bool:
    return bool(check_number(store, number, campaign))


def test_a_dnc_folder_adds_each_new_file_once_and_sets_bad_files_aside(store: Engine, tmp_path: Path) -> None:
    console_campaign(store, "spring")
    inbox = folder(tmp_path, "dnc")
    task = tasks.add_dnc_task(store, inbox, None, "*.csv", "1h")
    (inbox / "crm.csv").write_text("phone\n+79161234567\n8 916 123-45-68\n", encoding="utf-8")
    (inbox / "broken.csv").write_text("name,city\nИван,Москва\n", encoding="utf-8")

    line = refresh_dnc(store, task, settle_s=0.05)
    assert "2 numbers added" in line and "failed 1" in line
    assert on_list(store, "+79161234567") and on_list(store, "+79161234568")
    assert (inbox / "done" / "crm.csv").exists() and not (inbox / "crm.csv").exists()
    assert "no phone column" in (inbox / "failed" / "broken.csv.reason.txt").read_text(encoding="utf-8")

    (inbox / "crm.csv").write_text("phone\n+79161234567\n8 916 123-45-68\n", encoding="utf-8")
    again = refresh_dnc(store, task, settle_s=0.05)
    assert "0 numbers added, 2 already there" in again, "the same file dropped twice added numbers"


def test_a_campaign_dnc_folder_fills_that_campaigns_list(store: Engine, tmp_path: Path) -> None:
    console_campaign(store, "spring")
    inbox = folder(tmp_path, "dnc")
    task = tasks.add_dnc_task(store, inbox, "spring", "*.txt", "1h")
    (inbox / "list.txt").write_text("+79161234567\n", encoding="utf-8")
    refresh_dnc(store, task, settle_s=0.05)
    rows = check_number(store, "+79161234567")
    assert [r.campaign for r in rows] == ["spring"]


def test_exports_land_in_the_folder_as_the_export_commands_write_them(store: Engine, tmp_path: Path) -> None:
    cid = console_campaign(store, "spring")
    for n in range(3):
        connected_call(store, cid, "op1", f"+7916123456{n}", name=f"lead {n}")
    out = folder(tmp_path, "out")
    task = tasks.add_export_task(store, out, "spring", "all", "en", "1d")
    line = write_exports(store, task, datetime(2026, 11, 30, 6, 0, tzinfo=UTC))

    stamp = "20261130T060000Z"
    assert "answers: no survey questions" in line
    written = sorted(p.name for p in out.iterdir())
    expected = (("attempts", "csv"), ("leads", "csv"), ("report", "html"), ("report", "xlsx"))
    assert written == [f"spring-{n}-{stamp}.{e}" for n, e in expected]
    with (out / f"spring-attempts-{stamp}.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 3
    leads_file = (out / f"spring-leads-{stamp}.csv").read_text(encoding="utf-8")
    direct = tmp_path / "direct.csv"
    with direct.open("w", encoding="utf-8", newline="") as handle:
        export_leads(store, "spring", handle)
    assert leads_file == direct.read_text(encoding="utf-8")
    assert "<html" in (out / f"spring-report-{stamp}.html").read_text(encoding="utf-8")

    survey.add_question(store, "spring", "age", "How old are you?", "number", [], False)
    write_exports(store, task, datetime(2026, 11, 30, 7, 0, tzinfo=UTC))
    with (out / "spring-answers-20261130T070000Z.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 3


def unwritable_folder(tmp_path: Path) -> Path:
    """A real folder this process cannot create files in."""
    if os.geteuid() != 0:
        locked = folder(tmp_path, "locked")
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)  # 0500
        return locked
    # Root writes through permission bits; sysfs refuses new files even to root.
    for candidate in (Path("/sys/kernel"), Path("/sys")):
        if candidate.is_dir() and os.access(candidate, os.R_OK | os.X_OK):
            try:
                (candidate / ".dialer-probe").touch()
            except OSError:
                return candidate
    pytest.fail("no folder here refuses writes to root; cannot check the read-only case")


@pytest.mark.parametrize("kind", ["add-dnc", "add-export"])
def test_unusable_folders_are_one_red_line(db_url: str, tmp_path: Path, kind: str, store: Engine) -> None:
    console_campaign(store, "spring")
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    cases = {
        "does not exist": tmp_path / "missing",
        "does not exist ": plain / "sub",  # a path under a regular file
        "cannot be written": unwritable_folder(tmp_path),
    }
    runner = CliRunner()
    for expected, path in cases.items():
        args = ["--db", db_url, "jobs", kind, "--folder", str(path)]
        if kind == "add-export":
            args += ["--campaign", "spring"]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and expected.strip() in result.stderr, result.stderr
        assert "Traceback" not in result.output
    assert tasks.list_tasks(store) == []


def test_jobs_commands_add_list_and_remove(db_url: str, store: Engine, tmp_path: Path) -> None:
    console_campaign(store, "spring")
    runner = CliRunner()
    out = folder(tmp_path, "out")
    added = runner.invoke(
        app, ["--db", db_url, "jobs", "add-export", "--campaign", "spring", "--folder", str(out),
              "--what", "leads,report.xlsx", "--every", "1h"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    dnc = runner.invoke(app, ["--db", db_url, "jobs", "add-dnc", "--folder", str(folder(tmp_path, "dnc"))])
    assert dnc.exit_code == 0, dnc.output
    listed = runner.invoke(app, ["--db", db_url, "jobs", "list"])
    assert "leads,report.xlsx" in listed.output and "(global)" in listed.output
    bad = runner.invoke(
        app,
        ["--db", db_url, "jobs", "add-export", "--campaign", "spring", "--folder", str(out), "--what", "pdf"],
    )
    assert bad.exit_code == 2 and "--what 'pdf'" in bad.stderr
    first = tasks.list_tasks(store)[0].id
    assert runner.invoke(app, ["--db", db_url, "jobs", "remove", str(first)]).exit_code == 0
    assert [t.kind for t in tasks.list_tasks(store)] == ["dnc"]
    assert runner.invoke(app, ["--db", db_url, "jobs", "remove", "999"]).exit_code != 0


async def test_two_nodes_run_each_folder_job_instant_once(store: Engine, tmp_path: Path) -> None:
    cid = console_campaign(store, "spring")
    connected_call(store, cid, "op1", "+79161234560")
    out = folder(tmp_path, "out")
    export = tasks.add_export_task(store, out, "spring", "attempts", "en", "1s")
    dnc = tasks.add_dnc_task(store, folder(tmp_path, "dnc"), None, "*.csv", "1s")
    nodes = [
        JobScheduler(store, n, lambda: scheduled_jobs(store, 0.05), sync_s=30) for n in ("node-a", "node-b")
    ]
    for node in nodes:
        node.start()
    await asyncio.sleep(4.5)
    for node in nodes:
        node.shutdown()
    await asyncio.sleep(1.0)  # a run under way finishes

    export_runs = runs.runs_of(store, task_job_id(export))
    dnc_runs = runs.runs_of(store, task_job_id(dnc))
    assert len(export_runs) >= 3 and len(dnc_runs) >= 3
    assert sum(n.runs_done + n.runs_failed for n in nodes) == len(export_runs) + len(dnc_runs), (
        "a scheduled instant ran on more than one node"
    )
    assert len({r.fire_at for r in export_runs}) == len(export_runs)
    assert all(r.result.startswith("exports of spring") for r in export_runs if r.finished_at)
    assert (
        len(list(out.glob("spring-attempts-*.csv"))) >= len(export_runs) - 1
    )  # runs in one second share a name


def test_an_unknown_output_is_refused(store: Engine, tmp_path: Path) -> None:
    console_campaign(store, "spring")
    with pytest.raises(InvalidInput, match="choose from"):
        tasks.add_export_task(store, folder(tmp_path, "out"), "spring", "attempts,bogus", "en", "1h")
